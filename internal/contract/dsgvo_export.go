package contract

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// ExportForChildren is every contract of the children, as JSON rows, for the
// guardians' DSGVO export (storage keys left out: the documents are downloads of their own).
func ExportForChildren(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID) (json.RawMessage, error) {
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT coalesce(jsonb_agg(to_jsonb(k) - 'tenant_id' - 'document_key' ORDER BY k.start_date), '[]')
		FROM contract k WHERE k.tenant_id = ? AND k.child_id = ANY(?)`, tenantID, pgdialect.Array(childIDs)).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("contract: export: %w", err)
	}
	return raw, nil
}
