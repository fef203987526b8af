package auth

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// PruneSessions deletes expired sessions of every tenant and of operators; it runs as the
// owner of the database, outside any tenant transaction. It returns how many went.
func PruneSessions(ctx context.Context, db bun.IDB) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM auth_session WHERE expires_at < now()`,
		`DELETE FROM operator_session WHERE expires_at < now()`,
	} {
		res, err := db.ExecContext(ctx, q)
		if err != nil {
			return total, fmt.Errorf("auth: prune sessions: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
