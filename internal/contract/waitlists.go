package contract

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/offer"
	"kitaportal/internal/tenant"
)

// Waitlists is what a contract does to the child's requests (application.Service).
type Waitlists interface {
	PlacedByContract(ctx context.Context, tx bun.Tx, t *tenant.Tenant, p application.ContractPlacement, now time.Time) ([]uuid.UUID, error)
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
	actor := application.Actor{Kind: "staff"}
	if c.Principal != nil {
		actor.ID = c.Principal.ID
	}
	_, err = s.waitlists.PlacedByContract(ctx, tx, c.Tenant, application.ContractPlacement{ChildID: k.ChildID, FacilityID: k.FacilityID,
		FacilityName: k.Facility, Start: k.Start, End: k.End, Actor: actor}, now)
	return err
}
