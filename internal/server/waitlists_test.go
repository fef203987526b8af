package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
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
	b.placesEverywhere(t, l)
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

// A contract ended early gives back what it had ended, where the city says so (Leipzig:
// contract.reopen_requests). The contract by hand covers two Kita years and so settles
// both of the child's requests; ended after the first year, the second year's request
// waits again at its old filing date while the first stays contracted. Cancelled (a
// mistake), the first one waits again too, its choices open, the family told each time.
func TestAContractEndedEarlyGivesTheRequestsBack(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(time.Now().UTC().Truncate(time.Second)))
	l := b.tenant(t, "leipzig")
	b.place(t, l, "04103", "leipzig")
	start := date.In(b.clock.Now()).FirstOfMonth().AddMonths(8)
	a := b.facility(t, l, "Kita Auwald", "kita", "leipzig", "", "krippe")
	c := b.facility(t, l, "Kita Connewitz", "kita", "leipzig", "", "krippe")
	b.placesEverywhere(t, l)
	f := b.family(t, "leipzig", "jonas@leipzig.test", "04103", start.AddMonths(-14).String())
	first := f.file(t, request(f.child, start.String(), 35, a, c))
	second := f.file(t, request(f.child, start.AddMonths(14).String(), 35, c))

	lead := b.staff(t, &city{t: l}, "leitung-a", authz.RoleLead, a, "")
	api := b.api("leipzig.localhost")
	api.staffLogin(t, lead)
	status, k := api.call(t, "POST", "/api/v1/staff/contracts", map[string]any{"facility_id": a.String(), "child_id": f.child,
		"care_hours": 35, "start_date": start.String(), "end_date": start.AddMonths(24).AddDays(-1).String()})
	if status != 201 {
		t.Fatalf("contract by hand: %d %v", status, k)
	}
	statusOf := func(app map[string]any) (string, []string) { return requestStatus(t, f, app) }
	if s1, _ := statusOf(first); s1 != "contracted" {
		t.Fatalf("first year after the contract: %s", s1)
	}
	if s2, _ := statusOf(second); s2 != "closed" {
		t.Fatalf("second year after the contract: %s", s2)
	}

	// Ended after ten months: the second year is no longer covered.
	var filedAt time.Time
	if err := b.db.QueryRowContext(context.Background(), `SELECT submitted_at FROM application WHERE id = ?`, first["id"]).Scan(&filedAt); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(24 * time.Hour)
	kid := k["id"].(string)
	if status, body := api.call(t, "POST", "/api/v1/staff/contracts/"+kid+"/terminate", map[string]any{"end_date": start.AddMonths(10).String()}); status != 200 && status != 204 {
		t.Fatalf("terminate: %d %v", status, body)
	}
	if s1, _ := statusOf(first); s1 != "contracted" {
		t.Errorf("first year after the early end: %s, want still contracted", s1)
	}
	if s2, ch := statusOf(second); s2 != "submitted" || strings.Join(ch, ",") != "pending" {
		t.Errorf("second year after the early end: %s %v, want submitted with its choice pending", s2, ch)
	}
	if ms := b.mails(t, "application_reopened"); len(ms) != 1 || !strings.Contains(ms[0].Text, "Kita Auwald") {
		t.Errorf("the family's notice of the reopened request: %+v", ms)
	}

	// Cancelled: the contract never held a place; the first year waits again, at both Kitas.
	b.clock.Advance(24 * time.Hour)
	if status, body := api.call(t, "POST", "/api/v1/staff/contracts/"+kid+"/cancel", nil); status != 200 && status != 204 {
		t.Fatalf("cancel: %d %v", status, body)
	}
	if s1, ch := statusOf(first); s1 != "submitted" || strings.Join(ch, ",") != "pending,pending" {
		t.Errorf("first year after the cancellation: %s %v, want submitted with both choices pending", s1, ch)
	}
	// The filing date is kept (the clock moved on a day before each change): the request
	// keeps its place in Kita Connewitz's queue.
	if n := b.count(t, `SELECT count(*) FROM application WHERE id = ? AND submitted_at = ?`, first["id"], filedAt); n != 1 {
		t.Errorf("the reopened request lost its filing date %v", filedAt)
	}
	if ms := b.mails(t, "application_reopened"); len(ms) != 2 {
		t.Errorf("notices of reopened requests: %d, want 2", len(ms))
	}
}

