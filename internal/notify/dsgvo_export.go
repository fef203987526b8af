package notify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// ExportInbox is the account's inbox as JSON rows, for its DSGVO export.
func ExportInbox(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID) (json.RawMessage, error) {
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT coalesce(jsonb_agg(jsonb_build_object('id', m.id, 'kind', m.kind, 'subject', m.subject,
			'body', m.body, 'link', m.link, 'created_at', m.created_at, 'read_at', m.read_at) ORDER BY m.created_at, m.id), '[]')
		FROM inbox_message m WHERE m.tenant_id = ? AND m.account_id = ?`, tenantID, accountID).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("inbox: export: %w", err)
	}
	return raw, nil
}
