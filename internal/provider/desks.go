package provider

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/tenant"
)

// District desks (registration.tagespflege_by_district, Bochum): besides one named
// childminder a family may choose "Kindertagespflege in district X"; the district's
// Fachberatung then places the child with one of its childminders. Each desk is a
// facility row (brokered) of the district, so that routing, staff scopes and lists treat
// it as any Kindertagespflege choice; it has no groups of its own, the request rules
// read the age bands and scopes of the district's childminders, and the search does not
// list it.

// officeHours are the Fachberatung's usual office hours, Monday to Friday.
const officeHours = `{"mon": [["08:00", "16:00"]], "tue": [["08:00", "16:00"]], "wed": [["08:00", "16:00"]], "thu": [["08:00", "16:00"]], "fri": [["08:00", "16:00"]]}`

// deskProvider names the provider the desks belong to: the youth welfare office.
const deskProvider = "Jugendamt – Fachberatung Kindertagespflege"

// EnsureDistrictDesks creates the desk of every district of t that has active
// Kindertagespflege and no desk yet, where the city's rules ask for desks; the desk sits
// at the middle of the district's childminders (its postcode the most common of theirs).
// Running it again changes nothing. It answers how many desks it created.
func EnsureDistrictDesks(ctx context.Context, tx bun.IDB, t *tenant.Tenant) (int, error) {
	if t.Rules == nil || !t.Rules.Registration.TagespflegeByDistrict {
		return 0, nil
	}
	var provs []uuid.UUID
	if err := tx.NewRaw(`SELECT id FROM provider WHERE tenant_id = ? AND name = ? AND kind = 'municipal' ORDER BY id LIMIT 1`, t.ID, deskProvider).Scan(ctx, &provs); err != nil {
		return 0, fmt.Errorf("provider: desk provider: %w", err)
	}
	prov := uuid.Nil
	if len(provs) > 0 {
		prov = provs[0]
	}
	created := 0
	for _, d := range t.Rules.Districts {
		var at []struct {
			PLZ          string  `bun:"plz"`
			City         string  `bun:"city"`
			Municipality string  `bun:"municipality_key"`
			Lat          float64 `bun:"lat"`
			Lon          float64 `bun:"lon"`
		}
		if err := tx.NewRaw(`SELECT mode() WITHIN GROUP (ORDER BY plz) AS plz, mode() WITHIN GROUP (ORDER BY city) AS city,
				mode() WITHIN GROUP (ORDER BY municipality_key) AS municipality_key, avg(lat) AS lat, avg(lon) AS lon
			FROM facility WHERE tenant_id = ? AND district_key = ? AND type IN ('tagespflege', 'grosstagespflege') AND status = ? AND NOT brokered
			  AND NOT EXISTS (SELECT 1 FROM facility k WHERE k.tenant_id = facility.tenant_id AND k.district_key = facility.district_key AND k.brokered)
			HAVING count(*) > 0`, t.ID, d.Key, facilityActive).Scan(ctx, &at); err != nil {
			return created, fmt.Errorf("provider: desk of %s: %w", d.Key, err)
		}
		if len(at) == 0 {
			continue // no childminders yet, or the desk exists
		}
		if prov == uuid.Nil {
			prov = uuid.Must(uuid.NewV7())
			if _, err := tx.ExecContext(ctx, `INSERT INTO provider (tenant_id, id, name, kind, email, phone) VALUES (?, ?, ?, 'municipal', nullif(?, ''), nullif(?, ''))`,
				t.ID, prov, deskProvider, d.Fachberatung.Email, d.Fachberatung.Phone); err != nil {
				return created, fmt.Errorf("provider: desk provider: %w", err)
			}
		}
		a := at[0]
		if _, err := tx.ExecContext(ctx, `INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key,
				district_key, lat, lon, age_min_months, age_max_months, email, phone, brokered, description, opening_hours)
			VALUES (?, ?, ?, 'tagespflege', ?, ?, '', ?, ?, ?, ?, ?, ?, 0, 72, nullif(?, ''), nullif(?, ''), true, ?, ?)`,
			t.ID, uuid.Must(uuid.NewV7()), prov, DeskName(d), d.Fachberatung.Name, a.PLZ, a.City, a.Municipality, d.Key, a.Lat, a.Lon,
			d.Fachberatung.Email, d.Fachberatung.Phone,
			"Die Fachberatung Kindertagespflege vermittelt Ihr Kind an eine passende Tagesmutter oder einen Tagesvater im Bezirk "+d.Name+".",
			officeHours); err != nil {
			return created, fmt.Errorf("provider: desk of %s: %w", d.Key, err)
		}
		created++
	}
	return created, nil
}

// DeskName is how a desk is listed among the choices.
func DeskName(d tenant.District) string {
	return "Kindertagespflege im Bezirk " + d.Name + " (Vermittlung durch die Fachberatung)"
}

// DeskOfFacility is the desk of facility id's district when id is a childminder
// (Kindertagespflege) there and the district has a desk; uuid.Nil otherwise. A contract
// with that childminder settles a choice of the desk.
func DeskOfFacility(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) (uuid.UUID, error) {
	var desks []uuid.UUID
	if err := tx.NewRaw(`SELECT k.id FROM facility f JOIN facility k ON k.tenant_id = f.tenant_id AND k.district_key = f.district_key AND k.brokered
		WHERE f.tenant_id = ? AND f.id = ? AND f.type IN ('tagespflege', 'grosstagespflege') AND NOT f.brokered`, tenantID, id).Scan(ctx, &desks); err != nil {
		return uuid.Nil, fmt.Errorf("provider: desk of facility: %w", err)
	}
	if len(desks) == 0 {
		return uuid.Nil, nil
	}
	return desks[0], nil
}
