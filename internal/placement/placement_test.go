package placement

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/contract"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/pdftext"
)

// soon is a start three months ahead: inside every city's lead time, so an offer goes
// out at once.
func (f *fixture) soon() date.Date { return f.today().FirstOfMonth().AddMonths(3) }

func (f *fixture) sweep() int {
	f.t.Helper()
	n, err := f.svc.SweepTenant(f.ctx, f.tn, 200)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) offer(id uuid.UUID) *offer.Offer {
	f.t.Helper()
	o, err := offer.Get(f.ctx, f.db, f.tn.ID, id, false)
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

// Kempten, the whole life of an offer on the fake clock: made eight months ahead it
// waits for its release day six months before the start; then it goes out (mail, the
// child's other request pauses), reminds the family once per reminder day, and the
// family's acceptance — twice, a double click — is one contract; the other request ends.
func TestKemptenOfferLife(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "kempten")
	start := f.nextStart(8)
	sonne, mond := f.facility("Kita Sonne", 2), f.facility("Kita Mond", 2)
	lead := f.staff("facility_lead", sonne)
	h := f.household("Jürgen", start)
	app := f.request(h, start, sonne, mond)

	o, err := f.svc.Make(f.ctx, lead, NewOffer{ApplicationID: app, Rank: 1})
	if err != nil {
		t.Fatal(err)
	}
	release := ReleaseDay(f.tn, start)
	if o.Status != offer.StatusPrepared || o.OpensAt == nil || !o.OpensAt.Equal(release.Time()) {
		t.Fatalf("made %s opening %v, want prepared until %s", o.Status, o.OpensAt, release)
	}
	if got := f.free(sonne, start); got != 1 {
		t.Errorf("free with a prepared offer = %d, want 1 (the offer holds its seat)", got)
	}
	if mine, err := f.svc.Mine(f.ctx, h.caller); err != nil || len(mine) != 0 {
		t.Fatalf("the family sees %v (%v) before the release day, want nothing", mine, err)
	}
	if f.sweep(); f.offer(o.ID).Status != offer.StatusPrepared {
		t.Fatal("released before its day")
	}

	f.clk.Set(release.Time().Add(time.Hour))
	f.sweep()
	o = f.offer(o.ID)
	if o.Status != offer.StatusOpen || o.ExpiresAt == nil || !o.ExpiresAt.Equal(Deadline(f.tn, f.clk.Now())) {
		t.Fatalf("after the release day: %s until %v", o.Status, o.ExpiresAt)
	}
	if got := f.choices(app); got[1] != application.ChoiceOffered || got[2] != application.ChoicePaused {
		t.Errorf("choices = %v, want offered and paused", got)
	}
	if f.requestStatus(app) != application.StatusOffered {
		t.Errorf("request %s, want offered", f.requestStatus(app))
	}
	if n := f.mails("offer_offered", h.email); n != 1 {
		t.Errorf("%d offer mails, want 1", n)
	}

	for _, d := range f.tn.Rules.Offers.ReminderDays {
		f.clk.Set(o.ExpiresAt.AddDate(0, 0, -d).Add(time.Minute))
		f.sweep()
		f.sweep() // a second run of the same minute sends nothing more
	}
	if n, want := f.mails("offer_reminder", h.email), len(f.tn.Rules.Offers.ReminderDays); n != want {
		t.Errorf("%d reminder mails, want %d", n, want)
	}

	var wg sync.WaitGroup
	results := make([]*offer.Offer, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = f.svc.Accept(f.ctx, h.caller, o.ID)
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil || results[i].Status != offer.StatusContracted || results[i].ContractID == nil {
			t.Fatalf("accept %d: %+v %v", i, results[i], errs[i])
		}
	}
	if *results[0].ContractID != *results[1].ContractID {
		t.Error("a double click made two contracts")
	}
	var contracts int
	if err := f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM contract WHERE tenant_id = ? AND child_id = ?`, f.tn.ID, h.child).Scan(&contracts); err != nil || contracts != 1 {
		t.Fatalf("%d contracts (%v), want 1", contracts, err)
	}
	if got := f.choices(app); got[1] != application.ChoiceAccepted || got[2] != application.ChoiceEnded {
		t.Errorf("choices after acceptance = %v, want accepted and ended", got)
	}
	if f.requestStatus(app) != application.StatusContracted {
		t.Errorf("request %s, want contracted", f.requestStatus(app))
	}
	if got := f.free(sonne, start); got != 1 {
		t.Errorf("free after the contract = %d, want 1 (the contract holds the seat, once)", got)
	}
	if n := f.mails("offer_accepted", h.email); n != 1 {
		t.Errorf("%d acceptance mails, want 1", n)
	}
	hist, err := offer.History(f.ctx, f.db, f.tn.ID, o.ID)
	if err != nil || len(hist) != 4 {
		t.Fatalf("history %v (%v), want made, released, accepted, contracted", hist, err)
	}

	// The contract's document: pending until its job ran, then the family downloads it.
	if _, err := f.svc.ContractDocument(f.ctx, h.caller, o.ID); !errors.Is(err, ErrDocumentPending) {
		t.Fatalf("document before its job: %v", err)
	}
	var jobs int
	if err := f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM outbox WHERE tenant_id = ? AND task_type = ?`, f.tn.ID, contract.TaskDocument).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("%d document jobs (%v), want 1", jobs, err)
	}
	docs := f.documents()
	docs.render(*results[0].ContractID)
	docs.render(*results[0].ContractID) // a second delivery of the job changes nothing
	doc, err := f.svc.ContractDocument(f.ctx, h.caller, o.ID)
	if err != nil || doc.Name != "Betreuungsvertrag-Weiss-"+start.String()+".pdf" {
		t.Fatalf("document %+v %v", doc, err)
	}
	r, err := docs.files.Open(f.ctx, doc.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pdf, _ := io.ReadAll(r)
	text := pdftext.ForTest(t, pdf)
	fee, _ := f.tn.Rules.Fee("krippe", f.tn.Rules.CareScopes[len(f.tn.Rules.CareScopes)-1])
	for _, want := range []string{"Jürgen Weiß", "Kita Sonne", start.Time().Format("02.01.2006"), fmt.Sprintf("%d,%02d €", fee/100, fee%100), "Pia Weiß"} {
		if !strings.Contains(text, want) {
			t.Errorf("the contract PDF lacks %q:\n%s", want, text)
		}
	}
}

