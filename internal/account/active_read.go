package account

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// ActiveAmong keeps of ids the accounts that are active, in the order given.
func ActiveAmong(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) ([]uuid.UUID, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var active []uuid.UUID
	if err := tx.NewRaw(`SELECT id FROM account WHERE tenant_id = ? AND id = ANY(?::uuid[]) AND status = ?`,
		tenantID, pgdialect.Array(ids), StatusActive).Scan(ctx, &active); err != nil {
		return nil, fmt.Errorf("account: active among: %w", err)
	}
	set := make(map[uuid.UUID]bool, len(active))
	for _, id := range active {
		set[id] = true
	}
	var out []uuid.UUID
	for _, id := range ids {
		if set[id] {
			out = append(out, id)
		}
	}
	return out, nil
}
