package availability

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// TaskEnsure rebuilds the availability of every tenant whose stored window or rules
// version is out of date: once a month when the window moves on, and after a rules
// change (age bands, care scopes, Kita year). Changes of places, contracts and offers do
// not wait for it; they refresh in their own transaction.
const TaskEnsure = "availability:ensure"

// EnsureSpec is how often the worker's scheduler runs TaskEnsure.
const EnsureSpec = "@every 1m"

// Jobs runs the availability housekeeping.
type Jobs struct {
	db    *bun.DB
	clock clock.Clock
	log   *slog.Logger
}

// NewJobs returns the job handlers.
func NewJobs(db *bun.DB, c clock.Clock, log *slog.Logger) *Jobs {
	return &Jobs{db: db, clock: c, log: log}
}

// HandleEnsure is the handler of TaskEnsure.
func (j *Jobs) HandleEnsure(ctx context.Context, _ *asynq.Task) error {
	reg := tenant.NewRegistry(tenant.NewStore(j.db), j.log)
	if err := reg.Reload(ctx); err != nil {
		return err
	}
	_, err := Ensure(ctx, j.db, reg.All(), date.Today(j.clock), j.log)
	return err
}

// Ensure rebuilds the tenants among ts whose availability is missing or out of date and
// returns their slugs. Suspended tenants are rebuilt too: their data stays usable.
func Ensure(ctx context.Context, db *bun.DB, ts []*tenant.Tenant, today date.Date, log *slog.Logger) ([]string, error) {
	var rebuilt []string
	var errs []error
	for _, t := range ts {
		if t.Rules == nil {
			continue
		}
		st, ok, err := StateOf(ctx, db, t.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok && st.Current(t, today) {
			continue
		}
		err = database.InTenantTx(ctx, db, t.ID, func(ctx context.Context, tx bun.Tx) error {
			b, err := Rebuild(ctx, tx, t, today)
			if err == nil && log != nil {
				log.Info("availability rebuilt", "tenant", t.Slug, "first_month", b.Window.First.String(),
					"months", b.Window.Months, "facilities", b.Facilities, "cells", b.Cells, "ms", b.Took.Milliseconds())
			}
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Slug, err))
			continue
		}
		rebuilt = append(rebuilt, t.Slug)
	}
	return rebuilt, errors.Join(errs...)
}
