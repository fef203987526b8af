// Package offer is the binding offer of a place (Zusage): one seat — facility, group,
// care scope, start — promised to one child's request, with a response deadline. It owns
// the offer table and its history; its lifecycle (lifecycle.go) is the one way an offer's
// status changes, and "offer expiry", reminders and acceptance live here.
package offer

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// AnyForGroup tells whether any offer names the group (then the group cannot be deleted).
func AnyForGroup(ctx context.Context, tx bun.IDB, tenantID, groupID uuid.UUID) (bool, error) {
	var found bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM offer WHERE tenant_id = ? AND group_id = ?)`,
		tenantID, groupID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("offer: any for group: %w", err)
	}
	return found, nil
}

// MoveChild gives the offers of child from to child to (a duplicate merged into the
// record kept).
func MoveChild(ctx context.Context, tx bun.IDB, tenantID, from, to uuid.UUID, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE offer SET child_id = ?, updated_at = ? WHERE tenant_id = ? AND child_id = ?`,
		to, now, tenantID, from); err != nil {
		return fmt.Errorf("offer: move child: %w", err)
	}
	return nil
}

// DeleteForChildren deletes every offer of the children (their family's data is erased).
func DeleteForChildren(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID) error {
	if len(childIDs) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM offer WHERE tenant_id = ? AND child_id = ANY(?::uuid[])`,
		tenantID, pgdialect.Array(childIDs)); err != nil {
		return fmt.Errorf("offer: delete for children: %w", err)
	}
	return nil
}
