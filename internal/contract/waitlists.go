package contract

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// Waitlists is what a contract does to the child's requests (application.Service).
type Waitlists interface {
	PlacedByContract(ctx context.Context, tx bun.Tx, t *tenant.Tenant, p application.ContractPlacement, now time.Time) ([]uuid.UUID, error)
	ReopenAfterContract(ctx context.Context, tx bun.Tx, t *tenant.Tenant, g application.ContractGone, now time.Time) ([]uuid.UUID, error)
}

// placeOnWaitlists: a child with a contract waits nowhere else for that time. In the
// contract's transaction its offers that start then are withdrawn (their seats free
// again) and its requests end (application.PlacedByContract). An accepted offer's own
// contract does not come here: the offer flow ends the other requests itself.
func (s *Service) placeOnWaitlists(ctx context.Context, tx bun.Tx, c auth.Caller, k *Contract) error {
	now := s.clock.Now()
	held, err := offer.HoldingOfChild(ctx, tx, c.Tenant.ID, k.ChildID, uuid.Nil)
	if err != nil {
		return err
	}
	var freed []uuid.UUID
	for _, o := range held {
		if o.Start.Before(k.Start) || (!k.End.IsZero() && o.Start.After(k.End)) {
			continue // another period: that place may still be wanted
		}
		if _, _, err := offer.Transition(ctx, tx, c.Tenant.ID, o.ID, offer.EventWithdraw, offer.Actor{Kind: "system"}, "placed", now); err != nil {
			return err
		}
		freed = append(freed, o.FacilityID)
	}
	if len(freed) > 0 {
		if err := availability.Refresh(ctx, tx, c.Tenant, s.Today(), freed...); err != nil {
			return err
		}
	}
	_, err = s.waitlists.PlacedByContract(ctx, tx, c.Tenant, application.ContractPlacement{ContractID: k.ID, ChildID: k.ChildID,
		FacilityID: k.FacilityID, FacilityName: k.Facility, Start: k.Start, End: k.End, Actor: actorOf(c)}, now)
	return err
}

// releaseWaitlists: contract k was cancelled (end zero) or now ends at end, before its
// planned end; the requests it had ended for the time it no longer covers wait again
// where the city's rule says so (application.ReopenAfterContract).
func (s *Service) releaseWaitlists(ctx context.Context, tx bun.Tx, c auth.Caller, k *Contract, end date.Date) error {
	_, err := s.waitlists.ReopenAfterContract(ctx, tx, c.Tenant, application.ContractGone{ContractID: k.ID, FacilityName: k.Facility,
		End: end, Actor: actorOf(c)}, s.clock.Now())
	return err
}

func actorOf(c auth.Caller) application.Actor {
	actor := application.Actor{Kind: "staff"}
	if c.Principal != nil {
		actor.ID = c.Principal.ID
	}
	return actor
}

// PlacementsOfChild are child's contracts that still hold or will hold a place (not
// cancelled, not ended before today), as the child's requests need to know them: a
// merge of duplicate records brings requests and contracts of one child together.
func PlacementsOfChild(ctx context.Context, tx bun.IDB, tenantID, childID uuid.UUID, today date.Date) ([]application.ContractPlacement, error) {
	var rows []struct {
		ID       uuid.UUID `bun:"id"`
		Facility uuid.UUID `bun:"facility_id"`
		Start    date.Date `bun:"start_date"`
		End      date.Date `bun:"end_date"`
	}
	if err := tx.NewRaw(`SELECT id, facility_id, start_date, end_date FROM contract
		WHERE tenant_id = ? AND child_id = ? AND status <> ? AND (end_date IS NULL OR end_date > ?) ORDER BY start_date, id`,
		tenantID, childID, StatusCancelled, today).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contract: placements of child: %w", err)
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.Facility
	}
	names, err := provider.FacilityNames(ctx, tx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]application.ContractPlacement, len(rows))
	for i, r := range rows {
		out[i] = application.ContractPlacement{ContractID: r.ID, ChildID: childID, FacilityID: r.Facility, FacilityName: names[r.Facility],
			Start: r.Start, End: r.End}
	}
	return out, nil
}
