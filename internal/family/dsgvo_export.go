package family

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Export is what the family tables hold about some families, as JSON rows, for the
// guardians' DSGVO export.
type Export struct {
	Families  json.RawMessage `json:"families"`
	Guardians json.RawMessage `json:"guardians"`
	Children  json.RawMessage `json:"children"`
}

// ExportOf reads the families ids with their guardians and children.
func ExportOf(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (Export, error) {
	var e Export
	arr := pgdialect.Array(ids)
	err := tx.QueryRowContext(ctx, `SELECT
		(SELECT coalesce(jsonb_agg(to_jsonb(f) - 'tenant_id' ORDER BY f.created_at), '[]') FROM family f WHERE f.tenant_id = ? AND f.id = ANY(?)),
		(SELECT coalesce(jsonb_agg(to_jsonb(g) - 'tenant_id' ORDER BY g.created_at), '[]') FROM guardian g WHERE g.tenant_id = ? AND g.family_id = ANY(?)),
		(SELECT coalesce(jsonb_agg(to_jsonb(c) - 'tenant_id' ORDER BY c.created_at), '[]') FROM child c WHERE c.tenant_id = ? AND c.family_id = ANY(?))`,
		tenantID, arr, tenantID, arr, tenantID, arr).Scan((*[]byte)(&e.Families), (*[]byte)(&e.Guardians), (*[]byte)(&e.Children))
	if err != nil {
		return e, fmt.Errorf("family: export: %w", err)
	}
	return e, nil
}
