package contract

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/provider"
)

// Which children staff may see. The rule needs contracts and requests; it lives here,
// beside the contracts, because contract may call application (application never calls
// contract), and the child records (childfile) call it from above.

// ChildrenKnownAt are the children known at the facilities facilityIDs — with a contract
// there, or a filed request naming one of them — of childIDs only, unless childIDs is
// nil. Staff see exactly the children known at the facilities of their scope.
func ChildrenKnownAt(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, facilityIDs, childIDs []uuid.UUID) ([]uuid.UUID, error) {
	contracted, err := ChildIDsAt(ctx, tx, tenantID, facilityIDs, childIDs)
	if err != nil {
		return nil, err
	}
	requesting, err := application.ChildIDsRequesting(ctx, tx, tenantID, facilityIDs, childIDs)
	if err != nil {
		return nil, err
	}
	seen := make(map[uuid.UUID]bool, len(contracted)+len(requesting))
	out := make([]uuid.UUID, 0, len(contracted)+len(requesting))
	for _, id := range append(contracted, requesting...) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// ChildInScope tells whether child id is known at a facility of the caller's scope
// (ChildrenKnownAt).
func ChildInScope(ctx context.Context, tx bun.IDB, c auth.Caller, id uuid.UUID) (bool, error) {
	facilities, err := provider.ScopeFacilityIDs(ctx, tx, c)
	if err != nil {
		return false, err
	}
	known, err := ChildrenKnownAt(ctx, tx, c.Tenant.ID, facilities, []uuid.UUID{id})
	return len(known) > 0, err
}

// ChildIDsAt are the children with a contract, of any status, at one of the facilities
// facilityIDs; of childIDs only, unless childIDs is nil.
func ChildIDsAt(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, facilityIDs, childIDs []uuid.UUID) ([]uuid.UUID, error) {
	ids := []uuid.UUID{}
	if len(facilityIDs) == 0 || (childIDs != nil && len(childIDs) == 0) {
		return ids, nil
	}
	q := `SELECT DISTINCT child_id FROM contract WHERE tenant_id = ? AND facility_id = ANY(?::uuid[])`
	args := []any{tenantID, pgdialect.Array(facilityIDs)}
	if childIDs != nil {
		q += ` AND child_id = ANY(?::uuid[])`
		args = append(args, pgdialect.Array(childIDs))
	}
	if err := tx.NewRaw(q, args...).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("contract: children at: %w", err)
	}
	return ids, nil
}
