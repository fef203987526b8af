package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
)

// PruneSessions deletes expired sessions of every tenant and of operators; it runs as the
// owner of the database, outside any tenant transaction. It returns how many went.
func PruneSessions(ctx context.Context, db bun.IDB) (int64, error) {
	n, err := database.ExecEach(ctx, db,
		`DELETE FROM auth_session WHERE expires_at < now()`,
		`DELETE FROM operator_session WHERE expires_at < now()`,
	)
	if err != nil {
		return n, fmt.Errorf("auth: prune sessions: %w", err)
	}
	return n, nil
}

// CountEndedBefore counts one city's sessions that ended before cutoff.
func CountEndedBefore(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, cutoff time.Time) (int, error) {
	var n int
	if err := tx.NewRaw(`SELECT count(*) FROM auth_session WHERE tenant_id = ? AND expires_at < ?`, tenantID, cutoff).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("auth: count ended sessions: %w", err)
	}
	return n, nil
}

// DeleteEndedBefore deletes one city's sessions that expired before cutoff (a sign-out
// deletes its session at once) and returns how many went.
func DeleteEndedBefore(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, cutoff time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM auth_session WHERE tenant_id = ? AND expires_at < ?`, tenantID, cutoff)
	if err != nil {
		return 0, fmt.Errorf("auth: delete ended sessions: %w", err)
	}
	return res.RowsAffected()
}
