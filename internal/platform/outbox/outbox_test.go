package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/platform/testdb"
)

type ping struct {
	Note string `json:"note"`
}

// events is a list that other goroutines append to and a test waits on: every append
// wakes the waiters, so nothing polls or sleeps.
type events[T any] struct {
	mu      sync.Mutex
	items   []T
	changed chan struct{} // closed and replaced on every append
}

func (e *events[T]) add(v T) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.items = append(e.items, v)
	if e.changed != nil {
		close(e.changed)
		e.changed = nil
	}
}

func (e *events[T]) snapshot() []T {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]T(nil), e.items...)
}

// waitUntil blocks until cond holds for the items so far; the deadline only turns a
// hang into a failure.
func (e *events[T]) waitUntil(t *testing.T, what string, cond func([]T) bool) []T {
	t.Helper()
	timeout := time.NewTimer(15 * time.Second)
	defer timeout.Stop()
	for {
		e.mu.Lock()
		items := append([]T(nil), e.items...)
		if e.changed == nil {
			e.changed = make(chan struct{})
		}
		changed := e.changed
		e.mu.Unlock()
		if cond(items) {
			return items
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("timed out waiting for %s; have %v", what, items)
		}
	}
}

// received collects the notes of the payloads a real asynq worker processed.
type received struct{ events[string] }

func (r *received) handle(_ context.Context, t *asynq.Task) error {
	var p ping
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return err
	}
	r.add(p.Note)
	return nil
}

// recordingEnqueuer hands jobs on to asynq and records the outcome of every attempt the
// relay makes, in the order it makes them.
type recordingEnqueuer struct {
	next     outbox.Enqueuer
	attempts events[error]
}

func (r *recordingEnqueuer) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	info, err := r.next.EnqueueContext(ctx, task, opts...)
	r.attempts.add(err)
	return info, err
}

func redisVia(t *testing.T, addr string) asynq.RedisConnOpt {
	t.Helper()
	opt, err := asynq.ParseRedisURI(testdb.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := opt.(asynq.RedisClientOpt)
	if addr != "" {
		c.Addr = addr
	}
	c.DialTimeout, c.ReadTimeout, c.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
	return c
}

func redisAddr(t *testing.T) string {
	u, err := url.Parse(testdb.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func add(t *testing.T, db *bun.DB, queue, note string, commit bool) {
	t.Helper()
	ctx := context.Background()
	errRollback := errors.New("roll back")
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := outbox.Add(ctx, tx, outbox.Message{Type: "test:ping", Payload: ping{Note: note}, Queue: queue}); err != nil {
			return err
		}
		if !commit {
			return errRollback
		}
		return nil
	})
	if commit && err != nil || !commit && !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
}

func startWorker(t *testing.T, queue string, got *received) {
	t.Helper()
	srv := asynq.NewServer(redisVia(t, ""), asynq.Config{
		// One job at a time: the queue is FIFO, so jobs are handled in the order the relay
		// enqueued them, and a job's delivery proves every earlier one was delivered.
		Concurrency: 1, Queues: map[string]int{queue: 1},
		Logger: quietLogger{}, LogLevel: asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc("test:ping", got.handle)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Shutdown()
		insp := asynq.NewInspector(redisVia(t, ""))
		_ = insp.DeleteQueue(queue, true) // keep the test Redis free of one-off queues
		insp.Close()
	})
}

func TestCommittedJobIsDeliveredAfterRedisOutage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, dbURL := testdb.New(t)
	queue := "test-" + uuid.NewString()
	proxy := testdb.NewProxy(t, redisAddr(t))

	client := asynq.NewClient(redisVia(t, proxy.Addr()))
	defer client.Close()
	enq := &recordingEnqueuer{next: client}
	relay := outbox.NewRelay(db, dbURL, enq, slog.New(slog.NewTextHandler(io.Discard, nil)))
	relay.Poll = 100 * time.Millisecond
	go relay.Run(ctx)

	got := &received{}
	startWorker(t, queue, got)

	proxy.Down() // Redis unreachable for the relay from here on
	add(t, db, queue, "committed while redis was down", true)
	add(t, db, queue, "rolled back", false)

	// The relay tries, fails, and records why; the job stays in the outbox. The relay runs
	// its passes one after another, so its second attempt proves the failed pass committed.
	attempts := enq.attempts.waitUntil(t, "a second relay attempt", func(errs []error) bool { return len(errs) >= 2 })
	for i, err := range attempts {
		if err == nil {
			t.Fatalf("relay attempt %d reached redis while it was down", i+1)
		}
	}
	var attempted int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(attempts), 0) FROM outbox WHERE relayed_at IS NULL`).Scan(&attempted); err != nil || attempted == 0 {
		t.Fatalf("failed relay attempt not recorded: attempts %d, %v", attempted, err)
	}
	// Every attempt failed, so asynq never had a job to hand out.
	if n := len(got.snapshot()); n != 0 {
		t.Fatalf("%d jobs arrived while redis was down", n)
	}

	proxy.Up()
	got.waitUntil(t, "delivery after the outage", func(n []string) bool { return len(n) >= 1 })
	// The next job is committed after the rolled-back transaction, and the relay hands jobs
	// over in outbox order: once it is delivered, a wrongly relayed rolled-back job would
	// have been delivered before it.
	add(t, db, queue, "committed after recovery", true)
	notes := got.waitUntil(t, "the next job", func(n []string) bool { return slices.Contains(n, "committed after recovery") })
	if len(notes) != 2 || notes[0] != "committed while redis was down" || notes[1] != "committed after recovery" {
		t.Fatalf("delivered %q", notes)
	}
	var rows, pending int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE relayed_at IS NULL) FROM outbox`).Scan(&rows, &pending); err != nil {
		t.Fatal(err)
	}
	if rows != 2 || pending != 0 {
		t.Errorf("outbox has %d rows, %d pending; the rolled-back job must not exist", rows, pending)
	}
}

