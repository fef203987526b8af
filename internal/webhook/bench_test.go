package webhook

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
)

// BenchmarkDeliveryThroughput measures the whole chain, emit → outbox → relay → asynq →
// signed POST → local receiver: events per second and the p99 latency from the commit of
// an event to its arrival (go test -bench Delivery ./internal/webhook/).
func BenchmarkDeliveryThroughput(b *testing.B) {
	bd := setup(b, DeliverConfig{Timeout: 5 * time.Second})
	var mu sync.Mutex
	committed := map[string]time.Time{}
	var latencies []time.Duration
	done := make(chan struct{}, b.N)
	rc := newReceiver(b, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		now := time.Now()
		mu.Lock()
		if at, ok := committed[r.Header.Get("Kitaportal-Event-Id")]; ok {
			latencies = append(latencies, now.Sub(at))
		}
		mu.Unlock()
		done <- struct{}{}
	})
	go func() { // the receiver's reports are not needed here
		for range rc.got {
		}
	}()
	bd.endpoint(b, rc.URL, ApplicationSubmitted)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		var id uuid.UUID
		if err := database.InTenantTx(ctx, bd.db, bd.tenantID, func(ctx context.Context, tx bun.Tx) error {
			if err := Emit(ctx, tx, bd.tenantID, Event{Type: ApplicationSubmitted, ObjectID: uuid.New()}); err != nil {
				return err
			}
			return tx.NewRaw(`SELECT id FROM webhook_event WHERE tenant_id = ? ORDER BY id DESC LIMIT 1`, bd.tenantID).Scan(ctx, &id)
		}); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		committed[id.String()] = time.Now()
		mu.Unlock()
	}
	for range b.N {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatal("deliveries stopped arriving")
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Milliseconds()), "p99-ms")
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
