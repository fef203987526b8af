package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// CountMailBefore counts the city's inbox messages created and mail receipts sent before
// cutoff: what DeleteMailBefore would remove.
func CountMailBefore(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, cutoff time.Time) (inbox, receipts int, err error) {
	if err := tx.NewRaw(`SELECT (SELECT count(*) FROM inbox_message WHERE tenant_id = ? AND created_at < ?),
		(SELECT count(*) FROM mail_delivery WHERE tenant_id = ? AND sent_at < ?)`,
		tenantID, cutoff, tenantID, cutoff).Scan(ctx, &inbox, &receipts); err != nil {
		return 0, 0, fmt.Errorf("notify: count mail before: %w", err)
	}
	return inbox, receipts, nil
}

// DeleteMailBefore deletes the city's inbox messages (with their translations) created
// and mail receipts sent before cutoff, and returns how many of each went.
func DeleteMailBefore(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, cutoff time.Time) (inbox, receipts int64, err error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM inbox_message WHERE tenant_id = ? AND created_at < ?`, tenantID, cutoff)
	if err != nil {
		return 0, 0, fmt.Errorf("notify: delete inbox before: %w", err)
	}
	inbox, _ = res.RowsAffected()
	res, err = tx.ExecContext(ctx, `DELETE FROM mail_delivery WHERE tenant_id = ? AND sent_at < ?`, tenantID, cutoff)
	if err != nil {
		return 0, 0, fmt.Errorf("notify: delete receipts before: %w", err)
	}
	receipts, _ = res.RowsAffected()
	return inbox, receipts, nil
}
