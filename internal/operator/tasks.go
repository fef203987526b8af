// Package operator is the vendor's side of the deployment: the landing page on the base
// domain, and the periodic housekeeping jobs whose results operators watch.
package operator

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/outbox"
)

// Periodic jobs, registered with the worker's scheduler.
const (
	TaskHeartbeat   = "system:heartbeat"
	TaskPruneOutbox = "system:outbox-prune"
	TaskPruneAuth   = "system:auth-prune"
)

// Schedule lists the periodic jobs with their cron specs.
var Schedule = []struct {
	Spec string
	Type string
}{
	{"@every 30s", TaskHeartbeat},
	{"17 3 * * *", TaskPruneOutbox}, // nightly, off the hour
	{"37 * * * *", TaskPruneAuth},
}

// Jobs runs the housekeeping jobs.
type Jobs struct {
	db   bun.IDB
	log  *slog.Logger
	name string
}

// NewJobs returns the housekeeping job handlers; name identifies this worker.
func NewJobs(db bun.IDB, log *slog.Logger, name string) *Jobs {
	return &Jobs{db: db, log: log, name: name}
}

// HandleHeartbeat records that the scheduler and a worker are alive.
func (j *Jobs) HandleHeartbeat(ctx context.Context, _ *asynq.Task) error {
	host, _ := os.Hostname()
	_, err := j.db.ExecContext(ctx, `
		INSERT INTO worker_heartbeat (name, host, beat_at) VALUES (?, ?, now())
		ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host, beat_at = EXCLUDED.beat_at`, j.name, host)
	return err
}

// HandlePruneOutbox deletes outbox rows relayed more than a week ago.
func (j *Jobs) HandlePruneOutbox(ctx context.Context, _ *asynq.Task) error {
	n, err := outbox.Prune(ctx, j.db, 7*24*time.Hour)
	if err == nil && n > 0 {
		j.log.Info("outbox pruned", "rows", n)
	}
	return err
}

// HandlePruneAuth deletes what sign-ins leave behind once it is useless: expired sessions
// and tokens, used or expired mail links after a day, and registrations nobody confirmed
// within a week (data minimisation). It is platform maintenance over every tenant, so it
// runs as the owner, outside any tenant transaction.
func (j *Jobs) HandlePruneAuth(ctx context.Context, _ *asynq.Task) error {
	sessions, err := auth.PruneSessions(ctx, j.db)
	if err != nil {
		return err
	}
	links, err := account.PruneLinksAndRegistrations(ctx, j.db)
	if err != nil {
		return err
	}
	total := sessions + links
	if total > 0 {
		j.log.Info("expired sessions, links and unconfirmed registrations pruned", "rows", total)
	}
	return nil
}
