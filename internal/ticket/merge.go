package ticket

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// MoveChild gives the decided tickets of child from to child to (a duplicate merged into
// the record kept). Requested and granted ones stay: one child has at most one of those
// per Kita year, and the record kept may have its own.
func MoveChild(ctx context.Context, tx bun.IDB, tenantID, from, to uuid.UUID) error {
	if _, err := tx.ExecContext(ctx, `UPDATE access_ticket SET child_id = ? WHERE tenant_id = ? AND child_id = ? AND status <> ALL(?::text[])`,
		to, tenantID, from, pgdialect.Array([]string{TicketRequested, TicketGranted})); err != nil {
		return fmt.Errorf("ticket: move child: %w", err)
	}
	return nil
}
