package server_test

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"golang.org/x/text/encoding/charmap"

	"kitaportal/internal/application"
	"kitaportal/internal/authz"
	"kitaportal/internal/casework"
	"kitaportal/internal/notify"
	"kitaportal/web"
)

var linkCode = regexp.MustCompile(`[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}`)

// Kempten: parents register at a facility; the lead enters the request with their
// documented consent, the family takes it over later with the code, and the same child
// entered again online is flagged for a merge instead of being doubled.
func TestWalkInRegistrationIsTakenOverWithTheCodeAndDuplicatesAreMerged(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	kita := b.facility(t, k, "Kita Engelhalde", "kita", "kempten", "", "krippe", "kindergarten")
	kc := &city{t: k}
	lead := b.staff(t, kc, "leitung", authz.RoleLead, kita, "")
	br := b.browser("kempten.localhost")
	br.staffLogin(t, lead)

	fields := map[string]string{
		"guardians.0.first_name": "Ayşe", "guardians.0.last_name": "Yılmaz", "guardians.0.email": "ayse@kempten.test",
		"street": "Bahnhofstraße", "house_number": "12", "plz": "87435", "city": "Kempten",
		"first_name": "Emre", "last_name": "Yılmaz", "birth_date": "2025-06-30",
		"start_date": "2027-09-01", "care_hours": "45", "choice.0": kita.String(),
		"consent.given_by": "Ayşe Yılmaz", "consent.given_at": "2026-11-21T09:30", "consent.method": "signed_form",
	}
	// Without consent nothing is saved.
	noConsent := map[string]string{}
	for k, v := range fields {
		noConsent[k] = v
	}
	noConsent["consent.given_by"] = ""
	if r := br.submit(t, "/staff/walk-in", "/staff/walk-in", noConsent); r.status != 422 || !strings.Contains(r.body, "f-consent.given_by") {
		t.Fatalf("walk-in without consent: %d", r.status)
	}
	if n := b.count(t, `SELECT count(*) FROM family WHERE tenant_id = ?`, k.ID); n != 0 {
		t.Fatalf("%d families saved without consent", n)
	}
	r := br.submit(t, "/staff/walk-in", "/staff/walk-in", fields)
	code := linkCode.FindString(r.body)
	if r.status != 201 || code == "" || !strings.Contains(r.body, "KEM-2026-") {
		t.Fatalf("walk-in: %d %.500s", r.status, r.body)
	}
	if n := b.count(t, `SELECT count(*) FROM application_consent c JOIN application a ON a.tenant_id = c.tenant_id AND a.id = c.application_id
		WHERE c.tenant_id = ? AND a.source = 'walk_in' AND a.status = 'submitted' AND c.method = 'signed_form' AND c.recorded_by = ?`, k.ID, lead.ID); n != 1 {
		t.Errorf("consent recorded %d times", n)
	}
	mails := b.mails(t, "application_walk_in")
	if len(mails) != 1 || mails[0].To != "ayse@kempten.test" || !strings.Contains(mails[0].Text, code) {
		t.Fatalf("the family's mail with the code: %+v", mails)
	}

	// The family registers and takes the record over.
	b.parent(t, "kempten", "ayse@kempten.test")
	pa := b.api("kempten.localhost")
	pa.login(t, "ayse@kempten.test")
	if status, body := pa.call(t, "POST", "/api/v1/family/link", map[string]string{"code": "AAAA-BBBB-CCCC"}); status != 422 || errCode(body) != "link_code_invalid" {
		t.Errorf("a wrong code: %d %v", status, body)
	}
	status, fam := pa.call(t, "POST", "/api/v1/family/link", map[string]string{"code": strings.ToLower(strings.ReplaceAll(code, "-", " "))})
	if status != 200 || !strings.Contains(jsonString(fam["children"]), "Emre") {
		t.Fatalf("link: %d %v", status, fam)
	}
	status, apps := pa.call(t, "GET", "/api/v1/applications", nil)
	if items, _ := apps["items"].([]any); status != 200 || len(items) != 1 || !strings.Contains(jsonString(items[0]), `"source":"walk_in"`) {
		t.Fatalf("the family sees the walk-in request: %d %v", status, apps)
	}
	b.parent(t, "kempten", "other@kempten.test")
	oa := b.api("kempten.localhost")
	oa.login(t, "other@kempten.test")
	if status, _ := oa.call(t, "POST", "/api/v1/family/link", map[string]string{"code": code}); status != 422 {
		t.Errorf("a used code works again: %d", status)
	}

	// The second guardian is invited and joins with the mailed code.
	if status, _ := pa.call(t, "POST", "/api/v1/family/invitations", map[string]string{"email": "mehmet@kempten.test"}); status != 202 {
		t.Fatalf("invite: %d", status)
	}
	inv := b.mails(t, "guardian_invitation")
	second := linkCode.FindString(inv[len(inv)-1].Text)
	b.parent(t, "kempten", "mehmet@kempten.test")
	ma := b.api("kempten.localhost")
	ma.login(t, "mehmet@kempten.test")
	if status, body := ma.call(t, "POST", "/api/v1/family/link", map[string]string{"code": second}); status != 200 {
		t.Fatalf("second guardian: %d %v", status, body)
	}
	if status, apps := ma.call(t, "GET", "/api/v1/applications", nil); status != 200 || len(apps["items"].([]any)) != 1 {
		t.Errorf("the second guardian sees the request: %d", status)
	}

	// Another account enters the same child online: flagged, not doubled silently.
	status, _ = oa.call(t, "PUT", "/api/v1/family", map[string]any{
		"address":   map[string]string{"street": "Bahnhofstraße", "house_number": "12", "plz": "87435", "city": "Kempten"},
		"guardians": []map[string]string{{"first_name": "Oma", "last_name": "Yılmaz"}}})
	if status != 200 {
		t.Fatal(status)
	}
	status, dup := oa.call(t, "POST", "/api/v1/children", map[string]any{"first_name": "emre", "last_name": "Yilmaz", "birth_date": "2025-06-30"})
	if status != 201 || strings.Contains(jsonString(dup), "duplicate") {
		t.Fatalf("the family is not told about another family's record: %d %v", status, dup)
	}
	// Folding is about case and accents, not transliteration: "Yilmaz" vs "Yılmaz" differ.
	status, dup = oa.call(t, "POST", "/api/v1/children", map[string]any{"first_name": "EMRE", "last_name": "Yılmaz", "birth_date": "2025-06-30"})
	if status != 201 {
		t.Fatal(status)
	}
	worker := b.staff(t, kc, "jugendamt", authz.RoleCaseWorker, uuid.Nil, "")
	wa := b.api("kempten.localhost")
	wa.staffLogin(t, worker)
	status, list := wa.call(t, "GET", "/api/v1/staff/duplicates", nil)
	items, _ := list["items"].([]any)
	if status != 200 || len(items) != 1 {
		t.Fatalf("duplicates: %d %v", status, list)
	}
	flag := items[0].(map[string]any)
	keep := flag["existing"].(map[string]any)["child_id"].(string)
	status, _ = wa.call(t, "POST", "/api/v1/staff/duplicates/"+flag["id"].(string), map[string]any{"decision": "merge", "keep": uuid.NewString()})
	if status != 422 {
		t.Errorf("merge keeping a third record: %d", status)
	}
	status, _ = wa.call(t, "POST", "/api/v1/staff/duplicates/"+flag["id"].(string), map[string]any{"decision": "merge", "keep": keep})
	if status != 200 {
		t.Fatalf("merge: %d", status)
	}
	if n := b.count(t, `SELECT count(*) FROM child WHERE tenant_id = ? AND merged_into = ?`, k.ID, keep); n != 1 {
		t.Errorf("%d records point to the one kept", n)
	}
	if status, l := wa.call(t, "GET", "/api/v1/staff/duplicates", nil); status != 200 || len(l["items"].([]any)) != 0 {
		t.Errorf("open flags after the merge: %v", l)
	}
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE tenant_id = ? AND action = 'child.merged' AND cardinality(child_ids) = 2`, k.ID); n != 1 {
		t.Errorf("merge audited %d times", n)
	}
}

// Leipzig's paper waitlists: a dry run lists every refused row with its reason and saves
// nothing; the import then files the good rows with the date on paper, and importing
// the file again doubles nothing.
func TestWaitlistImportDryRunThenImport(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	l := b.tenant(t, "leipzig")
	b.place(t, l, "04109", "leipzig")
	b.facility(t, l, "Kita Löwenzahn", "kita", "leipzig", "", "krippe", "kindergarten")
	worker := b.staff(t, &city{t: l}, "jugendamt", authz.RoleCaseWorker, uuid.Nil, "")
	csv := "kind_vorname;kind_nachname;geburtsdatum;elternteil_vorname;elternteil_nachname;email;telefon;strasse;hausnummer;plz;ort;beginn;betreuungsumfang;wunsch1;wunsch2;angemeldet_am\n" +
		"Jörg;Müller;14.03.2025;Anna;Müller;anna@leipzig.test;0341 1234;Hauptstraße;5;04109;Leipzig;01.08.2027;40;Kita Löwenzahn;;03.02.2025\n" +
		"Lea;Schmidt;2025-01-10;Tom;Schmidt;;;Ringweg;7b;04109;Leipzig;2027-08-01;40;Kita Gibtsnicht;;\n" +
		"Paul;Weiß;31.02.2025;Eva;Weiß;;;Ringweg;9;04109;Leipzig;2027-08-01;40;Kita Löwenzahn;;\n" +
		"Ida;Fern;2025-02-01;Max;Fern;;;Domplatz;1;06108;Halle;2027-08-01;40;Kita Löwenzahn;;\n" +
		"Jörg;Müller;14.03.2025;Anna;Müller;;;Hauptstraße;5;04109;Leipzig;2027-08-01;40;Kita Löwenzahn;;\n"
	win, err := charmap.Windows1252.NewEncoder().String(csv)
	if err != nil {
		t.Fatal(err)
	}
	a := b.api("leipzig.localhost")
	a.staffLogin(t, worker)
	upload := func(dry bool) string {
		t.Helper()
		req := httptest.NewRequest("POST", "/api/v1/staff/imports/waitlist?name=warteliste.csv&dry_run="+map[bool]string{true: "true", false: "false"}[dry], strings.NewReader(win))
		req.Host = "leipzig.localhost"
		req.Header.Set("Authorization", "Bearer "+a.token)
		req.Header.Set("Content-Type", "text/csv")
		res := b.do(t, req)
		if res.status != 202 {
			t.Fatalf("upload: %d %s", res.status, res.body)
		}
		return regexp.MustCompile(`"id":"([0-9a-f-]+)"`).FindStringSubmatch(res.body)[1]
	}
	job := upload(true)
	b.runImportJobs(t)
	status, got := a.call(t, "GET", "/api/v1/staff/imports/"+job, nil)
	refused := jsonString(got["refused"])
	if status != 200 || got["status"] != "done" || got["imported"].(float64) != 1 || got["total"].(float64) != 5 ||
		!contains(refused, `"line":3`, "choice_unknown", `"line":4`, "date_invalid", `"line":5`, "ticket_required", `"line":6`, "import_duplicate_request") {
		t.Fatalf("dry run: %d %v", status, got)
	}
	if n := b.count(t, `SELECT count(*) FROM application WHERE tenant_id = ?`, l.ID); n != 0 {
		t.Fatalf("a dry run saved %d applications", n)
	}
	// The page lists the refused rows in words.
	br := b.browser("leipzig.localhost")
	br.staffLogin(t, worker)
	page := br.get(t, "/staff/imports/"+job)
	if page.status != 200 || !contains(page.body, "Zeile", "Wunsch ist keine Einrichtung dieser Stadt", "Datum", "Zugangsberechtigung") {
		t.Errorf("import page: %d", page.status)
	}

	real := upload(false)
	b.runImportJobs(t)
	_, got = a.call(t, "GET", "/api/v1/staff/imports/"+real, nil)
	if got["imported"].(float64) != 1 || !strings.Contains(jsonString(got["refused"]), `"line":6`) {
		t.Errorf("the real import takes Jörg once (line 6 repeats him): %v", got)
	}
	if n := b.count(t, `SELECT count(*) FROM application WHERE tenant_id = ? AND source = 'import' AND status = 'submitted'
		AND submitted_at::date = '2025-02-03'`, l.ID); n != 1 {
		t.Errorf("%d imported requests keep the date on paper", n)
	}
	if m := b.mails(t, "application_imported"); len(m) != 1 || m[0].To != "anna@leipzig.test" || linkCode.FindString(m[0].Text) == "" {
		t.Errorf("the family with an address hears of it, with a code: %+v", m)
	}
	again := upload(false)
	b.runImportJobs(t)
	_, got = a.call(t, "GET", "/api/v1/staff/imports/"+again, nil)
	if got["imported"].(float64) != 0 {
		t.Errorf("the same file again imported %v rows", got["imported"])
	}
	// Garbage instead of a CSV: refused at once.
	req := httptest.NewRequest("POST", "/api/v1/staff/imports/waitlist", strings.NewReader("\x00\x01binary"))
	req.Host = "leipzig.localhost"
	req.Header.Set("Authorization", "Bearer "+a.token)
	if res := b.do(t, req); res.status != 422 {
		t.Errorf("garbage upload: %d", res.status)
	}
}

// runImportJobs runs the queued import jobs as the worker would.
func (b *bundle) runImportJobs(t *testing.T) {
	t.Helper()
	var payloads []string
	if err := b.db.NewRaw(`SELECT payload::text FROM outbox WHERE task_type = ? AND relayed_at IS NULL ORDER BY id`, casework.TaskImportWaitlist).
		Scan(context.Background(), &payloads); err != nil {
		t.Fatal(err)
	}
	mails, err := notify.NewTemplates(web.FS, b.deps.Views.Catalogue())
	if err != nil {
		t.Fatal(err)
	}
	links := notify.NewLinks(b.deps.Config.TenantURL)
	apps := application.NewService(application.Deps{DB: b.db, Clock: b.clock, Mails: mails, Links: links})
	im := casework.NewImporter(casework.NewService(b.db, b.clock, apps), b.reg, b.deps.Log)
	for _, p := range payloads {
		if err := im.Handle(context.Background(), asynq.NewTask(casework.TaskImportWaitlist, []byte(p))); err != nil {
			t.Fatal(err)
		}
	}
	b.exec(`UPDATE outbox SET relayed_at = now() WHERE task_type = ?`, casework.TaskImportWaitlist)
}
