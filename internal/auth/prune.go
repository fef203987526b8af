package auth

import (
	"context"
	"fmt"

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
