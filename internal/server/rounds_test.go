package server_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/allocation"
	"kitaportal/internal/allocation/round"
	"kitaportal/internal/authz"
	"kitaportal/internal/availability"
	"kitaportal/internal/notify"
	"kitaportal/internal/notify/notifytest"
	"kitaportal/internal/placement"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
)

// runRoundJobs does what the worker would with the queued round tasks.
func (b *bundle) runRoundJobs(t *testing.T) int {
	t.Helper()
	var rows []struct {
		TaskType string `bun:"task_type"`
		Payload  string `bun:"payload"`
	}
	if err := b.db.NewRaw(`SELECT task_type, payload::text AS payload FROM outbox WHERE task_type IN (?, ?) AND relayed_at IS NULL ORDER BY id`,
		round.TaskRun, round.TaskPublish).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	places := placement.NewService(placement.Deps{DB: b.db, Clock: b.clock, Mails: notifytest.Templates(t), Links: notify.NewLinks(b.deps.Config.TenantURL)})
	jobs := round.NewJobs(round.NewService(b.db, b.clock, places), b.reg, b.deps.Log)
	for _, r := range rows {
		handle := jobs.HandleRun
		if r.TaskType == round.TaskPublish {
			handle = jobs.HandlePublish
		}
		if err := handle(context.Background(), asynq.NewTask(r.TaskType, []byte(r.Payload))); err != nil {
			t.Fatal(err)
		}
	}
	b.exec(`UPDATE outbox SET relayed_at = now() WHERE task_type IN (?, ?)`, round.TaskRun, round.TaskPublish)
	return len(rows)
}

var runLink = regexp.MustCompile(`^/staff/runs/([0-9a-f-]{36})$`)