// Kempten's rule leaves requests closed: a cancelled contract reopens nothing.
func TestWithoutTheCitysRuleAnEndedContractReopensNothing(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(time.Now().UTC().Truncate(time.Second)))
	k := b.tenant(t, "kempten")
	if k.Rules.Contract.ReopenRequests {
		t.Fatal("kempten.yaml: reopen_requests is expected off for this test")
	}
	b.place(t, k, "87435", "kempten")
	start := date.In(b.clock.Now()).FirstOfMonth().AddMonths(8)
	a := b.facility(t, k, "Kita Sonne", "kita", "kempten", "", "krippe")
	b.placesEverywhere(t, k)
	f := b.family(t, "kempten", "ida@kempten.test", "87435", start.AddMonths(-14).String())
	app := f.file(t, request(f.child, start.String(), 35, a))
	lead := b.staff(t, &city{t: k}, "leitung", authz.RoleLead, a, "")
	api := b.api("kempten.localhost")
	api.staffLogin(t, lead)
	status, ct := api.call(t, "POST", "/api/v1/staff/contracts", map[string]any{"facility_id": a.String(), "child_id": f.child,
		"care_hours": 35, "start_date": start.String()})
	if status != 201 {
		t.Fatalf("contract by hand: %d %v", status, ct)
	}
	if status, body := api.call(t, "POST", "/api/v1/staff/contracts/"+ct["id"].(string)+"/cancel", nil); status != 200 && status != 204 {
		t.Fatalf("cancel: %d %v", status, body)
	}
	if _, got := f.api.call(t, "GET", "/api/v1/applications/"+app["id"].(string), nil); got["status"] != "contracted" {
		t.Errorf("after the cancellation in Kempten: %v, want it left contracted", got["status"])
	}
	if ms := b.mails(t, "application_reopened"); len(ms) != 0 {
		t.Errorf("Kempten sent %d reopening notices", len(ms))
	}
}

// A merge brings one child's contract and its requests together: one record was entered
// with a contract, the other filed the requests. After the merge the network rule holds
// as if the contract had been entered for the merged record: the request at the
// contract's Kita is contracted.
func TestAMergeCarriesContractsAndRequestsIntoOneNetwork(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(time.Now().UTC().Truncate(time.Second)))
	l := b.tenant(t, "leipzig")
	b.place(t, l, "04103", "leipzig")
	start := date.In(b.clock.Now()).FirstOfMonth().AddMonths(8)
	a := b.facility(t, l, "Kita Auwald", "kita", "leipzig", "", "krippe")
	c := b.facility(t, l, "Kita Connewitz", "kita", "leipzig", "", "krippe")
	birth := start.AddMonths(-14).String()
	online := b.family(t, "leipzig", "mia@leipzig.test", "04103", birth)
	app := online.file(t, request(online.child, start.String(), 35, c, a))
	other := b.family(t, "leipzig", "oma@leipzig.test", "04103", birth) // the same child, entered again
	b.exec(`INSERT INTO contract (tenant_id, id, child_id, facility_id, care_hours, start_date, status, source) VALUES (?, ?, ?, ?, 35, ?, 'active', 'manual')`,
		l.ID, uuid.New(), other.child, a, start)

	worker := b.staff(t, &city{t: l}, "jugendamt", authz.RoleCaseWorker, uuid.Nil, "")
	wa := b.api("leipzig.localhost")
	wa.staffLogin(t, worker)
	_, list := wa.call(t, "GET", "/api/v1/staff/duplicates", nil)
	items, _ := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("duplicates: %v", list)
	}
	flag := items[0].(map[string]any)
	if status, body := wa.call(t, "POST", "/api/v1/staff/duplicates/"+flag["id"].(string), map[string]any{"decision": "merge", "keep": online.child}); status != 200 {
		t.Fatalf("merge: %d %v", status, body)
	}
	if n := b.count(t, `SELECT count(*) FROM contract WHERE tenant_id = ? AND child_id = ?`, l.ID, online.child); n != 1 {
		t.Errorf("the contract did not move to the record kept (%d)", n)
	}
	if status, choices := requestStatus(t, online, app); status != "contracted" || strings.Join(choices, ",") != "ended,accepted" {
		t.Errorf("the request after the merge: %v %v, want contracted at Kita Auwald (its second choice)", status, choices)
	}
	if ms := b.mails(t, "application_placed"); len(ms) != 1 || ms[0].To != "mia@leipzig.test" {
		t.Errorf("the family's notice: %+v", ms)
	}
}

