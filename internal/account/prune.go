package account

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
)

// PruneLinksAndRegistrations deletes, in every tenant, mail links used or expired for a
// day, and parents' registrations nobody confirmed within a week whose link has run out
// (data minimisation). It returns how many rows went.
func PruneLinksAndRegistrations(ctx context.Context, db bun.IDB) (int64, error) {
	n, err := database.ExecEach(ctx, db,
		`DELETE FROM account_token WHERE (used_at IS NOT NULL OR expires_at < now()) AND created_at < now() - interval '1 day'`,
		`DELETE FROM account a WHERE a.kind = 'parent' AND a.status = 'pending' AND a.created_at < now() - interval '7 days'
		   AND NOT EXISTS (SELECT 1 FROM account_token t WHERE t.tenant_id = a.tenant_id AND t.account_id = a.id AND t.expires_at > now())`,
	)
	if err != nil {
		return n, fmt.Errorf("account: prune: %w", err)
	}
	return n, nil
}