func TestRelayingTheSameRowTwiceEnqueuesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := testdb.New(t)
	queue := "test-" + uuid.NewString()
	client := asynq.NewClient(redisVia(t, ""))
	defer client.Close()
	relay := outbox.NewRelay(db, "", client, slog.New(slog.NewTextHandler(io.Discard, nil)))

	add(t, db, queue, "once", true)
	if n, err := relay.RelayOnce(ctx); err != nil || n != 1 {
		t.Fatalf("first relay: %d %v", n, err)
	}
	// Simulate a crash after enqueue but before the commit of relayed_at.
	if _, err := db.ExecContext(ctx, `UPDATE outbox SET relayed_at = NULL`); err != nil {
		t.Fatal(err)
	}
	if n, err := relay.RelayOnce(ctx); err != nil || n != 1 {
		t.Fatalf("second relay: %d %v", n, err)
	}
	insp := asynq.NewInspector(redisVia(t, ""))
	defer insp.Close()
	info, err := insp.GetQueueInfo(queue)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 1 {
		t.Errorf("queue holds %d tasks, want exactly 1", info.Size)
	}
	_, _ = insp.DeleteAllPendingTasks(queue)
	_ = insp.DeleteQueue(queue, true)
}

func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := testdb.New(t)
	add(t, db, "default", "old", true)
	add(t, db, "default", "pending", true)
	if _, err := db.ExecContext(ctx, `UPDATE outbox SET relayed_at = now() - interval '8 days' WHERE payload->>'note' = 'old'`); err != nil {
		t.Fatal(err)
	}
	n, err := outbox.Prune(ctx, db, 7*24*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d: %v", n, err)
	}
	var left string
	if err := db.QueryRowContext(ctx, `SELECT payload->>'note' FROM outbox`).Scan(&left); err != nil || left != "pending" {
		t.Errorf("left %q %v", left, err)
	}
}

type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}
