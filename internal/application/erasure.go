package application

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// DeleteForChildren deletes every request of the children, with their choices, consents
// and events (their family's data is erased).
func DeleteForChildren(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID) error {
	if len(childIDs) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM application WHERE tenant_id = ? AND child_id = ANY(?::uuid[])`,
		tenantID, pgdialect.Array(childIDs)); err != nil {
		return fmt.Errorf("application: delete for children: %w", err)
	}
	return nil
}
