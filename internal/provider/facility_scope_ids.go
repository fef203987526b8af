package provider

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
)

// ScopeFacilityIDs are the ids of every facility the caller's roles reach
// (authz.FacilityScope), for the owners of data kept per facility to filter by.
func ScopeFacilityIDs(ctx context.Context, tx bun.IDB, c auth.Caller) ([]uuid.UUID, error) {
	scope, args := authz.FacilityScope(c.Principal, "f")
	ids := []uuid.UUID{}
	if err := tx.NewRaw(`SELECT f.id FROM facility f WHERE f.tenant_id = ? AND `+scope,
		append([]any{c.Tenant.ID}, args...)...).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("provider: facilities in scope: %w", err)
	}
	return ids, nil
}
