package contract

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// MoveChild gives the contracts of child from to child to (a duplicate merged into the
// record kept). A contract overlapping one of to's own is refused by the database
// (contract_one_per_child); the caller reports the clash.
func MoveChild(ctx context.Context, tx bun.IDB, tenantID, from, to uuid.UUID, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE contract SET child_id = ?, updated_at = ? WHERE tenant_id = ? AND child_id = ?`,
		to, now, tenantID, from); err != nil {
		return fmt.Errorf("contract: move child: %w", err)
	}
	return nil
}