// The done-when of central allocation, walked through the pages on Bochum: a case
// worker freezes a round, runs it in the worker, reads why a child missed its first
// wish, tries five more places at that Kita, compares, publishes; the families get
// their offers and read why; twins stay together; another city sees nothing of it.
func TestACaseWorkerRunsAndPublishesARoundOnBochum(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(time.Now().UTC().Truncate(time.Second)))
	bo := b.tenant(t, "bochum")
	b.place(t, bo, "44787", "bochum")
	today := date.In(b.clock.Now())
	start := today.FirstOfMonth().AddMonths(4)
	// Two Krippe places of 45 hours in each Kita; the children book 35 and Bochum lets
	// them take a larger place.
	kitaA := b.facility(t, bo, "Kita Ahorn", "kita", "bochum", "mitte", "krippe")
	kitaB := b.facility(t, bo, "Kita Birke", "kita", "bochum", "mitte", "krippe")
	b.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places)
		SELECT tenant_id, id, ?, 2 FROM facility_group WHERE tenant_id = ? AND facility_id IN (?, ?)`, today.AddMonths(-12), bo.ID, kitaA, kitaB)
	if err := database.InTenantTx(context.Background(), b.db, bo.ID, func(ctx context.Context, tx bun.Tx) error {
		_, err := availability.Rebuild(ctx, tx, bo, today)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	birth := start.AddMonths(-17).String()
	twins := b.family(t, "bochum", "zwillinge@bochum.test", "44787", birth)
	status, second := twins.api.call(t, "POST", "/api/v1/children", map[string]any{"first_name": "Max", "last_name": "Parent", "birth_date": birth})
	if status != 201 {
		t.Fatalf("second twin: %d %v", status, second)
	}
	first, other := twins.file(t, request(twins.child, start.String(), 35, kitaA, kitaB)), twins.file(t, request(second["id"].(string), start.String(), 35, kitaA, kitaB))
	twinApps := []string{first["id"].(string), other["id"].(string)}
	lea := b.family(t, "bochum", "lea@bochum.test", "44787", birth)
	leaApp := lea.file(t, request(lea.child, start.String(), 35, kitaA, kitaB))["id"].(string)

	worker := b.staff(t, &city{t: bo}, "sachbearbeitung", authz.RoleCaseWorker, uuid.Nil, "")
	br := b.browser("bochum.localhost")
	br.staffLogin(t, worker)
	mustContain(t, br.get(t, "/staff"), `href="/staff/rounds"`)

	// Bad input first: garbage months name the fields, nothing is created.
	res := br.submit(t, "/staff/rounds", "/staff/rounds", map[string]string{"name": "Kita-Jahr", "from": "2027-13", "until": "bald"})
	if res.status != 422 || !strings.Contains(res.body, "Bitte geben Sie einen Monat ein") {
		t.Fatalf("garbage months: %d %.300s", res.status, res.body)
	}
	if n := b.count(t, `SELECT count(*) FROM allocation_round WHERE tenant_id = ?`, bo.ID); n != 0 {
		t.Fatalf("%d rounds after a refused form", n)
	}
	month := start.String()[:7]
	res = br.submit(t, "/staff/rounds", "/staff/rounds", map[string]string{"name": "Kita-Jahr Test", "from": month, "until": month})
	loc := res.header.Get("Location")
	if res.status != 303 || !strings.HasPrefix(loc, "/staff/rounds/") {
		t.Fatalf("create: %d %q %.300s", res.status, loc, res.body)
	}
	roundPath := strings.TrimSuffix(loc, "?done=round_created")
	page := br.get(t, loc)
	mustContain(t, page, "Eingaben sind eingefroren")
	mustContain(t, page, "<dd>3</dd>") // three requests frozen
	again := br.submit(t, "/staff/rounds", "/staff/rounds", map[string]string{"name": "Doppelt", "from": month, "until": month})
	if again.status != 409 || !strings.Contains(again.body, "schon eine offene Runde") {
		t.Errorf("a second round for the period: %d %.300s", again.status, again.body)
	}

	// The main run happens in the worker; the page shows it waiting, then the figures.
	res = br.submit(t, roundPath, roundPath+"/runs", map[string]string{"kind": "main"})
	m := runLink.FindStringSubmatch(res.header.Get("Location"))
	if res.status != 303 || m == nil {
		t.Fatalf("run: %d %q", res.status, res.header.Get("Location"))
	}
	mainRun := m[1]
	mustContain(t, br.get(t, "/staff/runs/"+mainRun), "wartet")
	if n := b.runRoundJobs(t); n != 1 {
		t.Fatalf("%d round jobs, want 1", n)
	}
	page = br.get(t, "/staff/runs/"+mainRun)
	mustContain(t, page, "<strong>3</strong> mit Platz")
	mustContain(t, page, "<strong>2</strong> mit Erstwunsch")
	mustContain(t, page, "<strong>0</strong> Geschwister getrennt")

	// The twins came first at Kita Ahorn (siblings break the tie), together; Lea went to
	// her second wish and her result says why in words.
	placed := func(run, app string) string {
		var f *uuid.UUID
		if err := b.db.QueryRowContext(context.Background(), `SELECT facility_id FROM allocation_result WHERE run_id = ? AND application_id = ?`, run, app).Scan(&f); err != nil {
			t.Fatal(err)
		}
		if f == nil {
			return ""
		}
		return f.String()
	}
	if a, b2 := placed(mainRun, twinApps[0]), placed(mainRun, twinApps[1]); a != kitaA.String() || b2 != kitaA.String() {
		t.Errorf("twins placed at %s and %s, want both at Kita Ahorn", a, b2)
	}
	if got := placed(mainRun, leaApp); got != kitaB.String() {
		t.Errorf("Lea placed at %q, want Kita Birke", got)
	}
	result := br.get(t, "/staff/runs/"+mainRun+"/results/"+leaApp)
	mustContain(t, result, "Ihr Kind erhält einen Platz bei seinem Wunsch 2: Kita Birke.")
	mustContain(t, result, "Wunsch 1 (Kita Ahorn) war vergeben: Bei gleicher Punktzahl hatten Kinder Vorrang, die Geschwister")
	mustContain(t, result, "(Geschwister)") // the decider, in full for the case worker
	// The twin's page names its sibling's request by its reference.
	mustContain(t, br.get(t, "/staff/runs/"+mainRun+"/results/"+twinApps[0]), "Die Geschwister werden gemeinsam aufgenommen.", ">"+other["reference"].(string)+"</a>")

	// What if Kita Ahorn had five more places? Garbage first, then the real variant.
	bad := br.submit(t, roundPath, roundPath+"/runs", map[string]string{"kind": "what_if", "facility": kitaA.String(), "type": "krippe/99", "delta": "viele"})
	if bad.status != 422 || !strings.Contains(bad.body, "Platzart") || !strings.Contains(bad.body, "ganze Zahl") {
		t.Errorf("a garbage variant: %d %.400s", bad.status, bad.body)
	}
	stranger := br.submit(t, roundPath, roundPath+"/runs", map[string]string{"kind": "what_if", "facility": uuid.NewString(),
		"type": string(allocation.TypeOf("krippe", 45)), "delta": "5"})
	if stranger.status != 422 || !strings.Contains(stranger.body, "Einrichtung dieser Runde") {
		t.Errorf("a variant at a facility outside the round: %d %.300s", stranger.status, stranger.body)
	}
	mustContain(t, br.get(t, roundPath), ">Alleinerziehend (3 Punkte)</option>") // criteria by their label
	res = br.submit(t, roundPath, roundPath+"/runs", map[string]string{"kind": "what_if", "facility": kitaA.String(),
		"type": string(allocation.TypeOf("krippe", 45)), "delta": "5", "label": "Ahorn +5"})
	m = runLink.FindStringSubmatch(res.header.Get("Location"))
	if res.status != 303 || m == nil {
		t.Fatalf("what-if: %d %.300s", res.status, res.body)
	}
	whatIf := m[1]
	b.runRoundJobs(t)
	if got := placed(whatIf, leaApp); got != kitaA.String() {
		t.Errorf("with five more places Lea is placed at %q, want Kita Ahorn", got)
	}
	mustContain(t, br.get(t, "/staff/runs/"+whatIf), "<strong>3</strong> mit Erstwunsch")
	cmp := br.get(t, "/staff/rounds/compare?"+url.Values{"a": {mainRun}, "b": {whatIf}}.Encode())
	mustContain(t, cmp, "Kinder mit anderem Ergebnis in B als in A: 1.")
	mustContain(t, cmp, "/staff/runs/"+whatIf+"/results/"+leaApp)
	// A change by hand needs a reason and shows the envy it introduces: moved to her
	// second wish, Lea would rather have a place left empty at Kita Ahorn.
	resultPath := "/staff/runs/" + whatIf + "/results/" + leaApp
	if r := br.submit(t, resultPath, resultPath, map[string]string{"facility_id": kitaB.String()}); r.status != 422 {
		t.Errorf("a change without a reason: %d", r.status)
	}
	changed := br.submit(t, resultPath, resultPath, map[string]string{"facility_id": kitaB.String(), "reason": "Wunsch der Familie am Telefon"})
	mustContain(t, changed, "Was die Änderung kostet", "ein Platz ist dort frei geblieben")
	if got := placed(whatIf, leaApp); got != kitaB.String() {
		t.Errorf("after the change Lea is at %q", got)
	}
	if rows := b.auditRows(t, bo.ID, "action = ?", round.ActionChanged); len(rows) != 1 {
		t.Errorf("the change is audited %d times", len(rows))
	}
	if r := br.submit(t, resultPath, resultPath, map[string]string{"facility_id": uuid.NewString(), "reason": "x"}); r.status != 422 {
		t.Errorf("a change to a facility she did not name: %d", r.status)
	}
	csv := br.get(t, "/staff/runs/"+mainRun+"/seats.csv")
	if csv.status != 200 || !strings.Contains(csv.body, "Kita Birke;"+kitaB.String()+";krippe;45;1") || strings.Contains(csv.body, "Kita Ahorn") {
		t.Errorf("seats CSV: %d %.300s", csv.status, csv.body)
	}

	// The children without a place leave as a file only with an audit entry.
	if r := br.get(t, "/staff/runs/"+mainRun+"/unplaced.csv"); r.status != 200 || !strings.HasPrefix(strings.TrimPrefix(r.body, "\ufeff"), "aktenzeichen;") {
		t.Errorf("unplaced CSV: %d %.200s", r.status, r.body)
	}
	if rows := b.auditRows(t, bo.ID, "action = 'export.created' AND object_id = ?", mainRun); len(rows) != 1 {
		t.Errorf("the unplaced CSV is audited %d times, want 1", len(rows))
	}

	// Another city sees none of it.
	kempten := b.browser("kempten.localhost")
	kempten.staffLogin(t, b.staff(t, &city{t: b.tenant(t, "kempten")}, "sachbearbeitung", authz.RoleCaseWorker, uuid.Nil, ""))
	for _, p := range []string{roundPath, "/staff/runs/" + mainRun, "/staff/runs/" + mainRun + "/results/" + leaApp, "/staff/runs/" + mainRun + "/unplaced.csv"} {
		if r := kempten.get(t, p); r.status != 404 {
			t.Errorf("Kempten GET %s: %d", p, r.status)
		}
	}

	// Publish the main run: every family gets its offer, and only once.
	res = br.submit(t, "/staff/runs/"+mainRun, "/staff/runs/"+mainRun+"/publish", nil)
	if res.status != 303 {
		t.Fatalf("publish: %d %.300s", res.status, res.body)
	}
	twice := br.submit(t, "/staff/runs/"+mainRun, "/staff/runs/"+mainRun+"/publish", nil)
	b.runRoundJobs(t)
	if twice.status != 303 && twice.status != 409 {
		t.Errorf("a second publish click: %d", twice.status)
	}
	if n := b.count(t, `SELECT count(*) FROM offer WHERE tenant_id = ?`, bo.ID); n != 3 {
		t.Errorf("%d offers after publishing, want 3", n)
	}
	mustContain(t, br.get(t, "/staff/runs/"+mainRun), "veröffentlicht")
	for _, f := range []*family{twins, lea} {
		status, list := f.api.call(t, "GET", "/api/v1/offers", nil)
		items, _ := list["items"].([]any)
		want := 1
		if f == twins {
			want = 2
		}
		if status != 200 || len(items) != want {
			t.Errorf("%s sees %d offers, want %d: %v", f.email, len(items), want, list)
		}
	}
	if ms := b.mails(t, "offer_offered"); len(ms) != 3 {
		t.Errorf("%d offer mails, want 3", len(ms))
	}
	parent := b.browser("bochum.localhost")
	parent.parentLogin(t, lea.email)
	outcome := parent.get(t, "/applications/"+leaApp+"/round")
	mustContain(t, outcome, "Ihr Kind erhält einen Platz bei seinem Wunsch 2: Kita Birke.")
	mustContain(t, outcome, "Wunsch 1 (Kita Ahorn) war vergeben")
	if r := parent.get(t, "/applications/"+twinApps[0]+"/round"); r.status != 404 {
		t.Errorf("Lea's parent reads the twins' result: %d", r.status)
	}
}
