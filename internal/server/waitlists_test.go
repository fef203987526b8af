package server_test

import (
	"strings"
	"testing"
	"time"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
)

// Leipzig's done-when of the waitlist network: a lead enters by hand a contract for a
// child who waits at three Kitas. The request becomes contracted at that Kita, its other
// choices end, the child's request for another Kita year stays, the family is told, and
// the other Kitas no longer see the child waiting.
func TestAContractByHandEndsTheChildsOtherWaiting(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(time.Now().UTC().Truncate(time.Second)))
	l := b.tenant(t, "leipzig")
	b.place(t, l, "04103", "leipzig")
	start := date.In(b.clock.Now()).FirstOfMonth().AddMonths(8) // beyond Leipzig's six months of lead time
	a := b.facility(t, l, "Kita Auwald", "kita", "leipzig", "", "krippe")
	c := b.facility(t, l, "Kita Connewitz", "kita", "leipzig", "", "krippe")
	d := b.facility(t, l, "Kita Dölitz", "kita", "leipzig", "", "krippe")
	b.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places) SELECT tenant_id, id, ?, 5 FROM facility_group WHERE tenant_id = ?`,
		date.In(b.clock.Now()).AddMonths(-12), l.ID)
	f := b.family(t, "leipzig", "mara@leipzig.test", "04103", start.AddMonths(-14).String())
	now := f.file(t, request(f.child, start.String(), 35, a, c, d))
	later := f.file(t, request(f.child, start.AddMonths(14).String(), 35, c))

	lc := &city{t: l}
	leadA, leadC := b.staff(t, lc, "leitung-a", authz.RoleLead, a, ""), b.staff(t, lc, "leitung-c", authz.RoleLead, c, "")
	apiA, apiC := b.api("leipzig.localhost"), b.api("leipzig.localhost")
	apiA.staffLogin(t, leadA)
	apiC.staffLogin(t, leadC)
	end := start.AddMonths(12).AddDays(-1)
	status, k := apiA.call(t, "POST", "/api/v1/staff/contracts", map[string]any{"facility_id": a.String(), "child_id": f.child,
		"care_hours": 35, "start_date": start.String(), "end_date": end.String()})
	if status != 201 {
		t.Fatalf("contract by hand: %d %v", status, k)
	}

	_, app := f.api.call(t, "GET", "/api/v1/applications/"+now["id"].(string), nil)
	choices, _ := app["choices"].([]any)
	if app["status"] != "contracted" || len(choices) != 3 {
		t.Fatalf("the request after the contract: %v", app)
	}
	for i, want := range []string{"accepted", "ended", "ended"} {
		if got := choices[i].(map[string]any)["status"]; got != want {
			t.Errorf("choice %d: %v, want %s", i+1, got, want)
		}
	}
	if _, next := f.api.call(t, "GET", "/api/v1/applications/"+later["id"].(string), nil); next["status"] != "submitted" {
		t.Errorf("the request for a later Kita year: %v, want it still submitted", next["status"])
	}
	ms := b.mails(t, "application_placed")
	if len(ms) != 1 || ms[0].To != "mara@leipzig.test" || !strings.Contains(ms[0].Text, "Kita Auwald") {
		t.Errorf("the family's notice: %+v", ms)
	}
	// Kita Connewitz still sees the later request waiting, the placed one no longer.
	_, list := apiC.call(t, "GET", "/api/v1/staff/requests", nil)
	for _, it := range list["items"].([]any) {
		r := it.(map[string]any)
		if r["id"] == now["id"] && (r["status"] == "submitted" || r["status"] == "in_review") {
			t.Errorf("Kita Connewitz still sees the placed child waiting: %v", r)
		}
	}
	if !strings.Contains(jsonString(list), later["id"].(string)) {
		t.Errorf("Kita Connewitz lost the request for the later year: %v", list)
	}
}
