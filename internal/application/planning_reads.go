package application

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/date"
)

// What the demand planning (internal/report) reads of requests: those still waiting for
// a place (the demand, and the children whose desired start has passed without one), and
// those filed lately (waiting times from request to offer, first choices).

// Planned is a request as the demand planning counts it.
type Planned struct {
	ID          uuid.UUID  `bun:"id"`
	ChildID     uuid.UUID  `bun:"child_id"`
	Reference   string     `bun:"reference"`
	Status      Status     `bun:"status"`
	Start       date.Date  `bun:"start_date"`
	CareHours   int        `bun:"care_hours"`
	SubmittedAt *time.Time `bun:"submitted_at"`
	// Choices are the facilities chosen, by rank (the first choice first).
	Choices []uuid.UUID `bun:"choices,array"`
}

// Waiting tells whether the request still waits for a place: filed, and no offer made
// on it yet (an offered or accepted one holds its place through the offer).
func (p Planned) Waiting() bool { return p.Status.In(Deciding) }

// ForPlanning lists the requests that still wait for a place (Deciding), whatever their
// dates, and the filed requests submitted at or after since.
func ForPlanning(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, since time.Time) ([]Planned, error) {
	out := []Planned{}
	if err := tx.NewRaw(`SELECT a.id, a.child_id, coalesce(a.reference, '') AS reference, a.status, a.start_date, a.care_hours, a.submitted_at,
			coalesce((SELECT array_agg(c.facility_id ORDER BY c.rank) FROM application_choice c
			  WHERE c.tenant_id = a.tenant_id AND c.application_id = a.id), '{}') AS choices
		FROM application a
		WHERE a.tenant_id = ? AND (a.status = ANY(?::text[]) OR (a.submitted_at >= ? AND a.status = ANY(?::text[])))
		ORDER BY a.start_date, a.id`,
		tenantID, pgdialect.Array(Deciding), since, pgdialect.Array(Filed)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("requests for planning: %w", err)
	}
	return out, nil
}
