package application

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/date"
)

// What staff of some facilities may see of the requests naming them. A draft is the
// family's own until it is filed: it names no facility to anyone.

// ChildIDsRequesting are the children with a filed request naming one of the facilities
// facilityIDs; of childIDs only, unless childIDs is nil.
func ChildIDsRequesting(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, facilityIDs, childIDs []uuid.UUID) ([]uuid.UUID, error) {
	ids := []uuid.UUID{}
	if len(facilityIDs) == 0 || (childIDs != nil && len(childIDs) == 0) {
		return ids, nil
	}
	q := `SELECT DISTINCT a.child_id FROM application a
		JOIN application_choice ac ON ac.tenant_id = a.tenant_id AND ac.application_id = a.id
		WHERE a.tenant_id = ? AND a.status <> ? AND ac.facility_id = ANY(?::uuid[])`
	args := []any{tenantID, StatusDraft, pgdialect.Array(facilityIDs)}
	if childIDs != nil {
		q += ` AND a.child_id = ANY(?::uuid[])`
		args = append(args, pgdialect.Array(childIDs))
	}
	if err := tx.NewRaw(q, args...).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("application: children requesting: %w", err)
	}
	return ids, nil
}

// RequestSummary is a filed request as a child's record shows it.
type RequestSummary struct {
	Reference string    `bun:"reference"`
	Status    string    `bun:"status"`
	Start     date.Date `bun:"start_date"`
	CareHours int       `bun:"care_hours"`
}

// RequestsNaming are the filed requests of child childID that name one of the
// facilities facilityIDs, latest start first.
func RequestsNaming(ctx context.Context, tx bun.IDB, tenantID, childID uuid.UUID, facilityIDs []uuid.UUID) ([]RequestSummary, error) {
	var out []RequestSummary
	if err := tx.NewRaw(`SELECT DISTINCT coalesce(a.reference, '') AS reference, a.status, a.start_date, a.care_hours
		FROM application a JOIN application_choice ac ON ac.tenant_id = a.tenant_id AND ac.application_id = a.id
		WHERE a.tenant_id = ? AND a.child_id = ? AND a.status <> ? AND ac.facility_id = ANY(?::uuid[]) ORDER BY a.start_date DESC`,
		tenantID, childID, StatusDraft, pgdialect.Array(facilityIDs)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("application: requests naming: %w", err)
	}
	return out, nil
}
