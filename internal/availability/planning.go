package availability

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/date"
)

// Inputs are what the engine counts for a tenant's facilities over a span of months: the
// groups with their capacity and everyone holding a place (contracts and offers, with the
// child's birth), per facility. The demand planning (internal/report) counts the same
// inputs per planning district, age band and month, so its places, contracted and free
// figures follow the very rule the search shows.
type Inputs struct {
	Groups  map[uuid.UUID][]Group
	Holders map[uuid.UUID][]Holder
	order   []uuid.UUID // facilities with groups, in the order the groups came
}

// LoadInputs reads the inputs of every facility of the tenant over [first, end) in two
// statements, in the caller's tenant transaction.
func LoadInputs(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, first, end date.Date) (*Inputs, error) {
	return load(ctx, tx.Tx, tenantID, first, end, nil)
}
