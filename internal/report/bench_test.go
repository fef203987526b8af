package report_test

import (
	"context"
	"encoding/json"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/report"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// The demand planning at scale, on the bench database's synthetic Berlin (`make
// bench-data`: ~3,000 facilities, ~170,000 contracts, 12 districts):
//
//	make bench-planning
//
// BenchmarkPlanningBerlin36Months: the whole city's district × band × month report for 36
// months as the API answers it (one tenant transaction reading groups, contracts, offers,
// requests and children through their owners, the counting, the JSON), p50 and p99 over
// the iterations. BenchmarkPlanningExcelBerlin: the city's workbook with every facility
// month by month (the largest export): time, size and the heap's peak while it is built.

func benchSetup(b *testing.B) (*report.Service, auth.Caller) {
	b.Helper()
	ctx := context.Background()
	db, _, berlin := tenanttest.BenchBerlin(b, "bench-planning")
	var admin uuid.UUID
	if err := db.NewRaw(`SELECT account_id FROM staff_role WHERE tenant_id = ? AND role = 'tenant_admin' ORDER BY account_id LIMIT 1`, berlin.ID).
		Scan(ctx, &admin); err != nil {
		b.Fatalf("no tenant admin in Berlin: %v", err)
	}
	c := auth.Caller{Tenant: berlin, Principal: &auth.Principal{Kind: auth.KindStaff, ID: admin, TenantID: berlin.ID, MFADone: true}}
	return report.NewService(db, clock.System{}), c
}

func cityFilter(b *testing.B, r *tenant.Rules) report.Filter {
	b.Helper()
	f, err := report.ParseFilter(func(string) string { return "" }, r, date.Today(clock.System{}))
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func BenchmarkPlanningBerlin36Months(b *testing.B) {
	svc, c := benchSetup(b)
	ctx := context.Background()
	f := cityFilter(b, c.Tenant.Rules)
	var took []time.Duration
	var size int
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		rep, err := svc.Report(ctx, c, f, report.Options{})
		if err != nil {
			b.Fatal(err)
		}
		raw, err := json.Marshal(rep)
		if err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
		size = len(raw)
	}
	b.StopTimer()
	slices.Sort(took)
	p := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.5), "p50_ms")
	b.ReportMetric(p(0.99), "p99_ms")
	b.ReportMetric(float64(size)/1024, "json_KiB")
}

func BenchmarkPlanningExcelBerlin(b *testing.B) {
	svc, c := benchSetup(b)
	ctx := context.Background()
	f := cityFilter(b, c.Tenant.Rules)
	labels := report.Labels{T: func(k string) string { return k[len("planning."):] }, Band: func(k string) string { return k },
		District: func(k string) string { return k }, Type: func(k string) string { return k }}
	var peak atomic.Uint64
	var size int
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if used := m.HeapInuse - min(m.HeapInuse, base.HeapInuse); used > peak.Load() {
					peak.Store(used)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		rep, err := svc.Report(ctx, c, f, report.Options{Facilities: true})
		if err != nil {
			b.Fatal(err)
		}
		var out countingWriter
		if err := report.WriteWorkbook(&out, rep, labels); err != nil {
			b.Fatal(err)
		}
		close(stop)
		wg.Wait()
		size = int(out)
	}
	b.StopTimer()
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak_heap_MiB")
	b.ReportMetric(float64(size)/(1<<20), "xlsx_MiB")
}

type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}
