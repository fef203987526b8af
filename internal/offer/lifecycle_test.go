package offer

import (
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/tenant/tenanttest"
)

// Every pair of status and event: exactly the pairs of the offers issue are allowed.
func TestTheTableAllowsExactlyTheOfferFlow(t *testing.T) {
	t.Parallel()
	allowed := map[[2]string]Status{
		{"proposed", "confirm"}:  StatusPrepared,
		{"proposed", "withdraw"}: StatusWithdrawn,
		{"prepared", "release"}:  StatusOpen,
		{"prepared", "withdraw"}: StatusWithdrawn,
		{"reserved", "confirm"}:  StatusAccepted,
		{"reserved", "decline"}:  StatusDeclined,
		{"reserved", "expire"}:   StatusExpired,
		{"reserved", "withdraw"}: StatusWithdrawn,
		{"open", "accept"}:       StatusAccepted,
		{"open", "decline"}:      StatusDeclined,
		{"open", "expire"}:       StatusExpired,
		{"open", "withdraw"}:     StatusWithdrawn,
		{"accepted", "contract"}: StatusContracted,
	}
	for _, from := range Statuses {
		for _, ev := range Events {
			to, ok := Next(from, ev)
			want, wantOK := allowed[[2]string{string(from), string(ev)}]
			if ok != wantOK || to != want {
				t.Errorf("%s --%s--> %q %v, want %q %v", from, ev, to, ok, want, wantOK)
			}
		}
	}
	for _, final := range []Status{StatusDeclined, StatusExpired, StatusWithdrawn, StatusContracted} {
		for _, ev := range Events {
			if _, ok := Next(final, ev); ok {
				t.Errorf("%s is final, yet %s moves it", final, ev)
			}
		}
	}
	if got := From(EventAccept); !slices.Equal(got, []Status{StatusOpen}) {
		t.Errorf("From(accept) = %v", got)
	}
}

// The statuses here are the ones the database allows, and the holding ones its index.
func TestStatusesMatchTheSchema(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../migrations/20261207100000_offers.tx.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	list := func(re string) []string {
		m := regexp.MustCompile(re).FindStringSubmatch(string(b))
		if m == nil {
			t.Fatalf("%s not found", re)
		}
		var out []string
		for _, s := range strings.Split(m[1], ",") {
			out = append(out, strings.Trim(strings.TrimSpace(s), "'"))
		}
		return out
	}
	var all []string
	for _, s := range Statuses {
		all = append(all, string(s))
	}
	if got := list(`offer_status_check CHECK \(status IN \(([^)]*)\)\)`); !slices.Equal(got, all) {
		t.Errorf("schema %v, lifecycle %v", got, all)
	}
	if got := list(`offer_facility_holding ON offer \(tenant_id, facility_id\) WHERE status IN \(([^)]*)\)`); !slices.Equal(got, Holding) {
		t.Errorf("holding index %v, lifecycle %v", got, Holding)
	}
}

// fixture writes a facility, a child and an open offer for it, starting the next 1 August.
func fixture(t *testing.T) (db *bun.DB, tenantID uuid.UUID, newOffer func() uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	db, _ = tenanttest.DB(t)
	tn := tenanttest.Get(t, tenanttest.Registry(t, db), "kempten")
	now := time.Now()
	start := time.Date(now.Year(), time.August, 1, 0, 0, 0, 0, time.UTC)
	if !start.After(now) {
		start = start.AddDate(1, 0, 0)
	}
	birth := start.AddDate(0, -17, 0) // 17 months old at the start
	prov, fac, fam, child := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Träger', 'welfare')`, tn.ID, prov)
	exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, lat, lon, age_min_months, age_max_months)
		VALUES (?, ?, ?, 'kita', 'Kita Sonnenschein', 'Weg', '1', '87435', 'Kempten', 'kempten', 47.7, 10.3, 0, 72)`, tn.ID, fac, prov)
	exec(`INSERT INTO family (tenant_id, id) VALUES (?, ?)`, tn.ID, fam)
	exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, 'Mia', 'Muster', ?)`, tn.ID, child, fam, birth)
	return db, tn.ID, func() uuid.UUID {
		id := uuid.New()
		exec(`INSERT INTO offer (tenant_id, id, child_id, facility_id, care_hours, start_date, expires_at) VALUES (?, ?, ?, ?, 35, ?, ?)`,
			tn.ID, id, child, fac, start, now.Add(14*24*time.Hour))
		return id
	}
}

type offerState struct {
	Status  Status     `bun:"status"`
	Decided *time.Time `bun:"decided_at"`
	Events  int        `bun:"events"`
}

