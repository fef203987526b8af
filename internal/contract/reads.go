package contract

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/date"
)

// The contracts as the child records and the family's data rights read them.

// ChildCountsAt counts, per facility of facilityIDs, the children with a contract there
// running on day today or starting later; a facility without any is missing.
func ChildCountsAt(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, facilityIDs []uuid.UUID, today date.Date) (map[uuid.UUID]int, error) {
	out := map[uuid.UUID]int{}
	if len(facilityIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		FacilityID uuid.UUID `bun:"facility_id"`
		Children   int       `bun:"children"`
	}
	if err := tx.NewRaw(`SELECT facility_id, count(DISTINCT child_id) AS children FROM contract
		WHERE tenant_id = ? AND facility_id = ANY(?::uuid[]) AND status <> ? AND (end_date IS NULL OR end_date > ?)
		GROUP BY facility_id`, tenantID, pgdialect.Array(facilityIDs), StatusCancelled, today).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contract: children at facilities: %w", err)
	}
	for _, r := range rows {
		out[r.FacilityID] = r.Children
	}
	return out, nil
}

// Placement is a contract at a facility as its list of children shows it.
type Placement struct {
	ChildID   uuid.UUID  `bun:"child_id"`
	GroupID   *uuid.UUID `bun:"group_id"`
	CareHours int        `bun:"care_hours"`
	Start     date.Date  `bun:"start_date"`
	End       date.Date  `bun:"end_date"`
}

// PlacementsAt are the contracts at facility facilityID running on day today or
// starting later.
func PlacementsAt(ctx context.Context, tx bun.IDB, tenantID, facilityID uuid.UUID, today date.Date) ([]Placement, error) {
	var out []Placement
	if err := tx.NewRaw(`SELECT child_id, group_id, care_hours, start_date, end_date FROM contract
		WHERE tenant_id = ? AND facility_id = ? AND status <> ? AND (end_date IS NULL OR end_date > ?)`,
		tenantID, facilityID, StatusCancelled, today).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("contract: placements: %w", err)
	}
	return out, nil
}

// ChildContract is one of a child's contracts as its record shows it.
type ChildContract struct {
	FacilityID uuid.UUID `bun:"facility_id"`
	CareHours  int       `bun:"care_hours"`
	Start      date.Date `bun:"start_date"`
	End        date.Date `bun:"end_date"`
	Status     string    `bun:"status"`
}

// OfChildAt are the contracts of child childID at the facilities facilityIDs, latest
// start first.
func OfChildAt(ctx context.Context, tx bun.IDB, tenantID, childID uuid.UUID, facilityIDs []uuid.UUID) ([]ChildContract, error) {
	var out []ChildContract
	if err := tx.NewRaw(`SELECT facility_id, care_hours, start_date, end_date, status FROM contract
		WHERE tenant_id = ? AND child_id = ? AND facility_id = ANY(?::uuid[]) ORDER BY start_date DESC`,
		tenantID, childID, pgdialect.Array(facilityIDs)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("contract: of child: %w", err)
	}
	return out, nil
}

// ChildIDsContracted are those of the children childIDs with a contract that is not
// cancelled: the law keeps their data.
func ChildIDsContracted(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID) ([]uuid.UUID, error) {
	ids := []uuid.UUID{}
	if len(childIDs) == 0 {
		return ids, nil
	}
	if err := tx.NewRaw(`SELECT DISTINCT child_id FROM contract WHERE tenant_id = ? AND child_id = ANY(?::uuid[]) AND status <> ?`,
		tenantID, pgdialect.Array(childIDs), StatusCancelled).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("contract: children contracted: %w", err)
	}
	return ids, nil
}

// ChildIDsUnderContractOn are those of the children childIDs with a contract (not
// cancelled) running on day: a child with a place, whatever its requests say.
func ChildIDsUnderContractOn(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID, day date.Date) ([]uuid.UUID, error) {
	ids := []uuid.UUID{}
	if len(childIDs) == 0 {
		return ids, nil
	}
	if err := tx.NewRaw(`SELECT DISTINCT child_id FROM contract WHERE tenant_id = ? AND child_id = ANY(?::uuid[]) AND status <> ?
		AND period @> ?::date`, tenantID, pgdialect.Array(childIDs), StatusCancelled, day).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("contract: children under contract: %w", err)
	}
	return ids, nil
}
