package round

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/allocation"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
)

// A whole run as the worker does it: the frozen snapshot read from PostgreSQL and
// decoded, the market built, matched and explained, one result row with its
// explanation per request written back. Berlin-sized (100,000 children, 3,000
// facilities, 10 choices, 2 bands × 3 scopes, one child in ten with a twin) and
// Bochum-sized (8,861 children, 190 facilities, 5 choices). Run with
// make bench-allocation; it reports the phases (load, match, save), the Go heap's peak
// during the run and the children placed.

func BenchmarkRoundBerlin(b *testing.B) { benchRound(b, 100_000, 3_000, 10) }
func BenchmarkRoundBochum(b *testing.B) { benchRound(b, 8_861, 190, 5) }

func benchRound(b *testing.B, children, facilities, choices int) {
	c := newCity(b, "bochum")
	snap := benchSnapshot(c, children, facilities, choices)
	blob, err := snap.Encode()
	if err != nil {
		b.Fatal(err)
	}
	seats := 0
	for _, byType := range snap.Seats {
		for _, n := range byType {
			seats += n
		}
	}
	roundID := uuid.Must(uuid.NewV7())
	c.exec(`INSERT INTO allocation_round (tenant_id, id, name, start_from, start_until, cut_off, seed, snapshot, requests, facilities, seats, frozen_at, created_by)
		VALUES (?, ?, 'Benchmark', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.tn.ID, roundID, c.start, c.start.AddMonths(1), c.clk.Now(), snap.Seed,
		blob, children, facilities, seats, c.clk.Now(), c.worker.Principal.ID)

	// The phases are timed by the service's clock: the real one here.
	rounds := NewService(c.db, clock.System{}, c.places)
	jobs := NewJobs(rounds, c.reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var fig Figures
	var peak uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		run, err := rounds.StartRun(c.ctx, c.worker, roundID, KindMain, "", Changes{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := watchHeap(&peak)
		b.StartTimer()
		if err := jobs.Run(c.ctx, c.tn, run.ID); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		stop()
		got, err := rounds.GetRun(c.ctx, c.worker, run.ID)
		if err != nil || got.Status != RunDone {
			b.Fatalf("run: %v %+v", err, got)
		}
		fig = got.Figures
		b.StartTimer()
	}
	b.StopTimer()
	if fig.Requests != children {
		b.Fatalf("%d results, want %d", fig.Requests, children)
	}
	b.ReportMetric(float64(fig.LoadMS), "load-ms")
	b.ReportMetric(float64(fig.MatchMS), "match-ms")
	b.ReportMetric(float64(fig.SaveMS), "save-ms")
	b.ReportMetric(float64(fig.Placed), "placed")
	b.ReportMetric(float64(fig.Apart), "apart")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(len(blob))/(1<<20), "snapshot-MiB")
	var whyBytes float64
	if err := c.db.QueryRowContext(c.ctx, `SELECT avg(octet_length(why::text)) FROM allocation_result WHERE tenant_id = ?`, c.tn.ID).Scan(&whyBytes); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(whyBytes, "why-B")
}

// watchHeap samples the live heap every few milliseconds into peak (the highest seen)
// until stop is called.
func watchHeap(peak *uint64) (stop func()) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			*peak = max(*peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// benchSnapshot writes the families, children and requests a result row needs and
// returns a snapshot of them: seats for 80 % of the children spread over the types,
// choices at random, a fifth with a sibling at their first choice, some with global
// criteria, one in ten with a twin (same family, same wishes).
func benchSnapshot(c *city, children, facilities, choices int) *Snapshot {
	rng := rand.New(rand.NewPCG(uint64(children), 12))
	bands, hours := []string{"krippe", "kindergarten"}, []int{25, 35, 45}
	s := &Snapshot{From: c.start.String(), Until: c.start.AddMonths(1).String(), CutOff: c.clk.Now(), Seed: 7,
		Criteria: []Criterion{{Key: "alleinerziehend", Points: 3, Scope: "global"}, {Key: "berufstaetig", Points: 2, Scope: "global"},
			{Key: SiblingKey, Points: 4, Scope: "facility"}},
		TieBreaks: []string{"points", "siblings", "birth_date", "lottery"}, LargerScope: true, Scopes: hours,
		Seats: map[string]map[allocation.SeatType]int{}}
	fids := make([]string, facilities)
	for i := range fids {
		fids[i] = uuid.NewString()
		s.Seats[fids[i]] = map[allocation.SeatType]int{}
		for range children * 8 / 10 / facilities {
			s.Seats[fids[i]][allocation.TypeOf(bands[rng.IntN(2)], hours[rng.IntN(3)])]++
		}
	}
	apps, kids, fams := make([]string, children), make([]string, children), make([]string, children)
	births := make([]string, children)
	for i := range children {
		apps[i], kids[i], fams[i] = uuid.NewString(), uuid.NewString(), uuid.NewString()
		birth := c.start.AddMonths(-14 - rng.IntN(40)).AddDays(rng.IntN(28))
		q := Request{ID: apps[i], Child: kids[i], Family: fams[i], Birth: birth.String(), Start: c.start.String(),
			Band: bands[rng.IntN(2)], Hours: hours[rng.IntN(3)], Submitted: c.clk.Now().Add(-time.Duration(rng.IntN(1e6)) * time.Second)}
		for r, p := range rng.Perm(facilities)[:min(choices, facilities)] {
			q.Choices, q.Ranks = append(q.Choices, fids[p]), append(q.Ranks, r+1)
		}
		if rng.IntN(5) == 0 {
			q.SiblingAt = []string{q.Choices[0]}
		}
		if rng.IntN(4) == 0 {
			q.Criteria = append(q.Criteria, []string{"alleinerziehend", "berufstaetig"}[rng.IntN(2)])
		}
		if i > 0 && rng.IntN(10) == 0 && s.Requests[i-1].Family == fams[i-1] {
			prev := s.Requests[i-1]
			fams[i], q.Family, q.Birth, q.Band, q.Hours, q.Choices, q.Ranks = fams[i-1], prev.Family, prev.Birth, prev.Band, prev.Hours, prev.Choices, prev.Ranks
			birth = date.MustParse(prev.Birth)
		}
		births[i] = birth.String()
		q.Lottery = Lottery(s.Seed, q.ID)
		s.Requests = append(s.Requests, q)
	}
	for from := 0; from < children; from += saveBatch {
		to := min(from+saveBatch, children)
		c.exec(`INSERT INTO family (tenant_id, id) SELECT DISTINCT ?::uuid, f FROM unnest(?::uuid[]) AS f ON CONFLICT DO NOTHING`, c.tn.ID, pgdialect.Array(fams[from:to]))
		c.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date)
			SELECT ?, k, f, 'Kind', 'Bench', b FROM unnest(?::uuid[], ?::uuid[], ?::date[]) AS u(k, f, b)`,
			c.tn.ID, pgdialect.Array(kids[from:to]), pgdialect.Array(fams[from:to]), pgdialect.Array(births[from:to]))
		c.exec(`INSERT INTO application (tenant_id, id, child_id, status, reference, start_date, start_period, care_hours, submitted_at)
			SELECT ?, a, k, 'submitted', 'BO-BENCH-' || (n + ?), ?, ?, 35, now() FROM unnest(?::uuid[], ?::uuid[]) WITH ORDINALITY AS u(a, k, n)`,
			c.tn.ID, from, c.start, c.start, pgdialect.Array(apps[from:to]), pgdialect.Array(kids[from:to]))
	}
	return s
}
