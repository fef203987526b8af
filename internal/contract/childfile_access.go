package contract

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/date"
)

// FacilitiesOfChildOn are the facilities where child childID has a contract (not
// cancelled) running on day: the facilities whose staff reach the child's file. A child
// changing facility is seen by the new one from its contract's start and no longer by
// the old one after its contract's end.
func FacilitiesOfChildOn(ctx context.Context, tx bun.IDB, tenantID, childID uuid.UUID, day date.Date) ([]uuid.UUID, error) {
	ids := []uuid.UUID{}
	if err := tx.NewRaw(`SELECT DISTINCT facility_id FROM contract WHERE tenant_id = ? AND child_id = ? AND status <> ?
		AND period @> ?::date`, tenantID, childID, StatusCancelled, day).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("contract: facilities of child: %w", err)
	}
	return ids, nil
}
