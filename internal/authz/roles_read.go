package authz

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// What other packages ask of the staff roles (staff_role, read in their transaction, so
// a revoked role counts no more at once).

// HoldsAnyRole tells whether account accountID holds one of roles in tenant tenantID.
func HoldsAnyRole(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, roles ...string) (bool, error) {
	var ok bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM staff_role WHERE tenant_id = ? AND account_id = ?
		AND role = ANY(?::text[]))`, tenantID, accountID, pgdialect.Array(roles)).Scan(&ok); err != nil {
		return false, fmt.Errorf("authz: holds role: %w", err)
	}
	return ok, nil
}

// HoldersInDistrict lists the accounts that hold role for district districtKey, each once.
func HoldersInDistrict(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, role, districtKey string) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := tx.NewRaw(`SELECT DISTINCT account_id FROM staff_role WHERE tenant_id = ? AND role = ? AND district_key = ?`,
		tenantID, role, districtKey).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("authz: role holders: %w", err)
	}
	return ids, nil
}