// A child with a contract in the period cannot accept another place: the register's
// rule answers, and nothing of the acceptance is saved.
func TestAcceptingBesideAContractIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "leipzig")
	start := f.soon()
	kita, other := f.facility("Kita Linde", 2), f.facility("Kita Eiche", 2)
	h := f.household("Mia", start)
	o, err := f.svc.Make(f.ctx, f.staff("facility_lead", kita), NewOffer{ApplicationID: f.request(h, start, kita), Rank: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.exec(`INSERT INTO contract (tenant_id, id, child_id, facility_id, care_hours, start_date, status, source) VALUES (?, ?, ?, ?, 30, ?, 'active', 'manual')`,
		f.tn.ID, uuid.New(), h.child, other, start)
	_, err = f.svc.Accept(f.ctx, h.caller, o.ID)
	wantCode(t, err, "contract_overlaps")
	if got := f.offer(o.ID).Status; got != offer.StatusOpen {
		t.Errorf("offer %s after the refusal, want still open", got)
	}
}

// An offer left unanswered expires at its deadline and its seat shows free again at
// once; accepting after the deadline is refused with the reason, and in a lock city the
// child's other request resumes.
func TestUnansweredOfferExpiresAndFreesItsSeat(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "kempten")
	start := f.soon()
	sonne, mond := f.facility("Kita Sonne", 1), f.facility("Kita Mond", 1)
	h := f.household("Lea", start)
	app := f.request(h, start, sonne, mond)
	o, err := f.svc.Make(f.ctx, f.staff("facility_lead", sonne), NewOffer{ApplicationID: app, Rank: 1})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != offer.StatusOpen || f.free(sonne, start) != 0 {
		t.Fatalf("made %s, free %d; want open and the seat held", o.Status, f.free(sonne, start))
	}
	f.clk.Set(*o.ExpiresAt)
	_, err = f.svc.Accept(f.ctx, h.caller, o.ID)
	wantCode(t, err, "offer_deadline_passed")
	if n := f.sweep(); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	if got := f.offer(o.ID).Status; got != offer.StatusExpired {
		t.Fatalf("status %s, want expired", got)
	}
	if got := f.free(sonne, start); got != 1 {
		t.Errorf("free after expiry = %d, want 1", got)
	}
	if got := f.choices(app); got[1] != application.ChoiceDeclined || got[2] != application.ChoicePending {
		t.Errorf("choices = %v, want declined and pending again", got)
	}
	if f.requestStatus(app) != application.StatusInReview {
		t.Errorf("request %s, want back in review", f.requestStatus(app))
	}
	if n := f.mails("offer_expired", h.email); n != 1 {
		t.Errorf("%d expiry mails, want 1", n)
	}
	if n := f.sweep(); n != 0 {
		t.Errorf("a second sweep expired %d", n)
	}
}

