package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
)

// Issue 6, done when: in Leipzig a provider admin edits a profile and adds a group; a
// facility lead enters contracts and the blue house of their Kita turns yellow in the
// search at once; the occupancy page shows the next 24 months. On the demo data, seeded
// for testNow.
func TestDoneWhenLeipzigProviderPortal(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "leipzig")
	ctx := context.Background()
	tn := b.tenant(t, "leipzig")
	lz := &city{t: tn}
	band, scope, start := tn.Rules.AgeBands[0].Key, tn.Rules.CareScopes[0], "2027-08-01"

	// A Kita with Krippe places free next August, the fewest first (as the demo seed picks
	// the lead's Kita), and its provider.
	var facility, providerID uuid.UUID
	var plz, providerKind string
	var free int
	err := b.db.QueryRowContext(ctx, `SELECT f.id, f.plz, f.provider_id, p.kind, a.free FROM facility f
		JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id
		JOIN availability a ON a.tenant_id = f.tenant_id AND a.facility_id = f.id AND a.age_band = ? AND a.care_hours = ? AND a.month = ?
		WHERE f.tenant_id = ? AND f.type = 'kita' AND a.free >= 1 ORDER BY a.free, f.name LIMIT 1`, band, scope, start, tn.ID).
		Scan(&facility, &plz, &providerID, &providerKind, &free)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Kita %s has %d free %s places for %d h from %s", facility, free, band, scope, start)

	// The provider admin edits the profile and adds a Krippe group from January 2028.
	traeger := b.staff(t, lz, "traeger", authz.RoleProvider, providerID, "")
	pa := b.browser("leipzig.localhost")
	pa.staffLogin(t, traeger)
	profile := "/staff/facilities/" + facility.String() + "/profile"
	r := pa.submit(t, profile, profile, map[string]string{"name": "Kita Leuchtturm", "description": "Waldtage jeden Freitag.",
		"concepts": "naturpaedagogik", "opening_hours.mon": "06:30-17:00", "opening_hours.tue": "06:30-17:00", "opening_hours.wed": "06:30-17:00",
		"opening_hours.thu": "06:30-17:00", "opening_hours.fri": "06:30-15:00", "age_min_months": "6", "age_max_months": "84", "lunch": "on"})
	if r.status != 303 {
		t.Fatalf("profile: %d\n%.600s", r.status, r.body)
	}
	mustContain(t, b.get(t, "leipzig.localhost", "/facilities/"+facility.String()), "Kita Leuchtturm", "Waldtage jeden Freitag.")
	groups := "/staff/facilities/" + facility.String() + "/groups"
	r = pa.submit(t, groups, groups, map[string]string{"name": "Wichtel", "age_band": band, "care_hours": fmt.Sprint(tn.Rules.CareScopes[len(tn.Rules.CareScopes)-1]),
		"valid_from": "2028-01-01", "places": "12"})
	if r.status != 303 {
		t.Fatalf("group: %d\n%.600s", r.status, r.body)
	}
	if got := b.free(t, facility, band, scope, "2028-01-01") - b.free(t, facility, band, scope, "2027-12-01"); got < 12 {
		t.Errorf("the new group adds %d free places in January, want at least 12", got)
	}

	// The lead enters contracts for Krippe children from August; the search answers with
	// the new numbers at once.
	lead := b.staff(t, lz, "leitung", authz.RoleLead, facility, "")
	br := b.browser("leipzig.localhost")
	br.staffLogin(t, lead)
	q := url.Values{"birth_date": {"2026-02-01"}, "start_date": {start}, "plz": {plz}, "radius_km": {"5"}, "type": {"kita"},
		"provider_kind": {providerKind}, "care_hours": {fmt.Sprint(scope)}}
	newPage := "/staff/contracts/new?facility=" + facility.String()
	for i := 0; i < free; i++ {
		if got := b.searchStatus(t, q, facility); got != "free" {
			t.Fatalf("before contract %d of %d the search says %q, want free (the blue house)", i+1, free, got)
		}
		r := br.submit(t, newPage, "/staff/contracts", map[string]string{"facility_id": facility.String(), "child": "new",
			"child_first_name": fmt.Sprintf("Kind%d", i), "child_last_name": "Leipzig", "child_birth_date": "2026-01-15",
			"guardian_first_name": "Elternteil", "guardian_last_name": "Leipzig", "care_hours": fmt.Sprint(scope), "start_date": start})
		if r.status != 303 {
			t.Fatalf("contract %d: %d\n%.800s", i+1, r.status, r.body)
		}
	}
	if got := b.searchStatus(t, q, facility); got != "not_free" {
		t.Errorf("after %d contracts the search says %q, want not_free (the yellow house)", free, got)
	}
	status, prof := b.api("leipzig.localhost").call(t, "GET", "/api/v1/facilities/"+facility.String()+"?"+q.Encode(), nil)
	if status != 200 || prof["availability"] != "not_free" {
		t.Errorf("profile API: %d %v", status, prof["availability"])
	}

	// The occupancy page shows the next 24 months, the lead's new contracts among them.
	occ := br.get(t, "/staff/facilities/"+facility.String()+"/occupancy")
	if n := strings.Count(occ.body, `<th scope="row">`); n < 24 {
		t.Errorf("the occupancy page shows %d month rows", n)
	}
	mustContain(t, occ, "November 2026", "Oktober 2028", "Wichtel")
}

