package round

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/allocation"
	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/notify"
	"kitaportal/internal/notify/notifytest"
	"kitaportal/internal/placement"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// city is a test database's central city on a fake clock with the round's services.
type city struct {
	t      testing.TB
	ctx    context.Context
	db     *bun.DB
	tn     *tenant.Tenant
	reg    *tenant.Registry
	clk    *clock.Manual
	places *placement.Service
	rounds *Service
	jobs   *Jobs
	worker auth.Caller // a case worker
	start  date.Date   // the start of every request: the first of the month four months on
	n      int
}

func newCity(t testing.TB, slug string) *city {
	t.Helper()
	db, _ := tenanttest.DB(t)
	reg := tenanttest.Registry(t, db)
	c := &city{t: t, ctx: context.Background(), db: db, reg: reg, tn: tenanttest.Get(t, reg, slug),
		clk: clock.NewManual(time.Now().UTC().Truncate(time.Second))}
	c.places = placement.NewService(placement.Deps{DB: db, Clock: c.clk, Mails: notifytest.Templates(t),
		Links: notify.NewLinks(func(slug string) string { return "http://" + slug + ".localhost" })})
	c.rounds = NewService(db, c.clk, c.places)
	c.jobs = NewJobs(c.rounds, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.start = date.In(c.clk.Now()).FirstOfMonth().AddMonths(4)
	c.tx(func(tx bun.Tx) error {
		_, err := availability.Rebuild(c.ctx, tx, c.tn, date.In(c.clk.Now()))
		return err
	})
	id := uuid.New()
	c.exec(`INSERT INTO account (tenant_id, id, kind, email, status, password_hash) VALUES (?, ?, 'staff', 'sb@test', 'active', 'x')`, c.tn.ID, id)
	c.worker = auth.Caller{Tenant: c.tn, Principal: &auth.Principal{Kind: auth.KindStaff, ID: id, TenantID: c.tn.ID, MFADone: true}}
	return c
}

func (c *city) exec(q string, args ...any) {
	c.t.Helper()
	if _, err := c.db.ExecContext(c.ctx, q, args...); err != nil {
		c.t.Fatal(err)
	}
}

func (c *city) tx(fn func(tx bun.Tx) error) {
	c.t.Helper()
	if err := database.InTenantTx(c.ctx, c.db, c.tn.ID, func(_ context.Context, tx bun.Tx) error { return fn(tx) }); err != nil {
		c.t.Fatal(err)
	}
}

// kita is a facility with one Krippe group of 45 hours and places from a year ago.
func (c *city) kita(name string, places int) uuid.UUID {
	c.t.Helper()
	prov, id, group := uuid.New(), uuid.New(), uuid.New()
	c.exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, ?, 'municipal')`, c.tn.ID, prov, "Träger "+name)
	c.exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key,
		lat, lon, age_min_months, age_max_months) VALUES (?, ?, ?, 'kita', ?, 'Hauptstraße', '1', '44787', 'Bochum', 'bochum', 51.48, 7.21, 0, 72)`,
		c.tn.ID, id, prov, name)
	c.exec(`INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours) VALUES (?, ?, ?, 'Krippe', 'krippe', 45)`,
		c.tn.ID, group, id)
	c.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places) VALUES (?, ?, ?, ?)`,
		c.tn.ID, group, date.In(c.clk.Now()).AddMonths(-12), places)
	c.tx(func(tx bun.Tx) error { return availability.Refresh(c.ctx, tx, c.tn, date.In(c.clk.Now()), id) })
	return id
}

// applicant is one child's filed request.
type applicant struct {
	app, child, family uuid.UUID
	parent             auth.Caller
	email              string
}

// family files a request for each birth date (siblings when several) for the
// facilities in order, with the criteria claimed.
func (c *city) family(births []date.Date, criteria string, facilities ...uuid.UUID) []applicant {
	c.t.Helper()
	c.n++
	fam, acct := uuid.New(), uuid.New()
	email := fmt.Sprintf("familie%d@test", c.n)
	c.exec(`INSERT INTO account (tenant_id, id, kind, email, status, language, password_hash) VALUES (?, ?, 'parent', ?, 'active', 'de', 'x')`,
		c.tn.ID, acct, email)
	c.exec(`INSERT INTO family (tenant_id, id, street, house_number, plz, city, municipality_key) VALUES (?, ?, 'Weg', '1', '44787', 'Bochum', 'bochum')`,
		c.tn.ID, fam)
	c.exec(`INSERT INTO guardian (tenant_id, family_id, user_id, first_name, last_name, email) VALUES (?, ?, ?, 'Eva', 'Test', ?)`,
		c.tn.ID, fam, acct, email)
	parent := auth.Caller{Tenant: c.tn, Principal: &auth.Principal{Kind: auth.KindParent, ID: acct, TenantID: c.tn.ID}}
	var out []applicant
	for i, birth := range births {
		a := applicant{app: uuid.New(), child: uuid.New(), family: fam, parent: parent, email: email}
		c.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, ?, 'Test', ?)`,
			c.tn.ID, a.child, fam, fmt.Sprintf("Kind%d-%d", c.n, i), birth)
		c.exec(`INSERT INTO application (tenant_id, id, child_id, status, reference, start_date, start_period, care_hours, criteria, submitted_at)
			VALUES (?, ?, ?, 'submitted', ?, ?, ?, 35, ?::jsonb, ?)`, c.tn.ID, a.app, a.child, fmt.Sprintf("BO-T-%03d-%d", c.n, i),
			c.start, c.start, criteria, c.clk.Now().Add(-time.Hour))
		for r, f := range facilities {
			c.exec(`INSERT INTO application_choice (tenant_id, application_id, rank, facility_id) VALUES (?, ?, ?, ?)`, c.tn.ID, a.app, r+1, f)
		}
		out = append(out, a)
	}
	return out
}

