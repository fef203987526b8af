package placement

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/availability"
	"kitaportal/internal/platform/date"
)

// The figures of the offers issue (make bench-offers): the last seat under 100
// concurrent offers, 10,000 deadlines in one minute, and accept → contract PDF.

// Each iteration: a facility with one seat left and 100 requests for it; 100 offers at
// once. Exactly one is made, every time; the rest are refused with offer_no_seat.
func BenchmarkLastSeatUnder100ConcurrentOffers(b *testing.B) {
	f := newFixture(b, "leipzig")
	start := f.soon()
	lead := f.staff("tenant_admin", uuid.Nil)
	const n = 100
	for b.Loop() {
		b.StopTimer()
		kita := f.facility(fmt.Sprintf("Kita %d", seq.Add(1)), 1)
		apps := make([]uuid.UUID, n)
		for i := range apps {
			apps[i] = f.request(f.household("Kind", start), start, kita)
		}
		b.StartTimer()
		var wg sync.WaitGroup
		var mu sync.Mutex
		made := 0
		for i := range apps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Make(f.ctx, lead, NewOffer{ApplicationID: apps[i], Rank: 1, Reason: "Last"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					made++
				case !errors.Is(err, ErrNoSeat):
					b.Errorf("unexpected: %v", err)
				}
			}()
		}
		wg.Wait()
		if made != 1 || f.free(kita, start) != 0 {
			b.Fatalf("%d offers for the last seat, free %d; want exactly one", made, f.free(kita, start))
		}
	}
}

// 10,000 open offers at 200 facilities whose deadline falls in the same minute: one
// sweep (one worker) expires them all and frees their seats; the search's availability
// shows every seat free again.
func BenchmarkExpire10000OffersInOneMinute(b *testing.B) {
	const facilities, perFacility = 200, 50
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b, "kempten")
		start := f.soon()
		deadline := f.clk.Now().Add(time.Hour).Truncate(time.Minute)
		kitas := make([]uuid.UUID, facilities)
		for i := range kitas {
			kitas[i] = f.facility(fmt.Sprintf("Kita %d", i), perFacility)
		}
		f.seedOpenOffers(kitas, perFacility, start, deadline)
		for _, k := range kitas[:3] {
			if got := f.free(k, start); got != 0 {
				b.Fatalf("free before expiry %d, want 0", got)
			}
		}
		f.clk.Set(deadline.Add(59 * time.Second))
		b.StartTimer()
		began := time.Now()
		expired := f.sweep()
		took := time.Since(began)
		b.StopTimer()
		if expired != facilities*perFacility {
			b.Fatalf("expired %d, want %d", expired, facilities*perFacility)
		}
		for _, k := range kitas {
			if got := f.free(k, start); got != perFacility {
				b.Fatalf("free after expiry %d, want %d", got, perFacility)
			}
		}
		b.ReportMetric(float64(expired)/took.Seconds(), "offers/s")
		b.ReportMetric(took.Seconds(), "s/10k")
		b.StartTimer()
	}
}

// seedOpenOffers writes per facility perFacility requests with an open offer each, as
// Make leaves them (offer open, choice offered, request offered), in one statement per
// table: making 10,000 offers one by one would measure Make, not the expiry.
func (f *fixture) seedOpenOffers(kitas []uuid.UUID, perFacility int, start date.Date, deadline time.Time) {
	f.t.Helper()
	hours := f.tn.Rules.CareScopes[len(f.tn.Rules.CareScopes)-1]
	birth := start.AddMonths(-17)
	fam := uuid.New()
	f.exec(`INSERT INTO family (tenant_id, id, plz) VALUES (?, ?, '00000')`, f.tn.ID, fam)
	f.exec(`WITH r AS (
			SELECT k.facility_id, gen_random_uuid() AS child, gen_random_uuid() AS app, n.i
			FROM unnest(?::uuid[]) AS k(facility_id), generate_series(1, ?) AS n(i)),
		c AS (INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date)
			SELECT ?, r.child, ?, 'Kind', 'B' || r.i, ? FROM r),
		a AS (INSERT INTO application (tenant_id, id, child_id, status, reference, start_date, start_period, care_hours, submitted_at)
			SELECT ?, r.app, r.child, 'offered', 'B-' || r.app, ?, ?, ?, now() FROM r),
		ch AS (INSERT INTO application_choice (tenant_id, application_id, rank, facility_id, status)
			SELECT ?, r.app, 1, r.facility_id, 'offered' FROM r)
		INSERT INTO offer (tenant_id, id, application_id, choice_rank, child_id, facility_id, care_hours, start_date, status, expires_at)
		SELECT ?, gen_random_uuid(), r.app, 1, r.child, r.facility_id, ?, ?, 'open', ? FROM r`,
		pgdialect.Array(kitas), perFacility, f.tn.ID, fam, birth, f.tn.ID, start, f.tn.Rules.Calendar().YearStart(start), hours,
		f.tn.ID, f.tn.ID, hours, start, deadline)
	f.inTx(func(tx bun.Tx) error { return availability.Refresh(f.ctx, tx, f.tn, f.today(), kitas...) })
}

// Accept → the contract's PDF ready to download: the acceptance and the document job as
// the worker runs it after commit. p50 and p99 over the iterations.
func BenchmarkAcceptToContractPDF(b *testing.B) {
	f := newFixture(b, "kempten")
	start := f.soon()
	lead := f.staff("tenant_admin", uuid.Nil)
	docs := f.documents()
	var took []time.Duration
	for b.Loop() {
		b.StopTimer()
		kita := f.facility(fmt.Sprintf("Kita %d", seq.Add(1)), 1)
		h := f.household("Jürgen", start)
		o, err := f.svc.Make(f.ctx, lead, NewOffer{ApplicationID: f.request(h, start, kita), Rank: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		began := time.Now()
		done, err := f.svc.Accept(f.ctx, h.caller, o.ID)
		if err != nil {
			b.Fatal(err)
		}
		docs.render(*done.ContractID)
		took = append(took, time.Since(began))
		b.StopTimer()
		if _, err := f.svc.ContractDocument(f.ctx, h.caller, o.ID); err != nil {
			b.Fatalf("document not ready after its job: %v", err)
		}
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
