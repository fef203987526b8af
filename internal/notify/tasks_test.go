package notify_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/notify"
	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/queue/queuetest"
	"kitaportal/internal/platform/testdb"
)

type bundle struct {
	db    *bun.DB
	sink  *mail.Sink
	queue string
	redis asynq.RedisConnOpt
}

// setup runs the real chain: outbox relay → asynq on Redis → mail job → SMTP sink.
// Retries are fast so a test can watch them.
func setup(t *testing.T) *bundle {
	t.Helper()
	db, dbURL := testdb.New(t)
	sink, err := mail.StartSink("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	sender, _ := mail.NewSMTP(sink.URL(), "Kitaportal <no-reply@kitaportal.example>")
	chain := queuetest.Start(t, db, dbURL, "mail-test", 100*time.Millisecond, map[string]asynq.HandlerFunc{
		notify.TaskSendMail: notify.NewMailer(db, sender, slog.New(slog.NewTextHandler(io.Discard, nil))).HandleSendMail,
	})
	return &bundle{db: db, sink: sink, queue: chain.Queue, redis: chain.Redis}
}

func (b *bundle) queueMail(t *testing.T, m mail.Message) {
	t.Helper()
	err := b.db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		return notify.QueueMail(ctx, tx, nil, "test", m)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitFor polls for a state that must come; it never waits for something not to happen.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settled waits until no mail job can run any more: the relay has handed over every
// outbox row, and the test's queue holds no job that is pending, running, scheduled or
// due for a retry (finished jobs are completed or archived, which never run again). From
// then on nothing can reach the sink, so its count is final.
func (b *bundle) settled(t *testing.T) {
	t.Helper()
	insp := asynq.NewInspector(b.redis)
	defer insp.Close()
	waitFor(t, "every mail job to finish", func() bool {
		var unrelayed int
		err := b.db.QueryRowContext(context.Background(), `SELECT count(*) FROM outbox WHERE relayed_at IS NULL`).Scan(&unrelayed)
		if err != nil || unrelayed > 0 {
			return false
		}
		// Read after the outbox: a relayed row's job is already in Redis. The counts are
		// one atomic snapshot, and a job moves between these sets atomically.
		q, err := insp.GetQueueInfo(b.queue)
		return err == nil && q.Pending+q.Active+q.Scheduled+q.Retry+q.Aggregating == 0
	})
}

func TestMailIsDeliveredOnceThroughOutboxAndQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.queueMail(t, mail.Message{To: "eltern@example.org", Subject: "Bestätigung Ihrer Vormerkung", Text: "Danke."})
	b.settled(t)
	var recorded int
	if err := b.db.QueryRowContext(context.Background(), `SELECT count(*) FROM mail_delivery`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != 1 {
		t.Fatalf("delivery recorded %d times", recorded)
	}
	if n := b.sink.Total(); n != 1 {
		t.Errorf("sent %d times", n)
	}
}

func TestSMTPFailuresAreRetriedAndSentOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sink.FailNext(2)
	b.queueMail(t, mail.Message{To: "eltern@example.org", Subject: "Erinnerung", Text: "Bitte antworten Sie."})
	b.settled(t) // after two refusals and two retries
	if got := b.sink.Messages(); len(got) != 1 || got[0].Subject != "Erinnerung" {
		t.Errorf("got %d mails", len(got))
	}
}

func TestARepeatedJobDoesNotSendTwice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sink, _ := mail.StartSink("127.0.0.1:0", 10)
	defer sink.Close()
	sender, _ := mail.NewSMTP(sink.URL(), "no-reply@kitaportal.example")
	h := notify.NewMailer(b.db, sender, slog.New(slog.NewTextHandler(io.Discard, nil)))
	task := asynq.NewTask(notify.TaskSendMail, []byte(`{"kind":"test","message":{"ID":"fixed-id@kitaportal","To":"a@example.org","Subject":"s","Text":"t"}}`))
	for i := 0; i < 3; i++ {
		if err := h.HandleSendMail(context.Background(), task); err != nil {
			t.Fatal(err)
		}
	}
	if sink.Total() != 1 {
		t.Errorf("the same message went out %d times", sink.Total())
	}
}
