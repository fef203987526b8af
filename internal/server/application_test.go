package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
)

// The pre-registration scenarios of the seed cities, through the real router: the
// rules refuse with clear messages, a filed request gets a reference, its mail and inbox
// notice, the right staff see it and nobody else does.

func TestKemptenRefusesAFourthChoiceAndA37MonthLeadWithClearMessages(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	var kitas []uuid.UUID
	for i := range 4 {
		kitas = append(kitas, b.facility(t, k, fmt.Sprintf("Kita Allgäu %d", i+1), "kita", "kempten", "", "krippe", "kindergarten"))
	}
	f := b.family(t, "kempten", "pia@kempten.test", "87435", "2025-10-01")

	status, body := f.api.call(t, "POST", "/api/v1/applications", request(f.child, "2027-09-01", 35, kitas...))
	if status != 422 || !has(fieldErrors(body), "choices:choices_too_many") {
		t.Fatalf("four choices: %d %v", status, fieldErrors(body))
	}
	if msg := messageOf(body, "choices"); !strings.Contains(msg, "höchstens 3 Einrichtungen") {
		t.Errorf("German message: %q", msg)
	}
	f.api.lang = "en"
	status, body = f.api.call(t, "POST", "/api/v1/applications", request(f.child, "2029-12-22", 35, kitas[0]))
	if status != 422 || !has(fieldErrors(body), "start_date:start_beyond_lead_time") {
		t.Fatalf("37 months ahead: %d %v", status, fieldErrors(body))
	}
	if msg := messageOf(body, "start_date"); !contains(msg, "more than 36 months", "21 Nov 2029") {
		t.Errorf("English message names the rule and the latest start: %q", msg)
	}
	if n := b.count(t, `SELECT count(*) FROM application WHERE tenant_id = ?`, k.ID); n != 0 {
		t.Errorf("%d applications saved from refused requests", n)
	}

	// Three choices, 36 months ahead: filed, with a reference, a mail and an inbox notice.
	sub := f.file(t, request(f.child, "2029-11-21", 35, kitas[:3]...))
	ref, _ := sub["reference"].(string)
	if !strings.HasPrefix(ref, "KEM-2026-") {
		t.Errorf("reference %q", ref)
	}
	mails := b.mails(t, "application_submitted")
	if len(mails) != 1 || mails[0].To != "pia@kempten.test" || !strings.Contains(mails[0].Subject, ref) ||
		!contains(mails[0].Text, "Kita Allgäu 1", "Kita Allgäu 3", "Kinderbetreuung Kempten") || mails[0].HTML == "" {
		t.Fatalf("confirmation mail: %+v", mails)
	}
	if mails[0].Lang != "de" {
		t.Errorf("mail language %q", mails[0].Lang)
	}
	status, inbox := f.api.call(t, "GET", "/api/v1/inbox", nil)
	if items, _ := inbox["items"].([]any); status != 200 || len(items) != 1 || !strings.Contains(jsonString(items[0]), ref) {
		t.Errorf("inbox: %d %v", status, inbox)
	}

	// The lead of the first Kita sees it; the lead of the fourth does not.
	kc := &city{t: k}
	lead := b.staff(t, kc, "leitung", authz.RoleLead, kitas[0], "")
	other := b.staff(t, kc, "andere", authz.RoleLead, kitas[3], "")
	la := b.api("kempten.localhost")
	la.staffLogin(t, lead)
	status, list := la.call(t, "GET", "/api/v1/staff/requests", nil)
	if items, _ := list["items"].([]any); status != 200 || len(items) != 1 || !strings.Contains(jsonString(items[0]), ref) {
		t.Fatalf("the lead's list: %d %v", status, list)
	}
	status, detail := la.call(t, "GET", "/api/v1/staff/requests/"+sub["id"].(string), nil)
	if status != 200 || len(detail["choices"].([]any)) != 1 || detail["other_choices_hidden"].(float64) != 2 {
		t.Errorf("the lead sees only their own choice (Kempten hides the others): %d %v", status, detail["choices"])
	}
	oa := b.api("kempten.localhost")
	oa.staffLogin(t, other)
	if status, _ := oa.call(t, "GET", "/api/v1/staff/requests/"+sub["id"].(string), nil); status != 404 {
		t.Errorf("another facility's lead: %d, want 404", status)
	}
	if status, l := oa.call(t, "GET", "/api/v1/staff/requests", nil); status != 200 || len(l["items"].([]any)) != 0 {
		t.Errorf("another facility's list: %d %v", status, l)
	}
	// Every look is in the audit log with the child.
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE tenant_id = ? AND action IN ('requests.listed', 'request.read') AND actor_id = ?
		AND cardinality(child_ids) = 1`, k.ID, lead.ID); n != 2 {
		t.Errorf("%d audited reads by the lead, want 2", n)
	}
}

func TestLeipzigFamilyFromOutsideNeedsATicketWithinTheQuota(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	l := b.tenant(t, "leipzig")
	b.place(t, l, "04109", "leipzig")
	kita := b.facility(t, l, "Kita Auenwald", "kita", "leipzig", "", "krippe", "kindergarten")
	f := b.family(t, "leipzig", "pia@halle.test", "06108", "2025-10-01") // Halle: outside

	status, body := f.api.call(t, "POST", "/api/v1/applications", request(f.child, "2027-08-01", 40, kita))
	if status != 422 || !has(fieldErrors(body), "address:ticket_required") {
		t.Fatalf("without ticket: %d %v", status, fieldErrors(body))
	}
	status, ticket := f.api.call(t, "POST", "/api/v1/tickets", map[string]any{"child_id": f.child, "start_date": "2027-08-01",
		"reason": "Umzug nach Leipzig zum 1. Juli 2027, Arbeitsvertrag liegt vor", "planned_move_date": "2027-07-01"})
	if status != 201 || ticket["status"] != "requested" || ticket["age_band"] != "krippe" {
		t.Fatalf("ticket request: %d %v", status, ticket)
	}
	if status, again := f.api.call(t, "POST", "/api/v1/tickets", map[string]any{"child_id": f.child, "start_date": "2027-09-01",
		"reason": "noch einmal dasselbe Kita-Jahr"}); status != 409 {
		t.Errorf("second ticket for the same Kita year: %d %v", status, again)
	}

	lc := &city{t: l}
	worker := b.staff(t, lc, "jugendamt", authz.RoleCaseWorker, uuid.Nil, "")
	wa := b.api("leipzig.localhost")
	wa.staffLogin(t, worker)
	// The quota of the Kita year is used up but for one place: this grant takes it.
	quota := l.Rules.Tickets.Quota["krippe"]
	b.exec(`WITH kids AS (
		INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date)
		SELECT ?0, gen_random_uuid(), (SELECT id FROM family WHERE tenant_id = ?0 LIMIT 1), 'Quote', 'Kind' || g, '2025-10-01'
		FROM generate_series(1, ?1) g RETURNING tenant_id, id, family_id)
		INSERT INTO access_ticket (tenant_id, id, family_id, child_id, kita_year, age_band, reason, status, valid_until)
		SELECT tenant_id, gen_random_uuid(), family_id, id, '2027-08-01', 'krippe', 'Kontingent', 'granted', '2027-12-31' FROM kids`, l.ID, quota-1)
	status, decided := wa.call(t, "POST", "/api/v1/staff/tickets/"+ticket["id"].(string)+"/decision", map[string]any{"grant": true})
	if status != 200 || decided["status"] != "granted" || decided["valid_until"] != "2027-05-21" {
		t.Fatalf("grant: %d %v", status, decided)
	}
	status, queue := wa.call(t, "GET", "/api/v1/staff/tickets", nil)
	if q := jsonString(queue["quota"]); status != 200 || !contains(q, fmt.Sprintf(`"granted":%d,`, quota), fmt.Sprintf(`"quota":%d,`, quota), `"waiting":0`) {
		t.Errorf("quota use: %v", queue["quota"])
	}
	if len(b.mails(t, "ticket_granted")) != 1 {
		t.Error("the family hears about the ticket")
	}
	sub := f.file(t, request(f.child, "2027-08-01", 40, kita))
	if sub["ticket_id"] != ticket["id"] {
		t.Errorf("the request carries the ticket: %v", sub["ticket_id"])
	}

	// A second family: the quota is exhausted.
	g := b.family(t, "leipzig", "ole@halle.test", "06108", "2025-09-01")
	_, t2 := g.api.call(t, "POST", "/api/v1/tickets", map[string]any{"child_id": g.child, "start_date": "2027-08-01", "reason": "Neue Arbeitsstelle in Leipzig"})
	status, refused := wa.call(t, "POST", "/api/v1/staff/tickets/"+t2["id"].(string)+"/decision", map[string]any{"grant": true})
	if status != 409 || errCode(refused) != "ticket_quota_exhausted" {
		t.Errorf("over the quota: %d %v", status, refused)
	}
	// Refusing needs a reason, and the family is told.
	if status, _ := wa.call(t, "POST", "/api/v1/staff/tickets/"+t2["id"].(string)+"/decision", map[string]any{"grant": false}); status != 422 {
		t.Errorf("refusal without reason: %d", status)
	}
	if status, _ := wa.call(t, "POST", "/api/v1/staff/tickets/"+t2["id"].(string)+"/decision", map[string]any{"grant": false, "note": "Kontingent erschöpft"}); status != 200 {
		t.Errorf("refusal: %d", status)
	}
	if status, body := g.api.call(t, "POST", "/api/v1/applications", request(g.child, "2027-08-01", 40, kita)); status != 422 ||
		!has(fieldErrors(body), "address:ticket_required") {
		t.Errorf("a refused ticket opens nothing: %d %v", status, fieldErrors(body))
	}

	// Tickets expire: after the validity the same request is refused again.
	b.clock.Advance(7 * 30 * 24 * time.Hour)
	f.api.login(t, f.email)
	if status, body := f.api.call(t, "POST", "/api/v1/applications", request(f.child, "2027-09-01", 40, kita)); status != 422 ||
		!has(fieldErrors(body), "start_date:application_exists_for_period") {
		t.Errorf("same period again: %d %v", status, fieldErrors(body))
	}
	b.exec(`UPDATE application SET status = 'withdrawn' WHERE tenant_id = ?`, l.ID)
	if status, body := f.api.call(t, "POST", "/api/v1/applications", request(f.child, "2027-09-01", 40, kita)); status != 422 ||
		!has(fieldErrors(body), "address:ticket_required") {
		t.Errorf("after the ticket expired: %d %v", status, fieldErrors(body))
	}
}

func TestBochumTagespflegeChoiceLandsWithTheDistrictsFachberatung(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	bo := b.tenant(t, "bochum")
	b.place(t, bo, "44787", "bochum")
	var kitas []uuid.UUID
	for i := range 5 {
		kitas = append(kitas, b.facility(t, bo, fmt.Sprintf("Kita Ruhr %d", i+1), "kita", "bochum", "", "krippe", "kindergarten"))
	}
	tp := b.facility(t, bo, "Tagespflege Sonnenschein", "tagespflege", "bochum", "wattenscheid", "krippe")
	f := b.family(t, "bochum", "pia@bochum.test", "44787", "2025-10-01")
	sub := f.file(t, request(f.child, "2027-08-01", 45, append(kitas, tp)...))
	routed, _ := sub["tagespflege"].([]any)
	if len(routed) != 1 || !strings.Contains(jsonString(routed[0]), "ktp-wattenscheid@bochum.kitaportal.example") {
		t.Fatalf("immediate feedback names the Fachberatung: %v", sub["tagespflege"])
	}
	mails := b.mails(t, "tagespflege_request")
	if len(mails) != 1 || mails[0].To != "ktp-wattenscheid@bochum.kitaportal.example" || strings.Contains(mails[0].Text, "Mia") {
		t.Fatalf("mail to the Fachberatung (without the child's name): %+v", mails)
	}
	if fm := b.mails(t, "application_submitted"); len(fm) != 1 || !strings.Contains(fm[0].Text, "Fachberatung Kindertagespflege Wattenscheid") {
		t.Errorf("the family's mail says where the Tagespflege request went")
	}

	bc := &city{t: bo}
	counsellor := b.staff(t, bc, "ktp-wat", authz.RoleCounsellor, uuid.Nil, "wattenscheid")
	elsewhere := b.staff(t, bc, "ktp-nord", authz.RoleCounsellor, uuid.Nil, "nord")
	ca := b.api("bochum.localhost")
	ca.staffLogin(t, counsellor)
	status, list := ca.call(t, "GET", "/api/v1/staff/requests", nil)
	items, _ := list["items"].([]any)
	if status != 200 || len(items) != 1 || !strings.Contains(jsonString(items[0]), "Tagespflege Sonnenschein") {
		t.Fatalf("the district's queue: %d %v", status, list)
	}
	// Counsellors joined after the request: their inbox fills with the next one. The
	// request itself is in their queue already (scope = the district's Tagespflege).
	g := b.family(t, "bochum", "ole@bochum.test", "44787", "2025-09-01")
	g.file(t, request(g.child, "2027-08-01", 35, tp))
	status, inbox := ca.call(t, "GET", "/api/v1/staff/inbox", nil)
	if ii, _ := inbox["items"].([]any); status != 200 || len(ii) != 1 || !strings.Contains(jsonString(ii[0]), "Wattenscheid") {
		t.Errorf("counsellor inbox: %d %v", status, inbox)
	}
	ea := b.api("bochum.localhost")
	ea.staffLogin(t, elsewhere)
	if status, l := ea.call(t, "GET", "/api/v1/staff/requests", nil); status != 200 || len(l["items"].([]any)) != 0 {
		t.Errorf("another district's counsellor: %d %v", status, l)
	}
	if status, _ := ea.call(t, "GET", "/api/v1/staff/requests/"+sub["id"].(string), nil); status != 404 {
		t.Errorf("another district's counsellor reads it: %d", status)
	}
}

func TestDoubleClicksAndTwoTabsMakeOneApplication(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	kita := b.facility(t, k, "Kita Iller", "kita", "kempten", "", "krippe")
	f := b.family(t, "kempten", "pia@kempten.test", "87435", "2025-10-01")

	var wg sync.WaitGroup
	statuses := make([]int, 6)
	ids := make([]string, 6)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body map[string]any
			statuses[i], body = f.api.call(t, "POST", "/api/v1/applications", request(f.child, "2027-09-01", 35, kita))
			ids[i], _ = body["id"].(string)
		}()
	}
	wg.Wait()
	created := 0
	var id string
	for i, s := range statuses {
		switch s {
		case 201:
			created++
			id = ids[i]
		case 422:
		default:
			t.Errorf("concurrent create answered %d", s)
		}
	}
	if created != 1 || b.count(t, `SELECT count(*) FROM application WHERE tenant_id = ?`, k.ID) != 1 {
		t.Fatalf("%d created", created)
	}
	refs := make([]string, 6)
	for i := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, body := f.api.call(t, "POST", "/api/v1/applications/"+id+"/submit", nil)
			if s != 200 {
				t.Errorf("concurrent submit: %d %v", s, body)
			}
			refs[i], _ = body["reference"].(string)
		}()
	}
	wg.Wait()
	for _, r := range refs {
		if r == "" || r != refs[0] {
			t.Errorf("references %v", refs)
			break
		}
	}
	if n := len(b.mails(t, "application_submitted")); n != 1 {
		t.Errorf("%d confirmation mails", n)
	}
}

func TestEditWithdrawAndTheFacilitysDecisionsInADecentralCity(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	h := b.tenant(t, "herzberg")
	b.place(t, h, "04916", "herzberg")
	a := b.facility(t, h, "Kita Elsteraue", "kita", "herzberg", "", "krippe", "kindergarten")
	c := b.facility(t, h, "Kita Schlossberg", "kita", "herzberg", "", "krippe", "kindergarten")
	f := b.family(t, "herzberg", "pia@herzberg.test", "04916", "2025-10-01")
	sub := f.file(t, request(f.child, "2027-08-01", 40, a, c))
	id := sub["id"].(string)

	// Editable while nobody works on it: a new first choice, text with markup stays text.
	body := request(f.child, "2027-08-01", 50, c, a)
	body["criteria"] = map[string]any{"hardship": "<script>alert(1)</script> Pflege der Großmutter", "employment": true}
	body["declaration"] = true
	status, changed := f.api.call(t, "PATCH", "/api/v1/applications/"+id, body)
	if status != 200 || changed["care_hours"].(float64) != 50 || changed["points"].(float64) == 0 {
		t.Fatalf("edit: %d %v", status, changed)
	}
	if len(b.mails(t, "application_changed")) != 1 {
		t.Error("the change is confirmed by mail")
	}

	hc := &city{t: h}
	lead := b.staff(t, hc, "leitung", authz.RoleLead, a, "")
	br := b.browser("herzberg.localhost")
	br.staffLogin(t, lead)
	page := br.get(t, "/staff/requests/"+id)
	if page.status != 200 || strings.Contains(page.body, "<script>alert(1)") || !strings.Contains(page.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("the request page shows free text escaped: %d", page.status)
	}
	// Staff read the request about a family, not as the family: no "Meine Familie".
	if !contains(page.body, "Wünsche der Familie", ">Familie</h2>") || strings.Contains(page.body, "Ihre Wünsche") || strings.Contains(page.body, "Meine Familie") {
		t.Errorf("the staff request page speaks with the parent's headings")
	}
	// The facility takes it into review: the family can no longer change it.
	r := br.submit(t, "/staff/requests/"+id, "/staff/requests/"+id+"/decisions", map[string]string{"rank": "2", "action": "review"})
	if r.status != 303 {
		t.Fatalf("review: %d %s", r.status, r.body)
	}
	if status, got := f.api.call(t, "GET", "/api/v1/applications/"+id, nil); status != 200 || got["status"] != "in_review" || got["editable"] != false {
		t.Errorf("after review: %v editable=%v", got["status"], got["editable"])
	}
	if status, body := f.api.call(t, "PATCH", "/api/v1/applications/"+id, map[string]any{"care_hours": 30}); status != 409 ||
		errCode(body) != "application_not_editable" {
		t.Errorf("edit in review: %d %v", status, body)
	}
	// A refusal needs a reason; with one, the family is told.
	r = br.submit(t, "/staff/requests/"+id, "/staff/requests/"+id+"/decisions", map[string]string{"rank": "2", "action": "refuse"})
	if r.status != 422 || !strings.Contains(r.body, "Grund") {
		t.Errorf("refusal without reason: %d", r.status)
	}
	r = br.submit(t, "/staff/requests/"+id, "/staff/requests/"+id+"/decisions", map[string]string{"rank": "2", "action": "refuse", "note": "Keine Krippenplätze frei"})
	if r.status != 303 {
		t.Fatalf("refuse: %d", r.status)
	}
	if m := b.mails(t, "application_status"); len(m) != 2 || !strings.Contains(m[1].Text, "Keine Krippenplätze frei") {
		t.Errorf("status mails: %+v", m)
	}
	// The other choice is still open; the lead of A cannot decide it (404: not in scope).
	if s, _ := br.b.api("herzberg.localhost").call(t, "POST", "/api/v1/staff/requests/"+id+"/decisions", map[string]any{"rank": 1, "action": "refuse"}); s != 401 {
		t.Errorf("without a token: %d", s)
	}
	// Withdraw: the family takes it back; nothing can change it afterwards.
	status, w := f.api.call(t, "POST", "/api/v1/applications/"+id+"/withdraw", map[string]any{"reason": "Platz bei Tagesmutter gefunden"})
	if status != 200 || w["status"] != "withdrawn" || len(b.mails(t, "application_withdrawn")) != 1 {
		t.Fatalf("withdraw: %d %v", status, w)
	}
	if status, _ := f.api.call(t, "PATCH", "/api/v1/applications/"+id, map[string]any{"care_hours": 30}); status != 409 {
		t.Errorf("edit after withdrawal: %d", status)
	}
	if status, _ := f.api.call(t, "POST", "/api/v1/applications/"+id+"/submit", nil); status != 409 {
		t.Errorf("submit after withdrawal: %d", status)
	}
	// A new request for the same period is possible now.
	f.file(t, request(f.child, "2027-08-01", 40, c))
}

// A family files in one step (draft and submission in one transaction): refused, nothing
// is saved; accepted, the answer is the filed request with its reference and mail.
func TestFilingInOneStep(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	kita := b.facility(t, k, "Kita Iller", "kita", "kempten", "", "krippe")
	f := b.family(t, "kempten", "pia@kempten.test", "87435", "2025-10-01")
	body := request(f.child, "2027-09-01", 35, kita)
	body["submit"] = true
	body["criteria"] = map[string]any{"single_parent": true} // without the declaration
	status, got := f.api.call(t, "POST", "/api/v1/applications", body)
	if status != 422 || !has(fieldErrors(got), "declaration:declaration_required") {
		t.Fatalf("undeclared criteria: %d %v", status, fieldErrors(got))
	}
	if n := b.count(t, `SELECT count(*) FROM application WHERE tenant_id = ?`, k.ID); n != 0 {
		t.Fatalf("a refused one-step filing left %d applications", n)
	}
	body["declaration"] = true
	status, got = f.api.call(t, "POST", "/api/v1/applications", body)
	if ref, _ := got["reference"].(string); status != 201 || got["status"] != "submitted" || !strings.HasPrefix(ref, "KEM-2026-") {
		t.Fatalf("one step: %d %v", status, got)
	}
	if len(b.mails(t, "application_submitted")) != 1 {
		t.Error("the confirmation mail")
	}
	status, again := f.api.call(t, "GET", "/api/v1/applications/"+got["id"].(string), nil)
	if status != 200 || len(again["history"].([]any)) != 2 || again["reference"] != got["reference"] {
		t.Errorf("stored: %d %v", status, again)
	}
}

func TestChoicesOfAnotherCityAndGarbageAreRefused(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	k, bo := b.tenant(t, "kempten"), b.tenant(t, "bochum")
	b.place(t, k, "87435", "kempten")
	kita := b.facility(t, k, "Kita Iller", "kita", "kempten", "", "krippe")
	foreign := b.facility(t, bo, "Kita Bochumer Geheimnis", "kita", "bochum", "", "krippe")
	f := b.family(t, "kempten", "pia@kempten.test", "87435", "2025-10-01")

	status, body := f.api.call(t, "POST", "/api/v1/applications", request(f.child, "2027-09-01", 35, kita, foreign))
	if status != 422 || !has(fieldErrors(body), "choices.1:choice_unknown") || strings.Contains(jsonString(body), "Geheimnis") {
		t.Errorf("another city's facility: %d %v", status, body)
	}
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"child_id": f.child, "start_date": "2027-02-31", "care_hours": 35, "choices": []any{}}, "start_date:date_invalid"},
		{map[string]any{"child_id": uuid.NewString(), "start_date": "2027-09-01", "care_hours": 35}, "child_id:child_unknown"},
		{map[string]any{"child_id": f.child, "start_date": "2027-09-01", "care_hours": 33, "choices": []map[string]string{{"facility_id": kita.String()}}}, "care_hours:care_scope_unknown"},
		{map[string]any{"child_id": f.child, "start_date": "2027-09-01", "care_hours": 35, "choices": []map[string]string{{"facility_id": kita.String()}},
			"criteria": map[string]any{"hardship": strings.Repeat("x", 2001)}}, "criteria.hardship:field_too_long"},
	} {
		status, body := f.api.call(t, "POST", "/api/v1/applications", tc.body)
		if status != 422 || !has(fieldErrors(body), tc.want) {
			t.Errorf("%s: %d %v", tc.want, status, fieldErrors(body))
		}
	}
	if status, body := f.api.call(t, "POST", "/api/v1/applications", "not an object"); status != 400 || errCode(body) != "invalid_json" {
		t.Errorf("garbage body: %d %v", status, body)
	}
	// The child form refuses names that are not names, and special needs without consent.
	status, body = f.api.call(t, "POST", "/api/v1/children", map[string]any{"first_name": "Mia\u202e", "last_name": "P",
		"birth_date": "2030-01-01", "special_needs": "Asthma"})
	if got := fieldErrors(body); status != 422 || !has(got, "first_name:name_invalid_characters") || !has(got, "birth_date:birth_date_in_future") ||
		!has(got, "special_needs_consent:special_needs_consent_required") {
		t.Errorf("child: %d %v", status, got)
	}
	if b.count(t, `SELECT count(*) FROM application WHERE tenant_id = ?`, k.ID) != 0 {
		t.Error("a refused request was saved")
	}
}
