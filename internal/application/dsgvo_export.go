package application

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// ExportForChildren is every request of the children, each with its choices and its
// history, as JSON rows, for the guardians' DSGVO export.
func ExportForChildren(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID) (json.RawMessage, error) {
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT coalesce(jsonb_agg(to_jsonb(a) - 'tenant_id'
			|| jsonb_build_object(
				'choices', (SELECT coalesce(jsonb_agg(to_jsonb(c) - 'tenant_id' ORDER BY c.rank), '[]')
					FROM application_choice c WHERE c.tenant_id = a.tenant_id AND c.application_id = a.id),
				'history', (SELECT coalesce(jsonb_agg(to_jsonb(e) - 'tenant_id' ORDER BY e.at, e.id), '[]')
					FROM application_event e WHERE e.tenant_id = a.tenant_id AND e.application_id = a.id))
			ORDER BY a.created_at), '[]')
		FROM application a WHERE a.tenant_id = ? AND a.child_id = ANY(?)`, tenantID, pgdialect.Array(childIDs)).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("application: export: %w", err)
	}
	return raw, nil
}
