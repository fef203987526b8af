package retention

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// state is a city's row of retention_state (none: never run, not enabled).
type state struct {
	EnabledAt *time.Time `bun:"enabled_at"`
	LastRunAt *time.Time `bun:"last_run_at"`
}

func loadState(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) (state, error) {
	var st state
	err := tx.NewRaw(`SELECT enabled_at, last_run_at FROM retention_state WHERE tenant_id = ?`, tenantID).Scan(ctx, &st)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("retention: state: %w", err)
	}
	return st, nil
}

func setLastRun(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO retention_state (tenant_id, last_run_at) VALUES (?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET last_run_at = EXCLUDED.last_run_at`, tenantID, at); err != nil {
		return fmt.Errorf("retention: last run: %w", err)
	}
	return nil
}

// enable sets enabled_at once; first tells whether this call did.
func enable(ctx context.Context, tx bun.IDB, tenantID, by uuid.UUID, at time.Time) (first bool, err error) {
	var byID *uuid.UUID
	if by != uuid.Nil {
		byID = &by
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO retention_state (tenant_id, enabled_at, enabled_by) VALUES (?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET enabled_at = EXCLUDED.enabled_at, enabled_by = EXCLUDED.enabled_by
		WHERE retention_state.enabled_at IS NULL`, tenantID, at, byID)
	if err != nil {
		return false, fmt.Errorf("retention: enable: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