// freezeRound freezes a round over the start month.
func (c *city) freezeRound(name string) *Round {
	c.t.Helper()
	r, err := c.rounds.Create(c.ctx, c.worker, NewRound{Name: name, From: c.start, Until: c.start.AddMonths(1)})
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// run queues a run and does it as the worker would.
func (c *city) run(roundID uuid.UUID, kind string, ch Changes) *Run {
	c.t.Helper()
	run, err := c.rounds.StartRun(c.ctx, c.worker, roundID, kind, "", ch)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.jobs.Run(c.ctx, c.tn, run.ID); err != nil {
		c.t.Fatal(err)
	}
	done, err := c.rounds.GetRun(c.ctx, c.worker, run.ID)
	if err != nil {
		c.t.Fatal(err)
	}
	return done
}

func (c *city) results(runID uuid.UUID) map[uuid.UUID]Result {
	c.t.Helper()
	rows, _, err := c.rounds.allResults(c.ctx, c.worker, runID, ShowAll)
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[uuid.UUID]Result{}
	for _, r := range rows {
		out[r.ApplicationID] = r
	}
	return out
}

func (c *city) publish(runID uuid.UUID) *Run {
	c.t.Helper()
	if _, err := c.rounds.Publish(c.ctx, c.worker, runID); err != nil {
		c.t.Fatal(err)
	}
	if err := c.jobs.Publish(c.ctx, c.tn, runID, c.worker.Principal.ID); err != nil {
		c.t.Fatal(err)
	}
	run, err := c.rounds.GetRun(c.ctx, c.worker, runID)
	if err != nil {
		c.t.Fatal(err)
	}
	return run
}

func (c *city) offers(app uuid.UUID) []string {
	c.t.Helper()
	var out []string
	if err := c.db.NewRaw(`SELECT status FROM offer WHERE tenant_id = ? AND application_id = ? ORDER BY created_at`, c.tn.ID, app).Scan(c.ctx, &out); err != nil {
		c.t.Fatal(err)
	}
	return out
}

func placedAt(r Result) uuid.UUID {
	if r.FacilityID == nil {
		return uuid.Nil
	}
	return *r.FacilityID
}

// A whole round on Bochum's rules: twins placed together where plain DA would split
// them, the children ahead named in each explanation, a what-if with one more place
// moving the twins up, a case worker's change and the envy it costs, publishing making
// the offers and telling the families, a decline's seat going to the next child by a
// follow-up run.
func TestARoundFromFreezeToFollowUp(t *testing.T) {
	c := newCity(t, "bochum")
	a, b := c.kita("Kita Am Park", 2), c.kita("Kita Bergstraße", 2)
	older := c.start.AddMonths(-20)
	younger := c.start.AddMonths(-15)
	single := c.family([]date.Date{c.start.AddMonths(-18)}, `{"single_parent": "yes"}`, a, b)[0]
	twins := c.family([]date.Date{c.start.AddMonths(-17), c.start.AddMonths(-17)}, `{}`, a, b)
	s2 := c.family([]date.Date{older}, `{}`, a)[0]
	s3 := c.family([]date.Date{younger}, `{}`, b, a)[0]

	r := c.freezeRound("Kita-Jahr Test")
	if r.Requests != 5 || r.Seats != 4 {
		t.Fatalf("round froze %d requests, %d seats; want 5 and 4", r.Requests, r.Seats)
	}
	main := c.run(r.ID, KindMain, Changes{})
	if main.Status != RunDone {
		t.Fatalf("run %s: %s", main.Status, main.Error)
	}
	res := c.results(main.ID)
	if placedAt(res[single.app]) != a || res[single.app].Choice != 1 {
		t.Errorf("the single parent's child (3 points) got %v choice %d, want its first", placedAt(res[single.app]), res[single.app].Choice)
	}
	if t1, t2 := placedAt(res[twins[0].app]), placedAt(res[twins[1].app]); t1 != b || t2 != b {
		t.Errorf("twins at %v and %v, want both at the second choice together", t1, t2)
	}
	if placedAt(res[s2.app]) != a || placedAt(res[s3.app]) != uuid.Nil {
		t.Errorf("s2 at %v, s3 at %v: the older child should keep A, the younger go without", placedAt(res[s2.app]), placedAt(res[s3.app]))
	}
	why := res[s3.app].Why
	if len(why.Above) != 2 || why.Above[0].Reason != allocation.ReasonTiebreak || why.Above[0].Decider != tenant.TieBreakSiblings ||
		why.Above[1].Decider != tenant.TieBreakBirthDate || why.Above[1].Last != s2.app.String() {
		t.Errorf("s3's explanation %+v: want siblings ahead at B, then the older s2 at A", why.Above)
	}
	if f := main.Figures; f.Placed != 4 || f.FirstChoice != 2 || f.Unplaced != 1 || f.SeatsLeft != 0 || f.Apart != 0 {
		t.Errorf("figures %+v", f)
	}

	// What-if: one more place at A takes the twins to their first choice.
	whatIf := c.run(r.ID, KindWhatIf, Changes{Seats: []SeatChange{{Facility: a.String(), Type: "krippe/45", Delta: 1}}})
	wres := c.results(whatIf.ID)
	if placedAt(wres[twins[0].app]) != a || placedAt(wres[twins[1].app]) != a || placedAt(wres[s3.app]) != b {
		t.Errorf("what-if: twins at %v/%v, s3 at %v", placedAt(wres[twins[0].app]), placedAt(wres[twins[1].app]), placedAt(wres[s3.app]))
	}
	cmp, err := c.rounds.Compare(c.ctx, c.worker, main.ID, whatIf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Moves) != 4 { // both twins, s2 out of A, s3 into B
		t.Errorf("comparison moves %d, want 4: %+v", len(cmp.Moves), cmp.Moves)
	}

	// A change needs a reason and shows the envy it introduces.
	if _, err := c.rounds.Change(c.ctx, c.worker, main.ID, s3.app, a, ""); func() bool { e, ok := apperr.As(err); return !ok || e.Field != "reason" }() {
		t.Errorf("change without a reason: %v", err)
	}
	if _, err := c.rounds.Change(c.ctx, c.worker, main.ID, s3.app, a, "Härtefall"); !errors.Is(err, ErrNoSeatLeft) {
		t.Errorf("change into a full Kita: %v, want round_change_no_seat", err)
	}
	envy, err := c.rounds.Change(c.ctx, c.worker, main.ID, s2.app, uuid.Nil, "Familie zieht weg")
	if err != nil {
		t.Fatal(err)
	}
	if len(envy) != 2 || envy[0].Over != "" || envy[1].Over != "" {
		t.Errorf("taking s2 out leaves a seat s2 (%s) and s3 (%s) want: %+v", s2.app, s3.app, envy)
	}
	envy, err = c.rounds.Change(c.ctx, c.worker, main.ID, s3.app, a, "Härtefall, Bescheid liegt vor")
	if err != nil {
		t.Fatal(err)
	}
	if len(envy) != 1 || envy[0].Child != s2.app.String() || envy[0].Over != s3.app.String() {
		t.Errorf("s3 in s2's seat: envy %+v, want s2 over s3", envy)
	}
	// Undo: the engine's answer again, nothing introduced.
	if _, err := c.rounds.Change(c.ctx, c.worker, main.ID, s3.app, uuid.Nil, "zurück"); err != nil {
		t.Fatal(err)
	}
	if envy, err = c.rounds.Change(c.ctx, c.worker, main.ID, s2.app, a, "zurück"); err != nil || len(envy) != 0 {
		t.Fatalf("after undoing: envy %+v, %v", envy, err)
	}

	published := c.publish(main.ID)
	if published.Status != RunPublished {
		t.Fatalf("publish: %s %v", published.Status, published.Refused)
	}
	for _, x := range append([]applicant{single, s2}, twins...) {
		if got := c.offers(x.app); !slices.Equal(got, []string{"open"}) {
			t.Errorf("%s: offers %v, want one open", x.email, got)
		}
	}
	if got := c.offers(s3.app); len(got) != 0 {
		t.Errorf("the unplaced child got offers %v", got)
	}
	out, err := c.rounds.OutcomeFor(c.ctx, s3.parent, s3.app)
	if err != nil || out == nil || out.Why.Placed != "" || len(out.Why.Above) != 2 {
		t.Fatalf("s3's family reads %+v, %v", out, err)
	}
	if other, err := c.rounds.OutcomeFor(c.ctx, s2.parent, s3.app); !errors.Is(err, ErrNotFound) || other != nil {
		t.Errorf("another family reads s3's outcome: %+v, %v (want round_not_found)", other, err)
	}

	// s2's family declines: its seat goes to s3 in a follow-up run.
	var s2offer uuid.UUID
	if err := c.db.NewRaw(`SELECT id FROM offer WHERE tenant_id = ? AND application_id = ?`, c.tn.ID, s2.app).Scan(c.ctx, &s2offer); err != nil {
		t.Fatal(err)
	}
	if _, err := c.places.Decline(c.ctx, s2.parent, s2offer, "zu weit"); err != nil {
		t.Fatal(err)
	}
	follow := c.run(r.ID, KindFollowUp, Changes{})
	fres := c.results(follow.ID)
	if len(fres) != 1 || placedAt(fres[s3.app]) != a {
		t.Fatalf("follow-up results %+v, want s3 alone, at A", fres)
	}
	if c.publish(follow.ID).Status != RunPublished || !slices.Equal(c.offers(s3.app), []string{"open"}) {
		t.Errorf("follow-up publish: s3 offers %v", c.offers(s3.app))
	}
}

// What must be refused is refused with its code and leaves nothing half done.
func TestRoundRefusals(t *testing.T) {
	c := newCity(t, "bochum")
	a := c.kita("Kita Am Park", 1)
	first := c.family([]date.Date{c.start.AddMonths(-18)}, `{}`, a)[0]
	second := c.family([]date.Date{c.start.AddMonths(-19)}, `{}`, a)[0]

	kempten := c.worker
	kempten.Tenant = tenanttest.Get(t, c.reg, "kempten")
	if _, err := c.rounds.Create(c.ctx, kempten, NewRound{Name: "x", From: c.start, Until: c.start.AddMonths(1)}); !errors.Is(err, ErrNotCentral) {
		t.Errorf("a round in a lock city: %v", err)
	}
	if _, err := c.rounds.Create(c.ctx, c.worker, NewRound{Name: "x", From: c.start.AddMonths(-12), Until: c.start.AddMonths(14)}); err == nil {
		t.Error("a round starting in the past over 26 months was accepted")
	}
	r := c.freezeRound("Runde 1")
	if _, err := c.rounds.Create(c.ctx, c.worker, NewRound{Name: "Runde 2", From: c.start, Until: c.start.AddMonths(2)}); !errors.Is(err, ErrPeriodTaken) {
		t.Errorf("an overlapping round: %v", err)
	}
	queued, err := c.rounds.StartRun(c.ctx, c.worker, r.ID, KindMain, "", Changes{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.rounds.StartRun(c.ctx, c.worker, r.ID, KindWhatIf, "", Changes{}); !errors.Is(err, ErrBusy) {
		t.Errorf("a second run at once: %v", err)
	}
	if _, err := c.rounds.Refreeze(c.ctx, c.worker, r.ID); !errors.Is(err, ErrBusy) {
		t.Errorf("refreezing under a queued run: %v", err)
	}
	if _, err := c.rounds.StartRun(c.ctx, c.worker, r.ID, KindFollowUp, "", Changes{}); !errors.Is(err, ErrNotOpen) {
		t.Errorf("a follow-up before publishing: %v", err)
	}
	if err := c.jobs.Run(c.ctx, c.tn, queued.ID); err != nil {
		t.Fatal(err)
	}
	// Delivered twice, the run is done once.
	if err := c.jobs.Run(c.ctx, c.tn, queued.ID); err != nil {
		t.Fatal(err)
	}
	res := c.results(queued.ID)
	if placedAt(res[second.app]) != a || placedAt(res[first.app]) != uuid.Nil {
		t.Fatalf("the older child should get the one seat: %+v", res)
	}
	// The placed child's request is withdrawn before publishing: nothing is published.
	c.exec(`UPDATE application SET status = 'withdrawn' WHERE tenant_id = ? AND id = ?`, c.tn.ID, second.app)
	run := c.publish(queued.ID)
	if run.Status != RunDone || run.Error != "round_publish_refused" || len(run.Refused) != 1 || run.Refused[0].ApplicationID != second.app {
		t.Fatalf("publish with a withdrawn request: %s %q %+v", run.Status, run.Error, run.Refused)
	}
	if n := len(c.offers(second.app)) + len(c.offers(first.app)); n != 0 {
		t.Errorf("%d offers made by a refused publish", n)
	}
	// Refrozen, the old run cannot be published; a new run gives the seat to the other child.
	if _, err := c.rounds.Refreeze(c.ctx, c.worker, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.rounds.Publish(c.ctx, c.worker, queued.ID); !errors.Is(err, ErrStale) {
		t.Errorf("publishing a run of an older snapshot: %v", err)
	}
	again := c.run(r.ID, KindMain, Changes{})
	if placedAt(c.results(again.ID)[first.app]) != a {
		t.Errorf("after refreezing, the remaining child should get the seat")
	}
	if run := c.publish(again.ID); run.Status != RunPublished {
		t.Errorf("publish: %s %+v", run.Status, run.Refused)
	}
	if _, err := c.rounds.StartRun(c.ctx, c.worker, r.ID, KindMain, "", Changes{}); !errors.Is(err, ErrNotOpen) {
		t.Errorf("a main run of a published round: %v", err)
	}
	// Another city's ids are unknown here.
	other := c.worker
	other.Tenant = tenanttest.Get(t, c.reg, "herzberg")
	if _, err := c.rounds.GetRun(c.ctx, other, again.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a run read from another city: %v", err)
	}
}

// A run whose snapshot is refrozen under it keeps nothing.
func TestARunOfAnOlderSnapshotFails(t *testing.T) {
	c := newCity(t, "bochum")
	a := c.kita("Kita Am Park", 1)
	c.family([]date.Date{c.start.AddMonths(-18)}, `{}`, a)
	r := c.freezeRound("Runde")
	run, err := c.rounds.StartRun(c.ctx, c.worker, r.ID, KindMain, "", Changes{})
	if err != nil {
		t.Fatal(err)
	}
	// As if a refreeze had slipped in between queueing and running.
	c.exec(`UPDATE allocation_round SET snapshot_version = snapshot_version + 1 WHERE tenant_id = ? AND id = ?`, c.tn.ID, r.ID)
	if err := c.jobs.Run(c.ctx, c.tn, run.ID); err != nil {
		t.Fatal(err)
	}
	got, err := c.rounds.GetRun(c.ctx, c.worker, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != RunFailed || got.Error != ErrStale.Code || len(c.results(run.ID)) != 0 {
		t.Errorf("stale run: %s %q with %d results", got.Status, got.Error, len(c.results(run.ID)))
	}
}

// Where the city says so, a declined seat goes to the next child without a case
// worker: the sweep starts a follow-up run once per freed seat, and the run publishes
// itself; a city that did not say so is left alone.
func TestAnAutomaticFollowUpPublishesItself(t *testing.T) {
	c := newCity(t, "bochum")
	a := c.kita("Kita Am Bach", 1)
	older := c.family([]date.Date{c.start.AddMonths(-20)}, `{}`, a)[0]
	younger := c.family([]date.Date{c.start.AddMonths(-18)}, `{}`, a)[0]
	r := c.freezeRound("Runde")
	main := c.run(r.ID, KindMain, Changes{})
	c.publish(main.ID)
	auto := *c.tn
	rules := *c.tn.Rules
	rules.Allocation.AutoFollowUp = true
	auto.Rules = &rules

	sweep := func() int {
		t.Helper()
		n, err := c.jobs.FollowUpSweep(c.ctx, &auto)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := sweep(); n != 0 {
		t.Fatalf("%d follow-ups with no seat freed", n)
	}
	c.clk.Advance(time.Minute)
	var offerID uuid.UUID
	if err := c.db.NewRaw(`SELECT id FROM offer WHERE tenant_id = ? AND application_id = ?`, c.tn.ID, older.app).Scan(c.ctx, &offerID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.places.Decline(c.ctx, older.parent, offerID, "umgezogen"); err != nil {
		t.Fatal(err)
	}
	// Bochum's own file says auto_follow_up: false, so the scheduled sweep leaves it.
	if err := c.jobs.HandleFollowUpSweep(c.ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n := queryCount(c, `SELECT count(*) FROM allocation_run WHERE tenant_id = ? AND kind = 'follow_up'`, c.tn.ID); n != 0 {
		t.Fatalf("the sweep started %d follow-ups in a city that did not ask", n)
	}
	if n := sweep(); n != 1 {
		t.Fatalf("%d follow-ups after a decline, want 1", n)
	}
	if n := sweep(); n != 0 {
		t.Errorf("a second sweep started %d more", n)
	}
	var follow Run
	if err := c.db.NewSelect().Model(&follow).Where("tenant_id = ? AND kind = 'follow_up'", c.tn.ID).Scan(c.ctx); err != nil {
		t.Fatal(err)
	}
	if !follow.AutoPublish || follow.CreatedBy != uuid.Nil {
		t.Errorf("the sweep's run: %+v", follow)
	}
	if err := c.jobs.Run(c.ctx, &auto, follow.ID); err != nil {
		t.Fatal(err)
	}
	got, err := c.rounds.GetRun(c.ctx, c.worker, follow.ID)
	if err != nil || got.Status != RunPublishing {
		t.Fatalf("after the run: %+v %v, want publishing", got, err)
	}
	if err := c.jobs.Publish(c.ctx, &auto, follow.ID, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	if got := c.offers(younger.app); !slices.Equal(got, []string{"open"}) {
		t.Errorf("the next child's offers: %v, want one open", got)
	}
	if n := queryCount(c, `SELECT count(*) FROM audit_event WHERE tenant_id = ? AND action = ? AND actor_kind = 'system'`, c.tn.ID, ActionPublished); n != 1 {
		t.Errorf("%d publications by the system in the audit log, want 1", n)
	}
	if n := sweep(); n != 0 {
		t.Errorf("%d follow-ups with nothing freed since the last", n)
	}
}

func queryCount(c *city, q string, args ...any) int {
	c.t.Helper()
	var n int
	if err := c.db.QueryRowContext(c.ctx, q, args...).Scan(&n); err != nil {
		c.t.Fatal(err)
	}
	return n
}
