package application

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// NoticePlaced tells the family its requests ended because the child has a contract.
const NoticePlaced = "placed"

// ContractPlacement is a contract entered in the register (by hand, CSV or API), as the
// child's requests need to know it.
type ContractPlacement struct {
	ChildID      uuid.UUID
	FacilityID   uuid.UUID
	FacilityName string
	Start        date.Date
	End          date.Date // zero: open-ended
	Actor        Actor
}

// PlacedByContract makes the register and the waitlists one network, in the contract's
// transaction: every active request of the child whose start falls in the contract's
// time ends. One still being decided that names the contract's facility becomes
// contracted (that choice accepted, the others ended); every other one is closed with
// its open choices ended. Each records why in its history, and the family is told.
// The callers withdraw the child's open offers first (their seats are the offers'
// business). It answers the requests it changed.
func (s *Service) PlacedByContract(ctx context.Context, tx bun.Tx, t *tenant.Tenant, p ContractPlacement, now time.Time) ([]uuid.UUID, error) {
	var rows []struct {
		ID     uuid.UUID `bun:"id"`
		Status Status    `bun:"status"`
		Names  bool      `bun:"names"`
	}
	q := `SELECT a.id, a.status, EXISTS (SELECT 1 FROM application_choice c WHERE c.tenant_id = a.tenant_id AND c.application_id = a.id
			AND c.facility_id = ? AND c.status = ANY(?::text[])) AS names
		FROM application a WHERE a.tenant_id = ? AND a.child_id = ? AND a.status = ANY(?::text[]) AND a.start_date >= ?`
	args := []any{p.FacilityID, pgdialect.Array(ChoicesFrom(EventContract)), t.ID, p.ChildID, pgdialect.Array(Queued), p.Start}
	if !p.End.IsZero() {
		q += ` AND a.start_date <= ?`
		args = append(args, p.End)
	}
	if err := tx.NewRaw(q+` ORDER BY a.id FOR UPDATE OF a`, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("placed by contract: %w", err)
	}
	note := p.FacilityName + ": contract"
	var changed []uuid.UUID
	for _, r := range rows {
		if r.Names && r.Status.In(Deciding) {
			if _, err := transitionChoicesWhere(ctx, tx, t.ID, EventContract, nil, now, `c.application_id = ? AND c.facility_id = ?`, r.ID, p.FacilityID); err != nil {
				return nil, err
			}
			if _, err := transitionChoicesWhere(ctx, tx, t.ID, EventEnd, nil, now, `c.application_id = ? AND c.facility_id <> ?`, r.ID, p.FacilityID); err != nil {
				return nil, err
			}
			if _, _, err := Transition(ctx, tx, t.ID, r.ID, EventContract, p.Actor, note, now); err != nil {
				return nil, err
			}
		} else {
			if _, err := transitionChoicesWhere(ctx, tx, t.ID, EventEnd, nil, now, `c.application_id = ?`, r.ID); err != nil {
				return nil, err
			}
			if _, _, err := Transition(ctx, tx, t.ID, r.ID, EventClose, p.Actor, "placed: "+p.FacilityName, now); err != nil {
				return nil, err
			}
		}
		a, familyID, err := load(ctx, tx, t, r.ID, false, "")
		if err != nil {
			return nil, err
		}
		if err := s.tellFamily(ctx, tx, t, familyID, a, NoticePlaced, p.FacilityName); err != nil {
			return nil, err
		}
		changed = append(changed, r.ID)
	}
	return changed, nil
}