// searchStatus is the house the search list shows for facility: "free", "not_free",
// "unknown", or "" when it is not among the results.
func (b *bundle) searchStatus(t *testing.T, q url.Values, facility uuid.UUID) string {
	t.Helper()
	page := b.get(t, "leipzig.localhost", "/?"+q.Encode()+"&per_page=100")
	for _, m := range resultIDs.FindAllStringSubmatch(page.body, -1) {
		if m[1] == facility.String() {
			list := decode[apiList](t, b.get(t, "leipzig.localhost", "/api/v1/facilities?"+q.Encode()+"&per_page=100"))
			for _, it := range list.Items {
				if it.ID == facility.String() && it.Availability != m[2] {
					t.Errorf("page says %s, API says %s", m[2], it.Availability)
				}
			}
			return m[2]
		}
	}
	return ""
}

// Done when: a childminder in Lüneburg's Landkreis appears in the search; the
// Fachberatung of a Landkreis district sets up another, which is found at once.
func TestChildmindersOfTheLandkreisAreFound(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "lueneburg")
	tn := b.tenant(t, "lueneburg")
	q := url.Values{"birth_date": {"2026-03-01"}, "start_date": {"2027-08-01"}, "plz": {"21365"}, "radius_km": {"5"},
		"type": {"tagespflege", "grosstagespflege"}, "per_page": {"100"}}
	landkreis := func() map[string]apiItem {
		list := decode[apiList](t, b.get(t, "lueneburg.localhost", "/api/v1/facilities?"+q.Encode()))
		out := map[string]apiItem{}
		for _, it := range list.Items {
			if it.Address.City != "Lüneburg" {
				out[it.Name] = it
			}
		}
		return out
	}
	before := landkreis()
	if len(before) == 0 {
		t.Fatalf("no childminder of the Landkreis around Adendorf in the search")
	}

	counsellor := b.staff(t, &city{t: tn}, "fachberatung", authz.RoleCounsellor, uuid.Nil, "adendorf")
	br := b.browser("lueneburg.localhost")
	br.staffLogin(t, counsellor)
	form := map[string]string{"type": "tagespflege", "name": "Kindertagespflege Leuchtkäfer", "person": "Maren Ahrens",
		"street": "Artlenburger Landstraße", "house_number": "12", "plz": "21365", "district": "adendorf", "phone": "0151 2345678",
		"age_min_months": "6", "age_max_months": "36", "care_hours": fmt.Sprint(tn.Rules.CareScopes[0]), "places": "5", "valid_from": "2027-01-01"}
	page := "/staff/provider/tagespflege/new"
	bad := []struct {
		change map[string]string
		want   string
	}{
		{map[string]string{"district": "bleckede", "plz": "21354"}, "Für diesen Bezirk sind Sie nicht zuständig."},
		{map[string]string{"plz": "21335"}, "liegt nicht im Bezirk Adendorf"},
		{map[string]string{"places": "6"}, "Bitte eine Zahl von 1 bis 5 angeben."},
		{map[string]string{"type": "grosstagespflege", "places": "11"}, "Bitte eine Zahl von 1 bis 10 angeben."},
		{map[string]string{"plz": "99999"}, "gehört nicht zu diesem Portal"},
	}
	for i, tc := range bad {
		fields := merged(form, tc.change)
		if r := br.submit(t, page, "/staff/provider/tagespflege", fields); r.status != 422 || !strings.Contains(r.body, tc.want) {
			t.Errorf("bad Tagespflege %d: %d, want %q", i, r.status, tc.want)
		}
	}
	r := br.submit(t, page, "/staff/provider/tagespflege", form)
	if r.status != 303 {
		t.Fatalf("new Tagespflege: %d\n%.800s", r.status, r.body)
	}
	after := landkreis()
	it, ok := after["Kindertagespflege Leuchtkäfer"]
	if !ok || it.Address.City != "Adendorf" || it.Availability != "free" || it.Provider.Kind != "childminder" {
		t.Errorf("the new childminder in the search: %v %+v", ok, it)
	}
	// The counsellor manages it; a Kita of the district is not theirs.
	mustContain(t, br.get(t, "/staff/provider"), "Kindertagespflege Leuchtkäfer")
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE tenant_id = ? AND action = 'facility.created'`, tn.ID); n != 1 {
		t.Errorf("%d creations audited", n)
	}
}