// Bochum: Kindertagespflege may be chosen as "in district X". The desk appears once the
// district has childminders, is not in the search, offers what they offer together; the
// request lands with the district's Fachberatung, which places the child with one of
// its childminders by contract: the desk's choice is then the one accepted.
func TestBochumTagespflegeByDistrictIsPlacedByTheFachberatung(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(time.Now().UTC().Truncate(time.Second)))
	bo := b.tenant(t, "bochum")
	if !bo.Rules.Registration.TagespflegeByDistrict {
		t.Fatal("bochum.yaml: tagespflege_by_district is expected on")
	}
	b.place(t, bo, "44787", "bochum")
	start := date.In(b.clock.Now()).FirstOfMonth().AddMonths(8)
	kita := b.facility(t, bo, "Kita Ruhrpott", "kita", "bochum", "", "krippe")
	anna := b.facility(t, bo, "Tagespflege Anna", "tagespflege", "bochum", "mitte", "krippe")
	b.facility(t, bo, "Tagespflege Berta", "tagespflege", "bochum", "mitte", "krippe")
	b.placesEverywhere(t, bo)
	ensure := func() int {
		t.Helper()
		var n int
		if err := database.InTenantTx(context.Background(), b.db, bo.ID, func(ctx context.Context, tx bun.Tx) error {
			var err error
			n, err = provider.EnsureDistrictDesks(ctx, tx, bo)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := ensure(); n != 1 {
		t.Fatalf("desks created: %d, want one (only Mitte has childminders)", n)
	}
	if n := ensure(); n != 0 {
		t.Fatalf("a second run created %d desks", n)
	}
	var desk uuid.UUID
	if err := b.db.QueryRowContext(context.Background(), `SELECT id FROM facility WHERE tenant_id = ? AND brokered AND district_key = 'mitte'`, bo.ID).Scan(&desk); err != nil {
		t.Fatal(err)
	}
	birth := start.AddMonths(-14).String()
	if res := b.get(t, "bochum.localhost", "/api/v1/facilities?per_page=50&birth_date="+birth+"&start_date="+start.String()); res.status != 200 || strings.Contains(res.body, desk.String()) ||
		!strings.Contains(res.body, anna.String()) {
		t.Errorf("the search lists the desk, or not the childminders: %d %.300s", res.status, res.body)
	}

	f := b.family(t, "bochum", "lena@bochum.test", "44787", birth)
	// The desk takes what its childminders take: they have no Kindergarten group.
	_, older := f.api.call(t, "POST", "/api/v1/children", map[string]any{"first_name": "Tom", "last_name": "Parent", "birth_date": start.AddMonths(-40).String()})
	if status, body := f.api.call(t, "POST", "/api/v1/applications", request(older["id"].(string), start.String(), 45, desk)); status != 422 ||
		!slices.Contains(fieldErrors(body), "choices.0:choice_age_mismatch") {
		t.Errorf("a Kindergarten child at the desk of Mitte: %d %v", status, fieldErrors(body))
	}
	sub := f.file(t, request(f.child, start.String(), 45, kita, desk))
	if mails := b.mails(t, "tagespflege_request"); len(mails) != 1 || mails[0].To != "ktp-mitte@bochum.kitaportal.example" {
		t.Fatalf("the request goes to the Fachberatung Mitte: %+v", mails)
	}
	br := b.browser("bochum.localhost")
	br.parentLogin(t, "lena@bochum.test")
	if page := br.get(t, "/applications/new"); !contains(page.body, "Im Bezirk", "Kindertagespflege im Bezirk Bochum-Mitte", "Eine bestimmte Tagespflegeperson") {
		t.Errorf("the form offers the district and the childminders apart: %.2000s", page.body)
	}

	counsellor := b.staff(t, &city{t: bo}, "ktp-mitte", authz.RoleCounsellor, uuid.Nil, "mitte")
	ca := b.api("bochum.localhost")
	ca.staffLogin(t, counsellor)
	if _, list := ca.call(t, "GET", "/api/v1/staff/requests", nil); !strings.Contains(jsonString(list), sub["id"].(string)) {
		t.Fatalf("the Fachberatung Mitte does not see the request: %v", list)
	}
	// The list says Bochum's order of precedence, the lottery last.
	sb := b.browser("bochum.localhost")
	sb.staffLogin(t, counsellor)
	if page := sb.get(t, "/staff/requests"); !contains(page.body, "Punkte → Geschwister → Geburtsdatum → Losnummer", "entscheidet in der Vergaberunde das Los") {
		t.Errorf("the request list does not say the city's ranking: %d", page.status)
	}
	if status, k := ca.call(t, "POST", "/api/v1/staff/contracts", map[string]any{"facility_id": anna.String(), "child_id": f.child,
		"care_hours": 45, "start_date": start.String()}); status != 201 {
		t.Fatalf("contract with Tagespflege Anna: %d %v", status, k)
	}
	if status, choices := requestStatus(t, f, sub); status != "contracted" || strings.Join(choices, ",") != "ended,accepted" {
		t.Errorf("after the Fachberatung's placement: %v %v, want contracted through the desk", status, choices)
	}
}

// requestStatus is a request's status and its choices' statuses in rank order, as the
// family reads them.
func requestStatus(t *testing.T, f *family, app map[string]any) (string, []string) {
	t.Helper()
	_, got := f.api.call(t, "GET", "/api/v1/applications/"+app["id"].(string), nil)
	var choices []string
	for _, ch := range got["choices"].([]any) {
		choices = append(choices, ch.(map[string]any)["status"].(string))
	}
	status, _ := got["status"].(string)
	return status, choices
}

// placesEverywhere gives every group of tn five places from a year ago on.
func (b *bundle) placesEverywhere(t *testing.T, tn *tenant.Tenant) {
	t.Helper()
	b.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places) SELECT tenant_id, id, ?, 5 FROM facility_group WHERE tenant_id = ?`,
		date.In(b.clock.Now()).AddMonths(-12), tn.ID)
}
