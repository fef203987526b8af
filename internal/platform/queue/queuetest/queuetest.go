// Package queuetest runs the real job chain for one test: the outbox relay of its
// database and an asynq server on a queue of the test's own in the test Redis, so
// parallel tests never take each other's jobs.
package queuetest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/platform/testdb"
)

// Chain is a running relay and worker.
type Chain struct {
	Queue string
	Redis asynq.RedisConnOpt
}

// Start relays db's outbox (dbURL for its LISTEN) into a queue named prefix-<random>
// and runs handlers on it; retries and delayed jobs come after retry, so a test can
// watch them. Everything stops when the test ends.
func Start(t testing.TB, db *bun.DB, dbURL, prefix string, retry time.Duration, handlers map[string]asynq.HandlerFunc) *Chain {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opt, err := asynq.ParseRedisURI(testdb.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	queue := prefix + "-" + uuid.NewString()
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	// The relay puts jobs where their kind says; this test's worker listens on its own
	// queue, so every job is put there instead.
	relay := outbox.NewRelay(db, dbURL, rewriter{client, queue}, log)
	relay.Poll = 50 * time.Millisecond
	go relay.Run(ctx)
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency: 4, Queues: map[string]int{queue: 1}, LogLevel: asynq.FatalLevel,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return retry },
		DelayedTaskCheckInterval: retry,
	})
	mux := asynq.NewServeMux()
	for kind, h := range handlers {
		mux.HandleFunc(kind, h)
	}
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Shutdown()
		insp := asynq.NewInspector(opt)
		_ = insp.DeleteQueue(queue, true)
		insp.Close()
	})
	return &Chain{Queue: queue, Redis: opt}
}

type rewriter struct {
	c     *asynq.Client
	queue string
}

func (q rewriter) EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	return q.c.EnqueueContext(ctx, t, append(opts, asynq.Queue(q.queue))...)
}
