package provider

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
)

// What the requests (application, casework) read of facilities: the lists a family or
// staff choose from, the facilities of a staff member's scope, the names beside a
// request's choices and what the request rules check of a chosen facility.

// facilityActive is the status of a facility that takes children.
const facilityActive = "active"

// Listed is a facility as a list to choose from names it.
type Listed struct {
	ID   uuid.UUID `bun:"id"`
	Name string    `bun:"name"`
	Type string    `bun:"type"`
	City string    `bun:"city"`
	// Brokered: a district desk (desks.go), listed first among Kindertagespflege.
	Brokered bool `bun:"brokered"`
}

// ActiveFacilities lists the city's facilities that take children, by name.
func ActiveFacilities(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) ([]Listed, error) {
	var out []Listed
	if err := tx.NewRaw(`SELECT id, name, type, city, brokered FROM facility WHERE tenant_id = ? AND status = ? ORDER BY brokered DESC, name, id`,
		tenantID, facilityActive).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("provider: active facilities: %w", err)
	}
	return out, nil
}

// FacilitiesInScope lists the facilities the caller's roles reach (authz.FacilityScope),
// by name; limit caps the list, 0 lists all.
func FacilitiesInScope(ctx context.Context, tx bun.IDB, c auth.Caller, limit int) ([]Listed, error) {
	scope, args := authz.FacilityScope(c.Principal, "f")
	q := `SELECT f.id, f.name, f.type, f.city FROM facility f WHERE f.tenant_id = ? AND ` + scope + ` ORDER BY f.name, f.id`
	args = append([]any{c.Tenant.ID}, args...)
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	var out []Listed
	if err := tx.NewRaw(q, args...).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("provider: facilities in scope: %w", err)
	}
	return out, nil
}

// Summary names a facility beside a request's choice.
type Summary struct {
	Name     string `bun:"name"`
	Type     string `bun:"type"`
	District string `bun:"district_key"` // "" outside districts
}

// Summaries names the facilities ids; unknown ids are left out.
func Summaries(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]Summary, error) {
	out := map[uuid.UUID]Summary{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID uuid.UUID `bun:"id"`
		Summary
	}
	if err := tx.NewRaw(`SELECT id, name, type, coalesce(district_key, '') AS district_key FROM facility WHERE tenant_id = ? AND id = ANY(?::uuid[])`,
		tenantID, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("provider: summaries: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Summary
	}
	return out, nil
}

// Choosable is what the request rules check of a chosen facility: where it is, whether
// it takes children, and the longest weekly care its groups offer per age band.
type Choosable struct {
	ID           uuid.UUID      `bun:"id"`
	Name         string         `bun:"name"`
	Type         string         `bun:"type"`
	Municipality string         `bun:"municipality_key"`
	District     string         `bun:"district_key"`
	Status       string         `bun:"status"`
	Bands        map[string]int `bun:"bands,type:jsonb"`
	Lat          float64        `bun:"lat"` // where it is (the request form's distances)
	Lon          float64        `bun:"lon"`
}

// Active tells whether the facility takes children.
func (c Choosable) Active() bool { return c.Status == facilityActive }

// Choosables reads the facilities ids (unknown ids, other cities' too, are left out). A
// district desk (desks.go) offers what the district's childminders offer together.
func Choosables(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) ([]Choosable, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []Choosable
	if err := tx.NewRaw(`SELECT f.id, f.name, f.type, f.municipality_key, coalesce(f.district_key, '') AS district_key, f.status, f.lat, f.lon,
			coalesce((SELECT jsonb_object_agg(g.age_band, g.hours) FROM (SELECT age_band, max(care_hours) AS hours FROM facility_group
			 WHERE tenant_id = f.tenant_id AND (facility_id = f.id OR (f.brokered AND facility_id IN (SELECT m.id FROM facility m
			   WHERE m.tenant_id = f.tenant_id AND m.district_key = f.district_key AND m.status = f.status AND NOT m.brokered
			   AND m.type IN ('tagespflege', 'grosstagespflege')))) GROUP BY age_band) g), '{}') AS bands
		FROM facility f WHERE f.tenant_id = ? AND f.id = ANY(?::uuid[])`, tenantID, pgdialect.Array(ids)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("provider: choosables: %w", err)
	}
	return out, nil
}

// FacilityByRef finds a facility by its id or by its exact name (case-insensitive, and
// only when one facility has it); sql.ErrNoRows when there is none.
func FacilityByRef(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ref string) (uuid.UUID, error) {
	var id uuid.UUID
	if parsed, err := uuid.Parse(ref); err == nil {
		err := tx.QueryRowContext(ctx, `SELECT id FROM facility WHERE tenant_id = ? AND id = ?`, tenantID, parsed).Scan(&id)
		return id, err
	}
	var ids []uuid.UUID
	if err := tx.NewRaw(`SELECT id FROM facility WHERE tenant_id = ? AND lower(name) = lower(?) LIMIT 2`, tenantID, ref).Scan(ctx, &ids); err != nil {
		return uuid.Nil, err
	}
	if len(ids) != 1 {
		return uuid.Nil, sql.ErrNoRows
	}
	return ids[0], nil
}
