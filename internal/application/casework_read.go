package application

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/date"
)

// What the case work asks of requests: how many a child record has (a duplicate's two
// sides) and whether a child already holds a place in the queue (the waitlist import).

// CountByChild counts the requests of each of the children ids, whatever their status;
// children without any are left out.
func CountByChild(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	out := map[uuid.UUID]int{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ChildID uuid.UUID `bun:"child_id"`
		N       int       `bun:"n"`
	}
	if err := tx.NewRaw(`SELECT child_id, count(*) AS n FROM application WHERE tenant_id = ? AND child_id = ANY(?::uuid[]) GROUP BY child_id`,
		tenantID, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("requests per child: %w", err)
	}
	for _, r := range rows {
		out[r.ChildID] = r.N
	}
	return out, nil
}

// QueuedFor tells whether one of the children ids has a filed request for the start
// period that still holds its place (Queued).
func QueuedFor(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID, period date.Date) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	var ok bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM application WHERE tenant_id = ? AND child_id = ANY(?::uuid[])
		AND start_period = ? AND status = ANY(?::text[]))`, tenantID, pgdialect.Array(ids), period, pgdialect.Array(Queued)).Scan(&ok); err != nil {
		return false, fmt.Errorf("queued requests: %w", err)
	}
	return ok, nil
}
