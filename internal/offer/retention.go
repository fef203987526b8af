package offer

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// ended are the statuses of an offer that neither holds a seat nor became a contract:
// such offers go with their request when it is deleted for retention.
var ended = []string{string(StatusDeclined), string(StatusExpired), string(StatusWithdrawn)}

// RequestsKept returns those of the requests that have an offer which must stay: one
// that holds its seat or became a contract. The retention job keeps such requests.
func RequestsKept(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, applicationIDs []uuid.UUID) ([]uuid.UUID, error) {
	if len(applicationIDs) == 0 {
		return nil, nil
	}
	var ids []uuid.UUID
	if err := tx.NewRaw(`SELECT DISTINCT application_id FROM offer
		WHERE tenant_id = ? AND application_id = ANY(?::uuid[]) AND (status <> ALL(?::text[]) OR contract_id IS NOT NULL)`,
		tenantID, pgdialect.Array(applicationIDs), pgdialect.Array(ended)).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("offer: requests kept: %w", err)
	}
	return ids, nil
}

// DeleteEndedOnRequests deletes the ended offers (declined, expired, withdrawn, without a
// contract) made on the requests, with their history, and returns how many went.
func DeleteEndedOnRequests(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, applicationIDs []uuid.UUID) (int64, error) {
	if len(applicationIDs) == 0 {
		return 0, nil
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM offer
		WHERE tenant_id = ? AND application_id = ANY(?::uuid[]) AND status = ANY(?::text[]) AND contract_id IS NULL`,
		tenantID, pgdialect.Array(applicationIDs), pgdialect.Array(ended))
	if err != nil {
		return 0, fmt.Errorf("offer: delete ended on requests: %w", err)
	}
	return res.RowsAffected()
}

// CountEndedOnRequests counts what DeleteEndedOnRequests would delete.
func CountEndedOnRequests(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, applicationIDs []uuid.UUID) (int, error) {
	if len(applicationIDs) == 0 {
		return 0, nil
	}
	var n int
	if err := tx.NewRaw(`SELECT count(*) FROM offer
		WHERE tenant_id = ? AND application_id = ANY(?::uuid[]) AND status = ANY(?::text[]) AND contract_id IS NULL`,
		tenantID, pgdialect.Array(applicationIDs), pgdialect.Array(ended)).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("offer: count ended on requests: %w", err)
	}
	return n, nil
}
