package placement

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
)

// Reservations (Leipzig, allocation.reservation_days): a family reserves a place its
// facility shows free; the seat is held at once, the facility confirms within the
// city's days (then the place is the family's: accepted and contracted) or the
// reservation lapses and the seat is free again.

// ErrReservationsOff answers a reservation in a city that takes none.
var ErrReservationsOff = apperr.Conflict("offer_reservations_off")

// ActionReserved is the audit action of a family's reservation.
const ActionReserved = "offer.reserved"

// Reserve reserves the seat of choice rank of the family's request id.
func (s *Service) Reserve(ctx context.Context, c auth.Caller, id uuid.UUID, rank int) (*offer.Offer, error) {
	t := c.Tenant
	days := t.Rules.Allocation.ReservationDays
	now := s.clock.Now()
	var out *offer.Offer
	err := s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		kids, err := familyChildren(ctx, tx, c)
		if err != nil {
			return err
		}
		p, err := application.LoadPlacing(ctx, tx, t, id, rank)
		if err != nil {
			return err
		}
		if !slices.Contains(kids, p.ChildID) {
			return offer.ErrNotFound
		}
		if days <= 0 {
			return ErrReservationsOff
		}
		if !offerable(p) {
			return ErrNotOfferable
		}
		deadline := date.In(now).AddDays(days + 1).Time()
		o := &offer.Offer{ID: uuid.Must(uuid.NewV7()), ApplicationID: p.ApplicationID, ChoiceRank: p.Rank, ChildID: p.ChildID,
			FacilityID: p.FacilityID, CareHours: p.CareHours, Start: p.Start, Status: offer.StatusReserved, ExpiresAt: &deadline,
			CreatedAt: now, Exclusive: exclusive(t)}
		actor := offer.Actor{Kind: "parent", ID: c.Principal.ID}
		if err := offer.Insert(ctx, tx, t.ID, o, actor, ""); err != nil {
			return err
		}
		if err := holdSeat(ctx, tx, t, o, p, now); err != nil {
			return err
		}
		if err := application.OfferMade(ctx, tx, t.ID, p, false, application.Actor{Kind: "parent", ID: c.Principal.ID},
			p.FacilityName+": reserved", now); err != nil {
			return err
		}
		if err := schedule(ctx, tx, t.ID, o.ID, TaskExpire, 0, deadline); err != nil {
			return err
		}
		out = o
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionReserved, ObjectKind: "offer", ObjectID: o.ID.String(),
			ChildIDs: []uuid.UUID{p.ChildID}, Details: map[string]any{"application_id": p.ApplicationID, "rank": p.Rank}})
	})
	return out, err
}

// ConfirmReservation is the facility's confirmation of a family's reservation: the place
// is the family's, entered as a contract.
func (s *Service) ConfirmReservation(ctx context.Context, c auth.Caller, id uuid.UUID) (*View, error) {
	t := c.Tenant
	return s.staffStep(ctx, c, id, func(ctx context.Context, tx bun.Tx, o *offer.Offer, p *application.Placing, now time.Time) error {
		if o.Status != offer.StatusReserved {
			return offer.ErrTransition
		}
		if o.ExpiresAt != nil && !now.Before(*o.ExpiresAt) {
			return ErrDeadline
		}
		if _, err := s.accept(ctx, tx, t, o, p, offer.Actor{Kind: "staff", ID: c.Principal.ID}, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionOfferConfirmed, ObjectKind: "offer",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{o.ChildID}})
	})
}
