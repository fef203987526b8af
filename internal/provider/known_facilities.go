package provider

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// FacilitiesAmong returns the ids among ids that are facilities of the tenant (of any
// status), in the order of ids; ids given twice stay twice.
func FacilitiesAmong(ctx context.Context, db bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) ([]uuid.UUID, error) {
	known, err := FacilityNames(ctx, db, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("provider: facilities among: %w", err)
	}
	var out []uuid.UUID
	for _, id := range ids {
		if _, ok := known[id]; ok {
			out = append(out, id)
		}
	}
	return out, nil
}
