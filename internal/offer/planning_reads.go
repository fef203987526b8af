package offer

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Made is an offer as the demand planning (internal/report) counts it: which request and
// which of its choices it was made on, where it stands, and when the family got it (the
// release day of an offer prepared ahead, else when it was made).
type Made struct {
	ApplicationID uuid.UUID `bun:"application_id"`
	ChoiceRank    int       `bun:"choice_rank"`
	Status        Status    `bun:"status"`
	At            time.Time `bun:"offered_at"`
}

// MadeOnRequests lists the offers made on the requests ids, oldest first.
func MadeOnRequests(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) ([]Made, error) {
	out := []Made{}
	if len(ids) == 0 {
		return out, nil
	}
	if err := tx.NewRaw(`SELECT application_id, choice_rank, status, coalesce(opens_at, created_at) AS offered_at FROM offer
		WHERE tenant_id = ? AND application_id = ANY(?::uuid[]) ORDER BY offered_at, id`,
		tenantID, pgdialect.Array(ids)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("offer: made on requests: %w", err)
	}
	return out, nil
}
