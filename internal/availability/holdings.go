package availability

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/offer"
	"kitaportal/internal/platform/date"
)

// Holding is a place someone holds at a facility: a contract that is not cancelled, over
// its period, or an open or accepted offer from its start. The engine (holdersSQL) and
// the occupancy pages count from the same rule.
type Holding struct {
	Facility  uuid.UUID  `bun:"facility_id"`
	Group     *uuid.UUID `bun:"group_id"` // nil: no group assigned yet
	From      date.Date  `bun:"start_date"`
	Until     date.Date  `bun:"end_date"` // first day without care; zero: open-ended
	CareHours int        `bun:"care_hours"`
	Offer     bool       `bun:"offer"`
}

// Holdings returns the holdings at the facilities ids that overlap [first, end); a zero
// end means without end.
func Holdings(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID, first, end date.Date) ([]Holding, error) {
	var until *date.Date
	if !end.IsZero() {
		until = &end
	}
	var out []Holding
	err := tx.NewRaw(`SELECT facility_id, group_id, start_date, end_date, care_hours, false AS offer FROM contract
		WHERE tenant_id = ?0 AND facility_id = ANY(?3::uuid[]) AND status <> 'cancelled' AND period && daterange(?1::date, ?2::date)
		UNION ALL
		SELECT facility_id, group_id, start_date, NULL, care_hours, true FROM offer
		WHERE tenant_id = ?0 AND facility_id = ANY(?3::uuid[]) AND status = ANY(?4::text[]) AND (?2::date IS NULL OR start_date < ?2::date)`,
		tenantID, first, until, pgdialect.Array(ids), pgdialect.Array(offer.Holding)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("availability: holdings: %w", err)
	}
	return out, nil
}
