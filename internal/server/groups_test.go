package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
)

// Groups and their places over time through the real router, and the occupancy they make.

func TestGroupsWithPlacesOverTimeAndTheirOccupancy(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	br := b.browser("kempten.localhost")
	br.staffLogin(t, lead)
	id := k.facilities[0].String()
	page := "/staff/facilities/" + id + "/groups"

	// A Krippe group that opens in January with 10 places, 12 from next August.
	r := br.submit(t, page, page, map[string]string{"name": "Mäuse", "age_band": "krippe", "care_hours": "45",
		"valid_from": "2027-01-01", "valid_until": "2027-08-01", "places": "10"})
	if r.status != 303 {
		t.Fatalf("new group: %d\n%.600s", r.status, r.body)
	}
	var group uuid.UUID
	if err := b.db.QueryRow(`SELECT id FROM facility_group WHERE facility_id = ? AND name = 'Mäuse'`, k.facilities[0]).Scan(&group); err != nil {
		t.Fatal(err)
	}
	groupPage := page + "/" + group.String()
	r = br.submit(t, groupPage, groupPage, map[string]string{"name": "Mäuse", "age_band": "krippe", "care_hours": "45",
		"periods.0.valid_from": "2027-01-01", "periods.0.valid_until": "2027-08-01", "periods.0.places": "10",
		"periods.1.valid_from": "01.08.2027", "periods.1.places": "12"})
	if r.status != 303 {
		t.Fatalf("second period: %d\n%.600s", r.status, r.body)
	}
	// The availability follows at once: places from January, more from August.
	if n := b.count(t, `SELECT capacity FROM availability WHERE facility_id = ? AND age_band = 'krippe' AND care_hours = 45 AND month = '2027-01-01'`, k.facilities[0]); n != 10 {
		t.Errorf("capacity in January: %d", n)
	}
	if n := b.count(t, `SELECT capacity FROM availability WHERE facility_id = ? AND age_band = 'krippe' AND care_hours = 45 AND month = '2027-09-01'`, k.facilities[0]); n != 12 {
		t.Errorf("capacity in September: %d", n)
	}
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE action IN ('facility.group_created', 'facility.group_changed') AND object_id = ?`, id); n != 2 {
		t.Errorf("%d group changes audited", n)
	}

	// Bad input: overlapping periods, negative and absurd places, an unknown band; nothing saved.
	bad := []map[string]string{
		{"name": "Mäuse", "age_band": "krippe", "care_hours": "45", "periods.0.valid_from": "2027-01-01", "periods.0.places": "10",
			"periods.1.valid_from": "2027-06-01", "periods.1.places": "12"},
		{"name": "Mäuse", "age_band": "krippe", "care_hours": "45", "periods.0.valid_from": "2027-01-01", "periods.0.places": "-3"},
		{"name": "Mäuse", "age_band": "krippe", "care_hours": "45", "periods.0.valid_from": "2027-01-01", "periods.0.places": "100000"},
		{"name": "Mäuse", "age_band": "drachen", "care_hours": "7", "periods.0.valid_from": "2027-02-30", "periods.0.places": "12"},
	}
	wants := []string{"überschneidet sich mit Zeitraum 1", "Bitte eine Zahl von 0 bis 200 angeben.", "Bitte eine Zahl von 0 bis 200 angeben.", "Unbekannter Wert"}
	for i, fields := range bad {
		r := br.submit(t, groupPage, groupPage, fields)
		if r.status != 422 || !strings.Contains(r.body, wants[i]) {
			t.Errorf("bad group %d: %d, want %q", i, r.status, wants[i])
		}
	}
	if n := b.count(t, `SELECT count(*) FROM group_capacity WHERE group_id = ?`, group); n != 2 {
		t.Errorf("the bad forms changed the periods: %d", n)
	}

	// Contracts in the group make the occupancy; more children than places warn.
	for i := 0; i < 13; i++ {
		child, family := uuid.New(), uuid.New()
		b.exec(`INSERT INTO family (tenant_id, id) VALUES (?, ?)`, k.t.ID, family)
		b.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, 'Kind', ?, '2026-01-15')`,
			k.t.ID, child, family, "Nr"+string(rune('a'+i)))
		b.exec(`INSERT INTO contract (tenant_id, child_id, facility_id, group_id, care_hours, start_date, end_date, source)
			VALUES (?, ?, ?, ?, 35, '2027-09-01', '2028-08-01', 'manual')`, k.t.ID, child, k.facilities[0], group)
	}
	occ := br.get(t, "/staff/facilities/"+id+"/occupancy")
	mustContain(t, occ, "Mäuse", "Überbelegung", "September 2027")
	csv := br.get(t, "/staff/facilities/"+id+"/occupancy.csv")
	if csv.status != 200 || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", csv.status, csv.header.Get("Content-Type"))
	}
	if !strings.Contains(csv.body, "Mäuse;krippe;2027-09;12;13;0;-1;ja") || !strings.Contains(csv.body, "Mäuse;krippe;2027-01;10;0;0;10;nein") {
		t.Errorf("occupancy CSV:\n%.2000s", csv.body)
	}
	a := b.api("kempten.localhost")
	a.staffLogin(t, lead)
	status, body := a.call(t, "GET", "/api/v1/staff/facilities/"+id+"/occupancy", nil)
	if status != 200 || body["over_capacity"] != true || len(body["total"].([]any)) != 24 {
		t.Errorf("API occupancy: %d %v", status, body["over_capacity"])
	}
	// The lead's provider-wide view holds their facility only.
	status, body = a.call(t, "GET", "/api/v1/staff/occupancy", nil)
	if items, _ := body["items"].([]any); status != 200 || len(items) != 1 {
		t.Errorf("provider-wide: %d %d", status, len(items))
	}

	// A group with contracts cannot be deleted; the care scope cannot fall below theirs.
	if r := br.submit(t, groupPage, groupPage+"/delete", nil); r.status != 409 {
		t.Errorf("delete a group in use: %d", r.status)
	}
	r = br.submit(t, groupPage, groupPage, map[string]string{"name": "Mäuse", "age_band": "krippe", "care_hours": "25",
		"periods.0.valid_from": "2027-01-01", "periods.0.places": "12"})
	mustContain(t, r, "Verträge mit 35 Stunden")

	// Someone else's facility or group, or another city's: 404.
	for _, path := range []string{"/staff/facilities/" + k.facilities[1].String() + "/groups", "/staff/facilities/" + bo.facilities[0].String() + "/groups",
		page + "/" + uuid.NewString(), "/staff/facilities/" + bo.facilities[0].String() + "/occupancy"} {
		if r := br.get(t, path); r.status != 404 {
			t.Errorf("%s: %d", path, r.status)
		}
	}
	if status, _ := a.call(t, "POST", "/api/v1/staff/facilities/"+k.facilities[1].String()+"/groups", map[string]any{"name": "X", "age_band": "krippe",
		"care_hours": 45, "periods": []map[string]any{{"valid_from": "2027-01-01", "places": 5}}}); status != 404 {
		t.Errorf("API group at a facility out of scope: %d", status)
	}
}

func TestKindertagespflegeKeepsTheLandsLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	counsellor := b.staff(t, k, "fachberatung", authz.RoleCounsellor, uuid.Nil, k.district)
	a := b.api("kempten.localhost")
	a.staffLogin(t, counsellor)
	path := "/api/v1/staff/facilities/" + k.tagespflege.String() + "/groups"
	limit := k.t.Rules.FacilityLimits.TagespflegeMaxPlaces
	group := func(places int, from string) map[string]any {
		return map[string]any{"name": "Tagespflegegruppe", "age_band": "krippe", "care_hours": 35,
			"periods": []map[string]any{{"valid_from": from, "places": places}}}
	}
	if status, body := a.call(t, "POST", path, group(limit, "2027-01-01")); status != 201 {
		t.Fatalf("%d %v", status, body)
	}
	// A second group that would pass the limit from August is refused, in the user's language.
	a.lang = "en"
	status, body := a.call(t, "POST", path, group(1, "2027-08-01"))
	if status != 422 || !strings.Contains(body["error"].(map[string]any)["message"].(string), fmt.Sprintf("at most %d are allowed", limit)) {
		t.Errorf("%d %v", status, body)
	}
	if n := b.count(t, `SELECT count(*) FROM facility_group WHERE facility_id = ?`, k.tagespflege); n != 1 {
		t.Errorf("%d groups after the refused one", n)
	}
	// The counsellor reaches only the Tagespflege of their district.
	if status, _ := a.call(t, "GET", "/api/v1/staff/facilities/"+k.facilities[0].String()+"/groups", nil); status != 404 {
		t.Errorf("a Kita: %d", status)
	}
}
