package account

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// ActiveAmong keeps of ids the accounts that are active, in the order given.
func ActiveAmong(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) ([]uuid.UUID, error) {
	contacts, err := ActiveContacts(ctx, tx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	var out []uuid.UUID
	for _, id := range ids {
		if _, ok := contacts[id]; ok {
			out = append(out, id)
		}
	}
	return out, nil
}