// The last seat of a facility under concurrent offers goes to exactly one child.
func TestLastSeatGoesToOneOfConcurrentOffers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "leipzig")
	start := f.soon()
	kita := f.facility("Kita Linde", 1)
	lead := f.staff("facility_lead", kita)
	const n = 12
	apps := make([]uuid.UUID, n)
	for i := range apps {
		apps[i] = f.request(f.household("Kind", start), start, kita)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.Make(f.ctx, lead, NewOffer{ApplicationID: apps[i], Rank: 1, Reason: "Reihenfolge im Test"})
		}()
	}
	wg.Wait()
	made := 0
	for _, err := range errs {
		switch {
		case err == nil:
			made++
		case !errors.Is(err, ErrNoSeat):
			t.Errorf("unexpected: %v", err)
		}
	}
	if made != 1 || f.free(kita, start) != 0 {
		t.Fatalf("%d offers made, free %d; want exactly one and none free", made, f.free(kita, start))
	}
}

// In a lock city two facilities offering the same child at once: one offer, the other
// facility is told why; the child holds one open offer.
func TestLockCityOneOfferPerChild(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "kempten")
	start := f.soon()
	sonne, mond := f.facility("Kita Sonne", 3), f.facility("Kita Mond", 3)
	leads := []auth.Caller{f.staff("facility_lead", sonne), f.staff("facility_lead", mond)}
	h := f.household("Ben", start)
	app := f.request(h, start, sonne, mond)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.Make(f.ctx, leads[i], NewOffer{ApplicationID: app, Rank: i + 1})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, offer.ErrChildHolds) && !errors.Is(err, ErrNotOfferable) {
			t.Errorf("unexpected: %v", err)
		}
	}
	var open int
	if err := f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM offer WHERE tenant_id = ? AND child_id = ? AND status = 'open'`, f.tn.ID, h.child).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if ok != 1 || open != 1 {
		t.Fatalf("%d offers made, %d open; want one", ok, open)
	}
}

// Lüneburg: an unanswered request moves from choice 1 to choice 2 when the facility's
// days run out; the family hears where it went.
func TestCascadeForwardsWhenTheDaysRunOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "lueneburg")
	start := f.soon()
	first, second := f.facility("Kita Am Sande", 2), f.facility("Kita Stint", 2)
	h := f.household("Ole", start)
	app := f.request(h, start, first, second)
	if got := f.choices(app); got[1] != application.ChoicePending || got[2] != application.ChoiceQueued {
		t.Fatalf("filed: %v", got)
	}
	// The second facility cannot offer before its turn.
	_, err := f.svc.Make(f.ctx, f.staff("facility_lead", second), NewOffer{ApplicationID: app, Rank: 2})
	wantCode(t, err, "offer_choice_not_open")

	f.clk.Set(f.clk.Now().AddDate(0, 0, f.tn.Rules.Allocation.CascadeDays-1))
	f.sweep()
	if got := f.choices(app); got[1] != application.ChoicePending {
		t.Fatalf("moved on before the days ran out: %v", got)
	}
	f.clk.Set(f.clk.Now().AddDate(0, 0, 2))
	f.sweep()
	if got := f.choices(app); got[1] != application.ChoicePassed || got[2] != application.ChoicePending {
		t.Fatalf("after the days: %v, want passed and pending", got)
	}
	// Family and staff see where the request stands and until when.
	a, err := application.Reload(f.ctx, f.db, f.tn, app)
	if err != nil {
		t.Fatal(err)
	}
	if turn := a.Choices[1].TurnUntil; a.Choices[0].TurnUntil != nil || turn == nil || !turn.Equal(application.TurnEnd(f.tn, f.clk.Now())) {
		t.Errorf("turns: %v and %v", a.Choices[0].TurnUntil, turn)
	}
	if n := f.mails("offer_forwarded", h.email); n != 1 {
		t.Errorf("%d forwarding mails, want 1", n)
	}
	// Now the second facility offers.
	lead2 := f.staff("facility_lead", second)
	o, err := f.svc.Make(f.ctx, lead2, NewOffer{ApplicationID: app, Rank: 2})
	if err != nil || o.Status != offer.StatusOpen {
		t.Fatalf("second choice's offer: %+v %v", o, err)
	}
	// Taken back by the facility: the choice is its own again, with a new turn.
	if _, err := f.svc.Withdraw(f.ctx, lead2, o.ID, "Gruppe doch voll"); err != nil {
		t.Fatal(err)
	}
	if a, err = application.Reload(f.ctx, f.db, f.tn, app); err != nil || a.Choices[1].Status != application.ChoiceInReview ||
		a.Choices[1].TurnUntil == nil || !a.Choices[1].TurnUntil.Equal(application.TurnEnd(f.tn, f.clk.Now())) {
		t.Errorf("after the withdrawal: %+v %v", a.Choices[1], err)
	}
}

// Herzberg: a facility's proposal waits for the administration's confirmation; the lead
// cannot confirm it, the family sees nothing until a tenant admin did.
func TestHerzbergProposalWaitsForConfirmation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "herzberg")
	start := f.soon()
	kita := f.facility("Kita Regenbogen", 2)
	lead := f.staff("facility_lead", kita)
	h := f.household("Emma", start)
	app := f.request(h, start, kita)
	o, err := f.svc.Make(f.ctx, lead, NewOffer{ApplicationID: app, Rank: 1})
	if err != nil || o.Status != offer.StatusProposed {
		t.Fatalf("made %+v %v, want proposed", o, err)
	}
	if mine, _ := f.svc.Mine(f.ctx, h.caller); len(mine) != 0 {
		t.Fatal("the family sees an unconfirmed proposal")
	}
	_, err = f.svc.Confirm(f.ctx, lead, o.ID)
	wantCode(t, err, "forbidden")
	v, err := f.svc.Confirm(f.ctx, f.staff("tenant_admin", uuid.Nil), o.ID)
	if err != nil || v.Status != offer.StatusOpen {
		t.Fatalf("confirmed: %+v %v, want open", v, err)
	}
	if n := f.mails("offer_offered", h.email); n != 1 {
		t.Errorf("%d offer mails, want 1", n)
	}
	if mine, _ := f.svc.Mine(f.ctx, h.caller); len(mine) != 1 || !mine[0].CanAnswer {
		t.Errorf("the family sees %+v, want the open offer", mine)
	}
}

// Ids of other families, other facilities and other cities are not found; withdrawing
// needs a reason, frees the seat and tells the family.
func TestForeignIDsAndWithdrawal(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "leipzig")
	start := f.soon()
	kita, other := f.facility("Kita Linde", 1), f.facility("Kita Eiche", 1)
	lead := f.staff("facility_lead", kita)
	h := f.household("Mia", start)
	o, err := f.svc.Make(f.ctx, lead, NewOffer{ApplicationID: f.request(h, start, kita), Rank: 1})
	if err != nil {
		t.Fatal(err)
	}
	stranger := f.household("Tom", start)
	if _, err := f.svc.Accept(f.ctx, stranger.caller, o.ID); !errors.Is(err, offer.ErrNotFound) {
		t.Errorf("another family's accept: %v, want not found", err)
	}
	if _, err := f.svc.Decline(f.ctx, stranger.caller, o.ID, ""); !errors.Is(err, offer.ErrNotFound) {
		t.Errorf("another family's decline: %v, want not found", err)
	}
	if _, err := f.svc.Withdraw(f.ctx, f.staff("facility_lead", other), o.ID, "nein"); !errors.Is(err, offer.ErrNotFound) {
		t.Errorf("another facility's withdrawal: %v, want not found", err)
	}
	if _, err := f.svc.Accept(f.ctx, h.caller, uuid.New()); !errors.Is(err, offer.ErrNotFound) {
		t.Errorf("an unknown id: %v, want not found", err)
	}
	elsewhere := newFixture(t, "kempten")
	if _, err := elsewhere.svc.Accept(elsewhere.ctx, elsewhere.household("Ida", start).caller, o.ID); !errors.Is(err, offer.ErrNotFound) {
		t.Errorf("another city's id: %v, want not found", err)
	}
	if _, err := f.svc.Withdraw(f.ctx, lead, o.ID, "  "); !errors.Is(err, offer.ErrReasonMissing) {
		t.Errorf("withdrawal without reason: %v", err)
	}
	v, err := f.svc.Withdraw(f.ctx, lead, o.ID, "Gruppe schließt")
	if err != nil || v.Status != offer.StatusWithdrawn || f.free(kita, start) != 1 {
		t.Fatalf("withdrawn: %+v %v free %d", v, err, f.free(kita, start))
	}
	if n := f.mails("offer_withdrawn", h.email); n != 1 {
		t.Errorf("%d withdrawal mails, want 1", n)
	}
	if _, err := f.svc.Accept(f.ctx, h.caller, o.ID); !errors.Is(err, ErrNotAnswerable) {
		t.Errorf("accepting a withdrawn offer: %v", err)
	}
}

// Leipzig: a family reserves a place shown free; the facility confirms it (the place is
// the family's contract) or the reservation lapses after the city's days and the seat is
// free again. Cities without reservations refuse them.
func TestLeipzigReservation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "leipzig")
	start := f.soon()
	kita := f.facility("Kita Linde", 1)
	lead := f.staff("facility_lead", kita)

	h := f.household("Paula", start)
	o, err := f.svc.Reserve(f.ctx, h.caller, f.request(h, start, kita), 1)
	if err != nil || o.Status != offer.StatusReserved || f.free(kita, start) != 0 {
		t.Fatalf("reserved %+v %v, free %d", o, err, f.free(kita, start))
	}
	other := f.household("Karl", start)
	if _, err := f.svc.Reserve(f.ctx, other.caller, f.request(other, start, kita), 1); !errors.Is(err, ErrNoSeat) {
		t.Errorf("a second reservation of the last seat: %v", err)
	}
	if _, err := f.svc.Reserve(f.ctx, other.caller, o.ApplicationID, 1); !errors.Is(err, offer.ErrNotFound) {
		t.Errorf("reserving on another family's request: %v", err)
	}
	v, err := f.svc.ConfirmReservation(f.ctx, lead, o.ID)
	if err != nil || v.Status != offer.StatusContracted || v.ContractID == nil {
		t.Fatalf("confirmed: %+v %v", v, err)
	}

	kita2 := f.facility("Kita Eiche", 1)
	late := f.household("Lotte", start)
	o, err = f.svc.Reserve(f.ctx, late.caller, f.request(late, start, kita2), 1)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Set(o.ExpiresAt.Add(time.Second))
	if _, err := f.svc.ConfirmReservation(f.ctx, f.staff("facility_lead", kita2), o.ID); !errors.Is(err, ErrDeadline) {
		t.Errorf("confirming after the days: %v", err)
	}
	f.sweep()
	if got := f.offer(o.ID).Status; got != offer.StatusExpired || f.free(kita2, start) != 1 {
		t.Errorf("lapsed reservation: %s, free %d", got, f.free(kita2, start))
	}

	k := newFixture(t, "kempten")
	kh := k.household("Max", start)
	if _, err := k.svc.Reserve(k.ctx, kh.caller, k.request(kh, start, k.facility("Kita Iller", 1)), 1); !errors.Is(err, ErrReservationsOff) {
		t.Errorf("kempten reservation: %v", err)
	}
}

// Offering out of the city's order needs a reason, which the audit keeps; a central city
// refuses facilities' offers; the deadline jobs are in the outbox with the offer, once.
func TestOutOfOrderCentralAndTheDeadlineJobs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "leipzig")
	start := f.soon()
	kita := f.facility("Kita Linde", 3)
	lead := f.staff("facility_lead", kita)
	ahead := f.request(f.household("Anna", start), start, kita)
	f.exec(`UPDATE application SET criteria = '{"employment": "yes"}' WHERE id = ?`, ahead)
	behind := f.request(f.household("Bruno", start), start, kita)
	_, err := f.svc.Make(f.ctx, lead, NewOffer{ApplicationID: behind, Rank: 1})
	wantCode(t, err, "offer_out_of_order_reason_required")
	o, err := f.svc.Make(f.ctx, lead, NewOffer{ApplicationID: behind, Rank: 1, Reason: "Geschwisterkind in der Gruppe"})
	if err != nil {
		t.Fatal(err)
	}
	var reason string
	if err := f.db.QueryRowContext(f.ctx, `SELECT details->>'reason' FROM audit_event WHERE tenant_id = ? AND action = ? AND object_id = ?`,
		f.tn.ID, ActionOfferMade, o.ID.String()).Scan(&reason); err != nil || reason != "Geschwisterkind in der Gruppe" {
		t.Errorf("audited reason %q (%v)", reason, err)
	}
	// A group of another facility is refused.
	var otherGroup uuid.UUID
	if err := f.db.QueryRowContext(f.ctx, `SELECT id FROM facility_group WHERE tenant_id = ? AND facility_id = ? LIMIT 1`,
		f.tn.ID, f.facility("Kita Eiche", 1)).Scan(&otherGroup); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Make(f.ctx, lead, NewOffer{ApplicationID: ahead, Rank: 1, GroupID: otherGroup})
	wantCode(t, err, "contract_group_unknown")
	if _, err := f.svc.Make(f.ctx, lead, NewOffer{ApplicationID: ahead, Rank: 1}); err != nil {
		t.Errorf("the request ahead needs no reason: %v", err)
	}
	jobs := func(kind string) int {
		var n int
		if err := f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM outbox WHERE tenant_id = ? AND task_type = ? AND payload::text LIKE ?`,
			f.tn.ID, kind, "%"+o.ID.String()+"%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if jobs(TaskExpire) != 1 || jobs(TaskRemind) != len(f.tn.Rules.Offers.ReminderDays) {
		t.Errorf("expiry jobs %d, reminder jobs %d", jobs(TaskExpire), jobs(TaskRemind))
	}
	f.inTx(func(tx bun.Tx) error { return scheduleDeadline(f.ctx, tx, f.tn, o) }) // again: nothing new
	if jobs(TaskExpire) != 1 {
		t.Errorf("a second scheduling added jobs: %d", jobs(TaskExpire))
	}

	b := newFixture(t, "bochum")
	bh := b.household("Cem", start)
	bk := b.facility("Kita Ruhr", 2)
	if _, err := b.svc.Make(b.ctx, b.staff("facility_lead", bk), NewOffer{ApplicationID: b.request(bh, start, bk), Rank: 1}); !errors.Is(err, ErrCentral) {
		t.Errorf("bochum: %v, want allocation_mode_central", err)
	}
}

// The family's acceptance and the expiry at the same instant: one outcome, the seat
// counted once.
func TestAcceptAndExpiryAtTheSameInstant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "kempten")
	start := f.soon()
	kita := f.facility("Kita Sonne", 1)
	h := f.household("Ida", start)
	o, err := f.svc.Make(f.ctx, f.staff("facility_lead", kita), NewOffer{ApplicationID: f.request(h, start, kita), Rank: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Set(*o.ExpiresAt)
	var wg sync.WaitGroup
	var acceptErr error
	wg.Add(2)
	go func() { defer wg.Done(); _, acceptErr = f.svc.Accept(f.ctx, h.caller, o.ID) }()
	go func() { defer wg.Done(); f.sweep() }()
	wg.Wait()
	if !errors.Is(acceptErr, ErrDeadline) && !errors.Is(acceptErr, ErrNotAnswerable) {
		t.Errorf("accept at the deadline: %v", acceptErr)
	}
	if got := f.offer(o.ID).Status; got != offer.StatusExpired || f.free(kita, start) != 1 {
		t.Errorf("%s, free %d; want expired and the seat free once", got, f.free(kita, start))
	}
}
