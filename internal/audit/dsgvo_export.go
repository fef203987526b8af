package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Access is one time someone on the staff side (or the operator's support) saw or
// changed a child's data, as the guardians' export shows it.
type Access struct {
	At     time.Time   `bun:"at" json:"at"`
	Who    string      `bun:"actor_label" json:"who"`
	Kind   string      `bun:"actor_kind" json:"actor_kind"`
	Action string      `bun:"action" json:"action"`
	Object string      `bun:"object_kind" json:"object_kind,omitempty"`
	Child  []uuid.UUID `bun:"child_ids,array" json:"child_ids"`
}

// StaffAccessTo lists the entries naming any of the children whose actor was staff or
// an operator, oldest first; child_ids keeps only those of the children asked about.
func StaffAccessTo(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID) ([]Access, error) {
	out := []Access{}
	if len(childIDs) == 0 {
		return out, nil
	}
	arr := pgdialect.Array(childIDs)
	err := tx.NewRaw(`SELECT at, actor_label, actor_kind, action, object_kind,
			ARRAY(SELECT x FROM unnest(child_ids) x WHERE x = ANY(?::uuid[])) AS child_ids
		FROM audit_event WHERE tenant_id = ? AND child_ids && ?::uuid[] AND actor_kind IN ('staff', 'operator')
		ORDER BY at, id`, arr, tenantID, arr).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("audit: access to children: %w", err)
	}
	return out, nil
}
