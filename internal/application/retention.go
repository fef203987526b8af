package application

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/date"
)

// Unplaced are the statuses of a request that did not (or not yet) lead to a place:
// after the retention period past its desired start it is deleted (internal/retention).
// Offered and accepted requests are still in the flow; contracted ones are kept with
// their contract.
var Unplaced = []Status{StatusDraft, StatusSubmitted, StatusInReview, StatusRefused, StatusWithdrawn, StatusExpired, StatusClosed}

// UnplacedStartedBefore returns up to limit ids of unplaced requests whose desired start
// lies before cutoff (limit ≤ 0: all), oldest start first.
func UnplacedStartedBefore(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, cutoff date.Date, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	q := `SELECT id FROM application WHERE tenant_id = ? AND status = ANY(?::text[]) AND start_date < ?::date ORDER BY start_date, id`
	args := []any{tenantID, pgdialect.Array(statusStrings(Unplaced)), cutoff.String()}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	if err := tx.NewRaw(q, args...).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("application: unplaced before: %w", err)
	}
	return ids, nil
}

// CountUnplacedStartedBefore counts what UnplacedStartedBefore would return without limit.
func CountUnplacedStartedBefore(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, cutoff date.Date) (int, error) {
	var n int
	if err := tx.NewRaw(`SELECT count(*) FROM application WHERE tenant_id = ? AND status = ANY(?::text[]) AND start_date < ?::date`,
		tenantID, pgdialect.Array(statusStrings(Unplaced)), cutoff.String()).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("application: count unplaced before: %w", err)
	}
	return n, nil
}

// DeleteUnplaced deletes those of the requests that are still unplaced and started before
// cutoff, with their choices, consents, claims and history (the foreign keys cascade);
// offers on them must be gone first. It returns how many went.
func DeleteUnplaced(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID, cutoff date.Date) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM application WHERE tenant_id = ? AND id = ANY(?::uuid[])
		AND status = ANY(?::text[]) AND start_date < ?::date`, tenantID, pgdialect.Array(ids), pgdialect.Array(statusStrings(Unplaced)), cutoff.String())
	if err != nil {
		return 0, fmt.Errorf("application: delete requests: %w", err)
	}
	return res.RowsAffected()
}

func statusStrings(ss []Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
