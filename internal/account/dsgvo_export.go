package account

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// ExportOf is the account's own row for the holder's DSGVO export, as JSON, without
// what only proves the sign-in (password hash, second factor's secret and step).
func ExportOf(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) (json.RawMessage, error) {
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT to_jsonb(a) - 'tenant_id' - 'password_hash' - 'totp_secret' - 'totp_last_step'
		FROM account a WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("account: export: %w", err)
	}
	return raw, nil
}
