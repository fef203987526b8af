package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
)

// A facility criterion (Kempten: "sibling attends the facility", 4 points) is claimed
// for one chosen Kita. It counts only there and only once that Kita confirmed it; the
// other Kita never counts it, cannot decide it and does not even see it (Kempten's
// facilities do not see a family's other choices). Decisions are audited, written into
// the history, and may be changed with a reason.
func TestAFacilityClaimCountsOnlyWhereTheFacilityConfirmedIt(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(time.Now().UTC().Truncate(time.Second)))
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	start := date.In(b.clock.Now()).FirstOfMonth().AddMonths(4)
	a := b.facility(t, k, "Kita Ahorn", "kita", "kempten", "", "krippe")
	c := b.facility(t, k, "Kita Buche", "kita", "kempten", "", "krippe")
	f := b.family(t, "kempten", "pia@kempten.test", "87435", start.AddMonths(-17).String())

	// Garbage: the facility must be named and be one of the choices.
	for _, tc := range []struct {
		sibling any
		want    string
	}{
		{true, "criteria.sibling:criterion_facility_missing"},
		{"Kita Ahorn", "criteria.sibling:criterion_facility_missing"},
		{uuid.NewString(), "criteria.sibling:criterion_facility_not_chosen"},
		{strings.Repeat("x", 3000), "criteria.sibling:criterion_facility_missing"},
	} {
		body := request(f.child, start.String(), 35, a, c)
		body["criteria"], body["declaration"] = map[string]any{"sibling": tc.sibling}, true
		status, got := f.api.call(t, "POST", "/api/v1/applications", body)
		if status != 422 || !has(fieldErrors(got), tc.want) {
			t.Errorf("sibling %.40v: %d %v, want %s", tc.sibling, status, fieldErrors(got), tc.want)
		}
	}
	body := request(f.child, start.String(), 35, a, c)
	body["criteria"], body["declaration"] = map[string]any{"sibling": a.String(), "employment": true}, true
	sub := f.file(t, body)
	id := sub["id"].(string)
	if claims := sub["claims"].([]any); len(claims) != 1 || claims[0].(map[string]any)["status"] != "pending" ||
		claims[0].(map[string]any)["facility"] != "Kita Ahorn" {
		t.Fatalf("the family's claim: %v", sub["claims"])
	}

	sc := &city{t: k}
	leadA, leadC := b.staff(t, sc, "leitung-a", authz.RoleLead, a, ""), b.staff(t, sc, "leitung-b", authz.RoleLead, c, "")
	apiA, apiC := b.api("kempten.localhost"), b.api("kempten.localhost")
	apiA.staffLogin(t, leadA)
	apiC.staffLogin(t, leadC)
	points := func(api *api) (float64, []any) {
		t.Helper()
		_, list := api.call(t, "GET", "/api/v1/staff/requests", nil)
		for _, it := range list["items"].([]any) {
			if r := it.(map[string]any); r["application_id"] == id {
				claims, _ := r["claims"].([]any)
				return r["points"].(float64), claims
			}
		}
		t.Fatalf("request %s not in the list: %v", id, list)
		return 0, nil
	}
	// Pending: employment (3) counts, the sibling (4) not yet, but Kita Ahorn sees it waiting.
	if p, claims := points(apiA); p != 3 || len(claims) != 1 || claims[0].(map[string]any)["status"] != "pending" {
		t.Errorf("Kita Ahorn before deciding: %v points, claims %v; want 3 and the sibling pending", p, claims)
	}
	if p, claims := points(apiC); p != 3 || len(claims) != 0 {
		t.Errorf("Kita Buche: %v points, claims %v; want 3 and none", p, claims)
	}
	_, seen := apiC.call(t, "GET", "/api/v1/staff/requests/"+id, nil)
	if strings.Contains(jsonString(seen), a.String()) || seen["claims"] != nil {
		t.Errorf("Kita Buche sees the claim for Kita Ahorn: %v %v", seen["criteria"], seen["claims"])
	}

	claimPath := "/api/v1/staff/requests/" + id + "/claims/sibling"
	// Another facility's staff may not decide it.
	if status, got := apiC.call(t, "POST", claimPath, map[string]any{"decision": "confirm"}); status != 403 || errCode(got) != "claim_other_facility" {
		t.Errorf("Kita Buche confirms: %d %v", status, got)
	}
	// Garbage.
	for _, tc := range []struct {
		path string
		body any
		code int
		want string
	}{
		{claimPath, map[string]any{"decision": "maybe"}, 422, "decision:claim_decision_unknown"},
		{claimPath, map[string]any{"decision": ""}, 422, "decision:claim_decision_unknown"},
		{claimPath, map[string]any{"decision": "reject"}, 422, "note:claim_reason_required"},
		{claimPath, map[string]any{"decision": "confirm", "note": strings.Repeat("x", 1001)}, 422, "note:field_too_long"},
		{claimPath, map[string]any{"decision": 7}, 400, ""},
		{"/api/v1/staff/requests/" + id + "/claims/employment", map[string]any{"decision": "confirm"}, 404, ""}, // a global criterion
		{"/api/v1/staff/requests/" + id + "/claims/nope", map[string]any{"decision": "confirm"}, 404, ""},
		{"/api/v1/staff/requests/" + id + "/claims/staff_child%27--", map[string]any{"decision": "confirm"}, 404, ""},
		{"/api/v1/staff/requests/" + uuid.NewString() + "/claims/sibling", map[string]any{"decision": "confirm"}, 404, ""},
		{"/api/v1/staff/requests/not-a-uuid/claims/sibling", map[string]any{"decision": "confirm"}, 404, ""},
	} {
		status, got := apiA.call(t, "POST", tc.path, tc.body)
		if status != tc.code || (tc.want != "" && !has(fieldErrors(got), tc.want)) {
			t.Errorf("POST %s %v: %d %v, want %d %s", tc.path, tc.body, status, fieldErrors(got), tc.code, tc.want)
		}
	}

	// Kita Ahorn confirms: 7 points there, still 3 at Kita Buche.
	status, v := apiA.call(t, "POST", claimPath, map[string]any{"decision": "confirm", "note": "Bruder Max in der Igelgruppe"})
	if status != 200 || v["claims"].([]any)[0].(map[string]any)["status"] != "confirmed" {
		t.Fatalf("confirm: %d %v", status, v)
	}
	if ch := v["choices"].([]any); len(ch) != 1 || ch[0].(map[string]any)["points"] != 7.0 {
		t.Errorf("the choice's points after confirming: %v", ch)
	}
	if p, _ := points(apiA); p != 7 {
		t.Errorf("Kita Ahorn after confirming: %v points, want 7", p)
	}
	if p, _ := points(apiC); p != 3 {
		t.Errorf("Kita Buche after Kita Ahorn confirmed: %v points, want 3", p)
	}
	// The same decision again changes nothing; a change needs a reason.
	if status, _ := apiA.call(t, "POST", claimPath, map[string]any{"decision": "confirm"}); status != 200 {
		t.Errorf("confirm twice: %d", status)
	}
	if status, got := apiA.call(t, "POST", claimPath, map[string]any{"decision": "reject"}); status != 422 || !has(fieldErrors(got), "note:claim_reason_required") {
		t.Errorf("reject without a reason: %d %v", status, fieldErrors(got))
	}
	if status, _ := apiA.call(t, "POST", claimPath, map[string]any{"decision": "reject", "note": "Der Bruder ist in der Kita Ahorn nicht angemeldet"}); status != 200 {
		t.Fatalf("reject: %d", status)
	}
	if p, claims := points(apiA); p != 3 || claims[0].(map[string]any)["status"] != "rejected" {
		t.Errorf("Kita Ahorn after rejecting: %v points, %v", p, claims)
	}
	if status, got := apiA.call(t, "POST", claimPath, map[string]any{"decision": "confirm"}); status != 422 || !has(fieldErrors(got), "note:claim_reason_required") {
		t.Errorf("confirm a rejected claim without a reason: %d %v", status, fieldErrors(got))
	}

	// The family sees the decision in the request and its history.
	_, mine := f.api.call(t, "GET", "/api/v1/applications/"+id, nil)
	if cl := mine["claims"].([]any)[0].(map[string]any); cl["status"] != "rejected" || !strings.Contains(cl["note"].(string), "nicht angemeldet") {
		t.Errorf("the family's view of the claim: %v", cl)
	}
	if h := jsonString(mine["history"]); !strings.Contains(h, "Kita Ahorn: sibling confirmed Bruder Max") || !strings.Contains(h, "Kita Ahorn: sibling rejected") {
		t.Errorf("history: %s", h)
	}
	// Audited: two decisions, with the lead named.
	if rows := b.auditRows(t, k.ID, "action = 'request.claim_decided'"); len(rows) != 2 || !strings.Contains(rows[0], id) {
		t.Errorf("audit: %v", rows)
	}

	// Another city's staff with the same id: not found.
	l := b.tenant(t, "leipzig")
	lc := &city{t: l}
	other := b.staff(t, lc, "leitung", authz.RoleLead, b.facility(t, l, "Kita Leipzig", "kita", "leipzig", "", "krippe"), "")
	apiL := b.api("leipzig.localhost")
	apiL.staffLogin(t, other)
	if status, _ := apiL.call(t, "POST", claimPath, map[string]any{"decision": "confirm", "note": "x"}); status != 404 {
		t.Errorf("another city's lead: %d, want 404", status)
	}
	// A token of Kempten on Leipzig's host is not accepted at all.
	apiA.host = "leipzig.localhost"
	if status, _ := apiA.call(t, "POST", claimPath, map[string]any{"decision": "confirm", "note": "x"}); status != 401 && status != 403 && status != 404 {
		t.Errorf("Kempten's token on Leipzig: %d", status)
	}

	// The page: Kita Ahorn's lead confirms again through the form, with a reason.
	br := b.browser("kempten.localhost")
	br.staffLogin(t, leadA)
	page := "/staff/requests/" + id
	r := br.get(t, page)
	if !contains(r.body, `action="/staff/requests/`+id+`/claims/sibling"`, "Geschwisterkind in der Einrichtung", "abgelehnt") {
		t.Fatalf("the request page shows no claim form:\n%.3000s", r.body)
	}
	r = br.submit(t, page, page+"/claims/sibling", map[string]string{"decision": "confirm", "note": "Anmeldung des Bruders nachgereicht"})
	if r.status != 303 {
		t.Fatalf("confirm by form: %d %.500s", r.status, r.body)
	}
	if p, _ := points(b.apiAs(t, "kempten.localhost", leadA)); p != 7 {
		t.Errorf("after confirming by form: %v points, want 7", p)
	}
	r = br.submit(t, page, page+"/claims/sibling", map[string]string{"decision": "reject"})
	if r.status != 422 || !strings.Contains(r.body, "Bitte begründen Sie die Entscheidung.") {
		t.Errorf("reject by form without a reason: %d", r.status)
	}
	// Kita Buche's page shows neither the claim nor a form for it. (The history names the
	// facility of every decision, as it does for the facilities' decisions on choices.)
	bc := b.browser("kempten.localhost")
	bc.staffLogin(t, leadC)
	if r := bc.get(t, page); r.status != 200 || strings.Contains(r.body, "/claims/") || strings.Contains(r.body, "Angaben für eine Einrichtung") {
		t.Errorf("Kita Buche's page: %d, shows the claim: %v", r.status, strings.Contains(r.body, "/claims/"))
	}
	// The family's form asks for the Kita of a facility criterion; its request page shows
	// where the claim stands.
	pb := b.browser("kempten.localhost")
	pb.parentLogin(t, f.email)
	if r := pb.get(t, "/applications/new"); !contains(r.body, `<select id="f-criteria.sibling" name="criteria.sibling"`, `<option value="`+a.String()+`">Kita Ahorn`) {
		t.Errorf("the form does not let the family name the Kita of the sibling:\n%.2000s", r.body)
	}
	if r := pb.get(t, "/applications/"+id); !contains(r.body, "Geschwisterkind in der Einrichtung – Kita Ahorn: bestätigt") {
		t.Errorf("the family's request page does not show the confirmed claim:\n%.3000s", r.body)
	}
	if n := b.count(t, `SELECT count(*) FROM application_claim WHERE tenant_id = ?`, k.ID); n != 1 {
		t.Errorf("%d decisions stored, want one per criterion and facility", n)
	}
}

// apiAs is an API client of host signed in as m.
func (b *bundle) apiAs(t *testing.T, host string, m *member) *api {
	t.Helper()
	a := b.api(host)
	a.staffLogin(t, m)
	return a
}
