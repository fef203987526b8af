package application

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// MergeChild gives the requests of child drop to child keep (a duplicate record merged
// into the one kept, casework): those of drop still active for a period in which keep has
// an active request of its own are closed first, their open choices withdrawn, with a
// note in their history; then every request of drop is keep's.
func MergeChild(ctx context.Context, tx bun.IDB, tenantID, keep, drop uuid.UUID, actor Actor, now time.Time) error {
	var apps []struct {
		ID     uuid.UUID `bun:"id"`
		Status Status    `bun:"status"`
		Clash  bool      `bun:"clash"`
	}
	if err := tx.NewRaw(`SELECT a.id, a.status, EXISTS (SELECT 1 FROM application k WHERE k.tenant_id = a.tenant_id
			AND k.child_id = ? AND k.start_period = a.start_period AND k.status = ANY(?::text[])) AS clash
		FROM application a WHERE a.tenant_id = ? AND a.child_id = ? FOR UPDATE OF a`,
		keep, pgdialect.Array(Active), tenantID, drop).Scan(ctx, &apps); err != nil {
		return fmt.Errorf("merge: requests: %w", err)
	}
	for _, a := range apps {
		if !a.Clash || !a.Status.In(Active) {
			continue
		}
		if _, _, err := Transition(ctx, tx, tenantID, a.ID, EventClose, actor, "merged_duplicate", now); err != nil {
			return err
		}
		if err := transitionChoices(ctx, tx, tenantID, a.ID, EventWithdraw, now); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE application SET child_id = ?, updated_at = ? WHERE tenant_id = ? AND child_id = ?`,
		keep, now, tenantID, drop); err != nil {
		return fmt.Errorf("merge: move requests: %w", err)
	}
	return nil
}
