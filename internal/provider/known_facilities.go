package provider

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// FacilitiesAmong returns the ids among ids that are facilities of the tenant (of any
// status), in the order of ids; ids given twice stay twice.
func FacilitiesAmong(ctx context.Context, db bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) ([]uuid.UUID, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var known []uuid.UUID
	if err := db.NewRaw(`SELECT id FROM facility WHERE tenant_id = ? AND id = ANY(?::uuid[])`,
		tenantID, pgdialect.Array(ids)).Scan(ctx, &known); err != nil {
		return nil, fmt.Errorf("provider: facilities among: %w", err)
	}
	is := make(map[uuid.UUID]bool, len(known))
	for _, id := range known {
		is[id] = true
	}
	var out []uuid.UUID
	for _, id := range ids {
		if is[id] {
			out = append(out, id)
		}
	}
	return out, nil
}