func stateOf(t *testing.T, db *bun.DB, tenantID, id uuid.UUID) offerState {
	t.Helper()
	var s offerState
	if err := db.NewRaw(`SELECT status, decided_at, (SELECT count(*) FROM offer_event e WHERE e.tenant_id = o.tenant_id AND e.offer_id = o.id) AS events
		FROM offer o WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A transition writes the status, the moment of the answer and one history entry; one the
// table refuses, or a withdrawal without a reason, changes nothing.
func TestTransitionWritesStatusAndHistory(t *testing.T) {
	t.Parallel()
	db, tenantID, newOffer := fixture(t)
	ctx := context.Background()
	staff := Actor{Kind: "staff", ID: uuid.New()}
	move := func(id uuid.UUID, ev Event, a Actor, note string) (Status, Status, error) {
		var from, to Status
		err := database.InTenantTx(ctx, db, tenantID, func(ctx context.Context, tx bun.Tx) error {
			var err error
			from, to, err = Transition(ctx, tx, tenantID, id, ev, a, note, time.Now())
			return err
		})
		return from, to, err
	}

	withdrawn := newOffer()
	if _, _, err := move(withdrawn, EventWithdraw, staff, "   "); !errors.Is(err, ErrReasonMissing) {
		t.Fatalf("withdraw without a reason: %v", err)
	}
	if s := stateOf(t, db, tenantID, withdrawn); s.Status != StatusOpen || s.Events != 0 || s.Decided != nil {
		t.Fatalf("a refused withdrawal changed the offer: %+v", s)
	}
	if from, to, err := move(withdrawn, EventWithdraw, staff, "Gruppe schließt"); err != nil || from != StatusOpen || to != StatusWithdrawn {
		t.Fatalf("withdraw: %s → %s, %v", from, to, err)
	}
	if s := stateOf(t, db, tenantID, withdrawn); s.Status != StatusWithdrawn || s.Events != 1 || s.Decided == nil {
		t.Errorf("after withdrawing: %+v", s)
	}
	_, _, err := move(withdrawn, EventAccept, Actor{Kind: "parent", ID: uuid.New()}, "")
	var ae *apperr.Error
	if !errors.Is(err, ErrTransition) || !errors.As(err, &ae) || ae.Kind != apperr.KindConflict {
		t.Fatalf("accepting a withdrawn offer: %v", err)
	}
	if s := stateOf(t, db, tenantID, withdrawn); s.Status != StatusWithdrawn || s.Events != 1 {
		t.Errorf("a refused acceptance changed the offer: %+v", s)
	}

	accepted := newOffer()
	parent := Actor{Kind: "parent", ID: uuid.New()}
	if _, to, err := move(accepted, EventAccept, parent, ""); err != nil || to != StatusAccepted {
		t.Fatalf("accept: %s %v", to, err)
	}
	if _, to, err := move(accepted, EventContract, Actor{Kind: "system"}, ""); err != nil || to != StatusContracted {
		t.Fatalf("contract: %s %v", to, err)
	}
	var h []HistoryEntry
	if err := database.InTenantTx(ctx, db, tenantID, func(ctx context.Context, tx bun.Tx) error {
		h, err = History(ctx, tx, tenantID, accepted)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].From != StatusOpen || h[0].To != StatusAccepted || h[0].ActorKind != "parent" || *h[0].ActorID != parent.ID ||
		h[1].From != StatusAccepted || h[1].To != StatusContracted || h[1].ActorID != nil {
		t.Errorf("history: %+v", h)
	}
	if _, _, err := move(uuid.New(), EventAccept, parent, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown offer: %v", err)
	}
}

// The family's acceptance and a withdrawal by staff at the same moment: exactly one wins,
// the other is refused, and the history has one entry.
func TestConcurrentAnswersToOneOfferLeaveOne(t *testing.T) {
	t.Parallel()
	db, tenantID, newOffer := fixture(t)
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		id := newOffer()
		start := make(chan struct{})
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i, ev := range []Event{EventAccept, EventWithdraw} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = database.InTenantTx(ctx, db, tenantID, func(ctx context.Context, tx bun.Tx) error {
					_, _, err := Transition(ctx, tx, tenantID, id, ev, Actor{Kind: "staff", ID: uuid.New()}, "Platz anders vergeben", time.Now())
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrTransition):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		s := stateOf(t, db, tenantID, id)
		if won != 1 || s.Events != 1 || (s.Status != StatusAccepted && s.Status != StatusWithdrawn) {
			t.Fatalf("round %d: %d won, %+v", round, won, s)
		}
	}
}
