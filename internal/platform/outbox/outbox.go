// Package outbox records jobs inside the transaction that causes them and relays them to
// asynq after commit. A job recorded in a committed transaction is delivered even if
// Redis was down at that moment; a job of a rolled-back transaction never exists.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// notifyChannel wakes the relay right after a commit: the outbox table's statement
// trigger (outbox_notify) sends it. NOTIFY is itself transactional, so a rolled-back
// transaction wakes nobody.
const notifyChannel = "outbox_new"

// Message is one job to run after commit.
type Message struct {
	Type      string     // asynq task type, e.g. "mail:send"
	Payload   any        // marshalled to JSON
	TenantID  *uuid.UUID // the tenant it belongs to, if any (for ops and data deletion)
	Queue     string     // asynq queue; "" = default
	ProcessAt time.Time  // run no earlier than this; zero = now
	MaxRetry  int        // 0 = asynq's default
	// TaskID makes the job unique: a second Add with the same id records nothing (and
	// asynq refuses a second task of the id). Zero: a new id.
	TaskID uuid.UUID
}

// Add records m in the caller's transaction.
func Add(ctx context.Context, tx bun.IDB, m Message) error {
	payload, err := json.Marshal(m.Payload)
	if err != nil {
		return fmt.Errorf("outbox: marshal %s: %w", m.Type, err)
	}
	queue := m.Queue
	if queue == "" {
		queue = "default"
	}
	var processAt *time.Time
	if !m.ProcessAt.IsZero() {
		processAt = &m.ProcessAt
	}
	taskID := m.TaskID
	if taskID == uuid.Nil {
		taskID = uuid.New()
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO outbox (tenant_id, task_type, payload, queue, process_at, max_retry, task_id)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (task_id) DO NOTHING`,
		m.TenantID, m.Type, string(payload), queue, processAt, m.MaxRetry, taskID); err != nil {
		return fmt.Errorf("outbox: add %s: %w", m.Type, err)
	}
	return nil
}

// Enqueuer is the part of *asynq.Client the relay uses.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Relay moves committed outbox rows to asynq.
type Relay struct {
	db     *bun.DB
	dsn    string // for the LISTEN connection; "" = poll only
	enq    Enqueuer
	log    *slog.Logger
	Poll   time.Duration // fallback polling interval
	Batch  int
	Retain time.Duration // how long asynq keeps finished tasks (dedupes re-relays)
	// Gather is how long the relay waits after a wake-up before it reads the outbox, so
	// that a burst of commits (a registration window opening) is relayed in batches, not
	// one transaction per job.
	Gather   time.Duration
	maxDelay time.Duration
}

// NewRelay returns a relay; call Run.
func NewRelay(db *bun.DB, dsn string, enq Enqueuer, log *slog.Logger) *Relay {
	return &Relay{db: db, dsn: dsn, enq: enq, log: log, Poll: time.Second, Batch: 200, Retain: 24 * time.Hour, Gather: 20 * time.Millisecond,
		maxDelay: 30 * time.Second}
}

type row struct {
	ID        int64      `bun:"id"`
	TaskID    string     `bun:"task_id"`
	TaskType  string     `bun:"task_type"`
	Payload   []byte     `bun:"payload"`
	Queue     string     `bun:"queue"`
	ProcessAt *time.Time `bun:"process_at"`
	MaxRetry  int        `bun:"max_retry"`
}

// RelayOnce hands up to Batch pending rows to asynq and marks them relayed. It stops at
// the first failure (Redis down), records it on that row, commits what was relayed, and
// returns the failure.
func (r *Relay) RelayOnce(ctx context.Context) (int, error) {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit

	var rows []row
	if err := tx.NewRaw(`
		SELECT id, task_id, task_type, payload, queue, process_at, max_retry FROM outbox
		WHERE relayed_at IS NULL ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, r.Batch).Scan(ctx, &rows); err != nil {
		return 0, err
	}
	var done []int64
	var failure error
	for _, m := range rows {
		opts := []asynq.Option{
			// The task id makes a second relay of the same row (a crash between enqueue
			// and commit) a no-op instead of a second job.
			asynq.TaskID("outbox-" + m.TaskID),
			asynq.Queue(m.Queue),
			asynq.Retention(r.Retain),
		}
		if m.ProcessAt != nil {
			opts = append(opts, asynq.ProcessAt(*m.ProcessAt))
		}
		if m.MaxRetry > 0 {
			opts = append(opts, asynq.MaxRetry(m.MaxRetry))
		}
		_, enqErr := r.enq.EnqueueContext(ctx, asynq.NewTask(m.TaskType, m.Payload), opts...)
		if enqErr != nil && !errors.Is(enqErr, asynq.ErrTaskIDConflict) {
			failure = fmt.Errorf("enqueue outbox %d (%s): %w", m.ID, m.TaskType, enqErr)
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?`,
				enqErr.Error(), m.ID); err != nil {
				return 0, err
			}
			break
		}
		done = append(done, m.ID)
	}
	if len(done) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET relayed_at = now() WHERE id = ANY(?)`, pgdialect.Array(done)); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(done), failure
}

// Run relays until ctx ends: woken by NOTIFY after each commit, polling as a fallback,
// backing off while Redis or PostgreSQL is down.
func (r *Relay) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	if r.dsn != "" {
		go r.listen(ctx, wake)
	}
	delay := time.Duration(0)
	for {
		for ctx.Err() == nil {
			n, err := r.RelayOnce(ctx)
			if err != nil {
				delay = min(max(2*delay, 500*time.Millisecond), r.maxDelay)
				r.log.Warn("outbox relay failed; will retry", "err", err, "retry_in", delay)
				break
			}
			delay = 0
			if n < r.Batch {
				break
			}
		}
		wait := r.Poll
		if delay > 0 {
			wait = delay
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
			time.Sleep(r.Gather)
		case <-time.After(wait):
		}
	}
}

func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		err := r.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("outbox listener lost its connection; polling until it is back", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func (r *Relay) listenOnce(ctx context.Context, wake chan<- struct{}) error {
	conn, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		select {
		case wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// Prune deletes relayed rows older than keep and returns how many.
func Prune(ctx context.Context, db bun.IDB, keep time.Duration) (int64, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM outbox WHERE relayed_at < now() - ?::interval`, fmt.Sprintf("%d seconds", int(keep.Seconds())))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CountRelayedBefore counts one tenant's rows relayed before cutoff (already handed on:
// a mail among them was sent or given up).
func CountRelayedBefore(ctx context.Context, db bun.IDB, tenantID uuid.UUID, cutoff time.Time) (int, error) {
	var n int
	if err := db.NewRaw(`SELECT count(*) FROM outbox WHERE tenant_id = ? AND relayed_at < ?`, tenantID, cutoff).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("outbox: count relayed before: %w", err)
	}
	return n, nil
}

// DeleteRelayedBefore deletes one tenant's rows relayed before cutoff (their payloads may
// hold a mail's text) and returns how many went.
func DeleteRelayedBefore(ctx context.Context, db bun.IDB, tenantID uuid.UUID, cutoff time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM outbox WHERE tenant_id = ? AND relayed_at < ?`, tenantID, cutoff)
	if err != nil {
		return 0, fmt.Errorf("outbox: delete relayed before: %w", err)
	}
	return res.RowsAffected()
}
