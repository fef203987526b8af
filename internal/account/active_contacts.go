package account

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Contact is how an active account is reached: its address and language.
type Contact struct {
	ID       uuid.UUID `bun:"id"`
	Email    string    `bun:"email"`
	Language string    `bun:"language"`
}

// ActiveContacts are the contacts of those of the accounts ids that are active, by id;
// pending, disabled and deleted accounts are reached by nothing.
func ActiveContacts(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]Contact, error) {
	out := map[uuid.UUID]Contact{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Contact
	if err := tx.NewRaw(`SELECT id, email::text AS email, language FROM account WHERE tenant_id = ? AND id = ANY(?::uuid[]) AND status = ?`,
		tenantID, pgdialect.Array(ids), StatusActive).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("account: active contacts: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}
