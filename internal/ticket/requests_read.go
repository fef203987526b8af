package ticket

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/date"
)

// ValidFor is the granted ticket of child childID for the Kita year from kitaYear that is
// still valid on day (the one valid longest), or nil: a request of a family from outside
// needs one.
func ValidFor(ctx context.Context, tx bun.IDB, tenantID, childID uuid.UUID, kitaYear, day date.Date) (*uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRowContext(ctx, `SELECT id FROM access_ticket WHERE tenant_id = ? AND child_id = ? AND kita_year = ? AND status = ?
		AND valid_until >= ? ORDER BY valid_until DESC LIMIT 1`, tenantID, childID, kitaYear, TicketGranted, day).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ticket: valid for: %w", err)
	}
	return &id, nil
}
