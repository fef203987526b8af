package contract_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/availability"
	"kitaportal/internal/contract"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/pdftext"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// accepted is Kempten on a fake clock with a Kita of three Krippe places and a family
// whose child, Jürgen Weiß-Öztürk, has accepted an offer there for next September.
type accepted struct {
	t        *testing.T
	ctx      context.Context
	db       *bun.DB
	tn       *tenant.Tenant
	clk      *clock.Manual
	facility uuid.UUID
	child    uuid.UUID
	offer    contract.FromOffer
}

func newAccepted(t *testing.T) *accepted {
	t.Helper()
	db, _ := tenanttest.DB(t)
	a := &accepted{t: t, ctx: context.Background(), db: db, tn: tenanttest.Get(t, tenanttest.Registry(t, db), "kempten"),
		clk: clock.NewManual(time.Date(2026, 12, 7, 10, 0, 0, 0, clock.Berlin)), facility: uuid.New(), child: uuid.New()}
	providerID, group, family := uuid.New(), uuid.New(), uuid.New()
	a.exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Kinderhilfe Allgäu e. V.', 'welfare')`, a.tn.ID, providerID)
	a.exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, lat, lon, age_min_months, age_max_months)
		VALUES (?, ?, ?, 'kita', 'Kita Illerwiese', 'Gartenweg', '3', '87435', 'Kempten', 'kempten', 47.7, 10.3, 0, 84)`, a.tn.ID, a.facility, providerID)
	a.exec(`INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours) VALUES (?, ?, ?, 'Spatzen', 'krippe', 45)`, a.tn.ID, group, a.facility)
	a.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places) VALUES (?, ?, '2026-01-01', 3)`, a.tn.ID, group)
	a.exec(`INSERT INTO family (tenant_id, id, street, house_number, plz, city) VALUES (?, ?, 'Lindenstraße', '4a', '87435', 'Kempten')`, a.tn.ID, family)
	a.exec(`INSERT INTO guardian (tenant_id, family_id, first_name, last_name) VALUES (?0, ?1, 'Pia', 'Weiß-Öztürk'), (?0, ?1, 'Jörg', 'Weiß')`, a.tn.ID, family)
	a.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, 'Jürgen', 'Weiß-Öztürk', '2026-02-10')`,
		a.tn.ID, a.child, family)
	a.offer = contract.FromOffer{OfferID: uuid.New(), ChildID: a.child, FacilityID: a.facility, GroupID: &group, CareHours: 35,
		Start: date.MustParse("2027-09-01")}
	a.inTx(func(ctx context.Context, tx bun.Tx) error {
		_, err := availability.Rebuild(ctx, tx, a.tn, a.today())
		return err
	})
	return a
}

func (a *accepted) today() date.Date { return date.In(a.clk.Now()) }

func (a *accepted) exec(q string, args ...any) {
	a.t.Helper()
	if _, err := a.db.ExecContext(a.ctx, q, args...); err != nil {
		a.t.Fatal(err)
	}
}

func (a *accepted) inTx(fn func(ctx context.Context, tx bun.Tx) error) {
	a.t.Helper()
	if err := database.InTenantTx(a.ctx, a.db, a.tn.ID, fn); err != nil {
		a.t.Fatal(err)
	}
}

// enter enters the contract of offer in, in a transaction of its own.
func (a *accepted) enter(in contract.FromOffer) (uuid.UUID, error) {
	var id uuid.UUID
	err := database.InTenantTx(a.ctx, a.db, a.tn.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		id, err = contract.EnterForOffer(ctx, tx, a.tn, in, a.today())
		return err
	})
	return id, err
}

// free is the Kita's free Krippe places for 35 hours in the offer's start month.
func (a *accepted) free() int {
	a.t.Helper()
	var free map[uuid.UUID]int
	a.inTx(func(ctx context.Context, tx bun.Tx) error {
		var err error
		free, err = availability.Lookup(ctx, tx, a.tn.ID, []uuid.UUID{a.facility}, "krippe", 35, a.offer.Start)
		return err
	})
	return free[a.facility]
}

// count is the one number query q answers.
func (a *accepted) count(q string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.db.QueryRowContext(a.ctx, q, args...).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// An accepted offer becomes an active portal contract up to school entry that takes its
// seat at once, is audited as the system's and leaves one job for its document; entering
// it again is the same contract, and a second place in the same period is refused.
func TestEnterForOfferMakesOneContractPerOffer(t *testing.T) {
	t.Parallel()
	a := newAccepted(t)
	if got := a.free(); got != 3 {
		t.Fatalf("free before the contract = %d, want 3", got)
	}
	id, err := a.enter(a.offer)
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Source, Status string
		End            time.Time
	}
	if err := a.db.QueryRowContext(a.ctx, `SELECT source, status, end_date FROM contract WHERE tenant_id = ? AND id = ?`, a.tn.ID, id).
		Scan(&k.Source, &k.Status, &k.End); err != nil {
		t.Fatal(err)
	}
	// Born 10 February 2026, six by 30 September 2032: school from the Kita year 2032.
	if k.Source != contract.SourcePortal || k.Status != "active" || k.End.Format(time.DateOnly) != "2032-09-01" {
		t.Errorf("contract %+v, want portal, active, ending at school entry 2032-09-01", k)
	}
	if got := a.free(); got != 2 {
		t.Errorf("free after the contract = %d, want 2", got)
	}
	if n := a.count(`SELECT count(*) FROM audit_event WHERE tenant_id = ? AND action = ? AND object_id = ? AND actor_kind = 'system'`,
		a.tn.ID, contract.ActionCreated, id.String()); n != 1 {
		t.Errorf("%d audit records of the entry by the system, want 1", n)
	}

	again, err := a.enter(a.offer)
	if err != nil || again != id {
		t.Errorf("entering the offer again = %s, %v; want the first contract %s", again, err, id)
	}
	a.inTx(func(ctx context.Context, tx bun.Tx) error {
		if found, err := contract.OfOffer(ctx, tx, a.tn.ID, a.offer.OfferID); err != nil || found != id {
			t.Errorf("OfOffer = %s, %v; want %s", found, err, id)
		}
		if _, err := contract.OfOffer(ctx, tx, a.tn.ID, uuid.New()); !errors.Is(err, contract.ErrNotFound) {
			t.Errorf("OfOffer of an offer without a contract: %v, want not found", err)
		}
		return nil
	})
	if n := a.count(`SELECT count(*) FROM contract WHERE tenant_id = ? AND child_id = ?`, a.tn.ID, a.child); n != 1 {
		t.Errorf("%d contracts of the child, want 1", n)
	}
	if n := a.count(`SELECT count(*) FROM outbox WHERE tenant_id = ? AND task_type = ? AND payload->>'contract_id' = ?`,
		a.tn.ID, contract.TaskDocument, id.String()); n != 1 {
		t.Errorf("%d document jobs, want 1", n)
	}
	if got := a.free(); got != 2 {
		t.Errorf("free after the second entry = %d, want 2 (the seat counted once)", got)
	}

	// Another offer for the child, starting while the first contract runs.
	other := a.offer
	other.OfferID, other.Start = uuid.New(), date.MustParse("2028-01-01")
	_, err = a.enter(other)
	if e, ok := apperr.As(err); !ok || e.Code != "contract_overlaps" {
		t.Errorf("an overlapping contract: %v, want contract_overlaps", err)
	}
	if n := a.count(`SELECT count(*) FROM contract WHERE tenant_id = ? AND child_id = ?`, a.tn.ID, a.child); n != 1 {
		t.Errorf("%d contracts after the refused one, want 1", n)
	}
}

// The document job makes the care contract once: it reads back with the family, the
// child, the start, the city's fee and every attachment; a second delivery changes
// nothing, and the papers are noted as received once.
func TestDocumentJobStoresTheCareContractOnce(t *testing.T) {
	t.Parallel()
	a := newAccepted(t)
	id, err := a.enter(a.offer)
	if err != nil {
		t.Fatal(err)
	}
	var payload []byte
	if err := a.db.QueryRowContext(a.ctx, `SELECT payload FROM outbox WHERE tenant_id = ? AND task_type = ?`, a.tn.ID, contract.TaskDocument).
		Scan(&payload); err != nil {
		t.Fatal(err)
	}
	files, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	docs := contract.NewDocuments(a.db, files, tenanttest.Registry(t, a.db), a.clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	task := asynq.NewTask(contract.TaskDocument, payload)
	if err := docs.Handle(a.ctx, task); err != nil {
		t.Fatal(err)
	}
	key, madeAt, pdf := a.document(files, id)
	if want := "contracts/" + a.tn.ID.String() + "/" + id.String() + ".pdf"; key != want {
		t.Errorf("stored under %q, want %q", key, want)
	}
	text, err := pdftext.Read(pdf)
	if err != nil {
		t.Fatal(err) // pdftext names poppler-utils when pdftotext is missing
	}
	// Kempten's fee table: Krippe up to 35 hours is 285.00 €.
	wants := []string{"Betreuungsvertrag", "Kinderbetreuung Kempten", "Jürgen Weiß-Öztürk", "10.02.2026", "01.09.2027", "35 Stunden",
		"285,00 €", "Jörg Weiß", "Pia Weiß-Öztürk", "Lindenstraße 4a", "Kita Illerwiese", "Kinderhilfe Allgäu e. V."}
	for _, at := range a.tn.Rules.Contract.Attachments {
		wants = append(wants, "Anlage: "+at.Title.In("de"))
	}
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("the care contract lacks %q:\n%s", want, text)
		}
	}

	a.clk.Advance(time.Hour) // a re-render would print another date
	if err := docs.Handle(a.ctx, task); err != nil {
		t.Fatal(err)
	}
	if key2, madeAt2, pdf2 := a.document(files, id); key2 != key || !madeAt2.Equal(madeAt) || string(pdf2) != string(pdf) {
		t.Error("a second delivery of the job made the document again")
	}
	if err := docs.Handle(a.ctx, asynq.NewTask(contract.TaskDocument, []byte("{"))); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("a garbled job: %v, want no retry", err)
	}

	staff := uuid.New()
	first := a.clk.Now()
	for range 2 {
		a.inTx(func(ctx context.Context, tx bun.Tx) error {
			return contract.MarkPapersReceived(ctx, tx, a.tn.ID, id, staff, a.clk.Now())
		})
		a.clk.Advance(time.Hour)
	}
	var receivedAt time.Time
	if err := a.db.QueryRowContext(a.ctx, `SELECT papers_received_at FROM contract WHERE tenant_id = ? AND id = ?`, a.tn.ID, id).
		Scan(&receivedAt); err != nil || !receivedAt.Equal(first) {
		t.Errorf("papers received at %v (%v), want the first note %v", receivedAt, err, first)
	}
}

// document is where contract id's document is kept, when it was made and its bytes.
func (a *accepted) document(files storage.Storage, id uuid.UUID) (string, time.Time, []byte) {
	a.t.Helper()
	var key string
	var ready bool
	var madeAt time.Time
	a.inTx(func(ctx context.Context, tx bun.Tx) error {
		var err error
		if key, ready, err = contract.DocumentOf(ctx, tx, a.tn.ID, id); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT coalesce(document_at, 'epoch') FROM contract WHERE tenant_id = ? AND id = ?`, a.tn.ID, id).Scan(&madeAt)
	})
	if !ready {
		a.t.Fatal("the document is not ready after its job")
	}
	r, err := files.Open(a.ctx, key)
	if err != nil {
		a.t.Fatal(err)
	}
	defer r.Close()
	pdf, err := io.ReadAll(r)
	if err != nil {
		a.t.Fatal(err)
	}
	return key, madeAt, pdf
}
