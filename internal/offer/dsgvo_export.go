package offer

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// ExportForChildren is every offer made for the children with its history, as JSON
// rows, for the guardians' DSGVO export.
func ExportForChildren(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID) (json.RawMessage, error) {
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT coalesce(jsonb_agg(to_jsonb(o) - 'tenant_id'
			|| jsonb_build_object('history', (SELECT coalesce(jsonb_agg(to_jsonb(e) - 'tenant_id' ORDER BY e.at, e.id), '[]')
				FROM offer_event e WHERE e.tenant_id = o.tenant_id AND e.offer_id = o.id))
			ORDER BY o.created_at), '[]')
		FROM offer o WHERE o.tenant_id = ? AND o.child_id = ANY(?)`, tenantID, pgdialect.Array(childIDs)).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("offer: export: %w", err)
	}
	return raw, nil
}

// OpenForChildren tells whether any of the children has an offer the family still has
// to answer or has accepted without a contract yet (open, reserved, accepted).
func OpenForChildren(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID) (bool, error) {
	if len(childIDs) == 0 {
		return false, nil
	}
	var open bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM offer WHERE tenant_id = ? AND child_id = ANY(?) AND status = ANY(?))`,
		tenantID, pgdialect.Array(childIDs), pgdialect.Array([]string{string(StatusOpen), string(StatusReserved), string(StatusAccepted)})).Scan(&open)
	if err != nil {
		return false, fmt.Errorf("offer: open for children: %w", err)
	}
	return open, nil
}
