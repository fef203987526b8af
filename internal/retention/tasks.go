package retention

import (
	"context"
	"log/slog"

	"github.com/hibiken/asynq"

	"kitaportal/internal/tenant"
)

const (
	// TaskRun is the daily retention job over every city.
	TaskRun = "retention:run"
	// RunSpec is its schedule (Europe/Berlin): at night, away from registration traffic.
	RunSpec = "30 3 * * *"
)

// Jobs runs the retention job for the worker.
type Jobs struct {
	svc     *Service
	tenants *tenant.Registry
	log     *slog.Logger
}

// NewJobs returns the retention job handler.
func NewJobs(s *Service, tenants *tenant.Registry, log *slog.Logger) *Jobs {
	return &Jobs{svc: s, tenants: tenants, log: log}
}

// HandleRun runs the job in every city, one after the other; a city that fails is
// logged and the others still run.
func (j *Jobs) HandleRun(ctx context.Context, _ *asynq.Task) error {
	if err := j.tenants.Reload(ctx); err != nil {
		return err
	}
	for _, t := range j.tenants.All() {
		res, err := j.svc.RunTenant(ctx, t)
		if err != nil {
			j.log.Error("retention run", "tenant", t.Slug, "err", err)
			continue
		}
		j.log.Info("retention run", "tenant", t.Slug, "dry_run", res.DryRun, "rows", res.Counts.Total())
	}
	return nil
}
