// Package placement gives places: it makes offers (internal/offer) on the choices of
// requests (internal/application) under the city's way of coordinating, keeps the seat
// an offer holds counted (internal/availability), turns an accepted offer into a
// contract with its document (internal/contract), and runs the deadlines: release days,
// reminders, expiry and the cascade's turns. It owns no table; each change is one tenant
// transaction through the owners' functions, so the offer, the request, the seat, the
// history, the family's notice and the jobs commit together or not at all.
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
	"kitaportal/internal/authz"
	"kitaportal/internal/availability"
	"kitaportal/internal/notify"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// Service runs the offer flow for families, staff and the scheduler.
type Service struct {
	db    bun.IDB
	authz *authz.Enforcer
	clock clock.Clock
	mails *notify.Templates
	links *notify.Links
}

// Deps are what the service needs.
type Deps struct {
	DB    bun.IDB
	Authz *authz.Enforcer // nil where nobody confirms (the worker)
	Clock clock.Clock
	Mails *notify.Templates
	Links *notify.Links
}

// NewService returns the placement service.
func NewService(d Deps) *Service {
	return &Service{db: d.DB, authz: d.Authz, clock: d.Clock, mails: d.Mails, links: d.Links}
}

// Audit actions.
const (
	ActionOfferMade      = "offer.made"
	ActionOfferConfirmed = "offer.confirmed"
	ActionOfferWithdrawn = "offer.withdrawn"
)

// Errors of the flow, in the user's words through their codes.
var (
	ErrCentral       = apperr.Conflict("allocation_mode_central")
	ErrNotOfferable  = apperr.Conflict("offer_choice_not_open")
	ErrNoSeat        = apperr.Conflict("offer_no_seat")
	ErrNoFigures     = apperr.Conflict("offer_start_unknown")
	ErrDeadline      = apperr.Conflict("offer_deadline_passed")
	ErrNotAnswerable = apperr.Conflict("offer_not_open")
	ErrOutOfOrder    = apperr.Invalid("reason", "offer_out_of_order_reason_required", nil)
)

func (s *Service) inTx(ctx context.Context, tenantID uuid.UUID, fn func(ctx context.Context, tx bun.Tx) error) error {
	return database.Classify(database.InTenantTx(ctx, s.db, tenantID, fn))
}

// NewOffer is what a facility gives when it offers a place: the request's choice, and
// optionally the group and why it passes over requests ahead in the city's order.
type NewOffer struct {
	ApplicationID uuid.UUID
	Rank          int
	GroupID       uuid.UUID
	Reason        string
}

// Make offers the seat of choice in.Rank of a request at the caller's facility. When the
// offer goes out depends on the city: after the administration confirmed it (Herzberg),
// on its release day offers.lead_months before the start (Kempten: prepared until then),
// or at once. The seat is held from now on; when the facility has none left for the
// child's band, scope and start, nothing is saved and the answer is ErrNoSeat.
func (s *Service) Make(ctx context.Context, c auth.Caller, in NewOffer) (*offer.Offer, error) {
	t := c.Tenant
	if t.Rules.Allocation.Mode == tenant.ModeDeferredAcceptance {
		return nil, ErrCentral
	}
	reason, err := auth.FreeText("reason", in.Reason, 0, 500)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out *offer.Offer
	err = s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		p, err := application.LoadPlacing(ctx, tx, t, in.ApplicationID, in.Rank)
		if err != nil {
			return err
		}
		if err := inScope(ctx, tx, c, p.FacilityID); err != nil {
			return err
		}
		if !offerable(p) {
			return ErrNotOfferable
		}
		ahead, err := application.Ahead(ctx, tx, t, p)
		if err != nil {
			return err
		}
		if ahead > 0 && reason == "" {
			return ErrOutOfOrder
		}
		o := &offer.Offer{ID: uuid.Must(uuid.NewV7()), ApplicationID: p.ApplicationID, ChoiceRank: p.Rank, ChildID: p.ChildID,
			FacilityID: p.FacilityID, CareHours: p.CareHours, Start: p.Start, Reason: reason, CreatedAt: now, MadeBy: &c.Principal.ID,
			Exclusive: exclusive(t)}
		if in.GroupID != uuid.Nil {
			// The group must be one of the facility's, taking the request's scope.
			hours, found, err := provider.GroupHours(ctx, tx, t.ID, p.FacilityID, in.GroupID)
			if err != nil {
				return err
			}
			if !found || hours < p.CareHours {
				return apperr.Invalid("group_id", "contract_group_unknown", nil)
			}
			o.GroupID = &in.GroupID
		}
		release := ReleaseDay(t, p.Start)
		switch {
		case t.Rules.Allocation.AdminConfirms:
			o.Status = offer.StatusProposed
		case date.In(now).Before(release):
			o.Status, o.OpensAt = offer.StatusPrepared, ptr(release.Time())
		default:
			o.Status, o.ExpiresAt = offer.StatusOpen, ptr(Deadline(t, now))
		}
		actor := offer.Actor{Kind: "staff", ID: c.Principal.ID}
		if err := offer.Insert(ctx, tx, t.ID, o, actor, reason); err != nil {
			return err
		}
		if err := holdSeat(ctx, tx, t, o, p, now); err != nil {
			return err
		}
		note := p.FacilityName + ": " + string(o.Status)
		if err := application.OfferMade(ctx, tx, t.ID, p, o.Status != offer.StatusOpen, staffActor(c), note, now); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionOfferMade, ObjectKind: "offer", ObjectID: o.ID.String(),
			ChildIDs: []uuid.UUID{p.ChildID}, Details: map[string]any{"application_id": p.ApplicationID, "rank": p.Rank,
				"status": o.Status, "passed_over": ahead, "reason": reason}}); err != nil {
			return err
		}
		switch o.Status {
		case offer.StatusOpen:
			if err := s.wentOut(ctx, tx, t, o, p, now); err != nil {
				return err
			}
		case offer.StatusPrepared:
			if err := schedule(ctx, tx, t.ID, o.ID, TaskRelease, 0, *o.OpensAt); err != nil {
				return err
			}
		}
		out = o
		return nil
	})
	return out, err
}

// offerable: the request is still with the facilities (or holds another offer) and the
// lifecycle lets its choice be offered.
func offerable(p *application.Placing) bool {
	if !p.Status.In(application.Deciding) && p.Status != application.StatusOffered {
		return false
	}
	_, ok := application.NextChoice(p.Choice, application.EventOffer)
	return ok
}

// exclusive: in lock and cascade cities a child holds one unfinished offer at a time
// (the database's offer_one_per_child index keeps it so under concurrent offers).
func exclusive(t *tenant.Tenant) bool {
	m := t.Rules.Allocation.Mode
	return m == tenant.ModeOneOfferLock || m == tenant.ModeCascade
}

// holdSeat counts the new offer in the facility's availability and refuses it when the
// facility has no seat left for it. Refresh locks the facility first, so concurrent
// offers for its last seat compute one after the other: the second sees the first.
func holdSeat(ctx context.Context, tx bun.Tx, t *tenant.Tenant, o *offer.Offer, p *application.Placing, now time.Time) error {
	if err := availability.Refresh(ctx, tx, t, date.In(now), o.FacilityID); err != nil {
		return err
	}
	band, ok := t.Rules.Calendar().BandAt(p.Child.BirthDate, o.Start)
	if !ok {
		return ErrNoSeat
	}
	free, err := availability.Lookup(ctx, tx, t.ID, []uuid.UUID{o.FacilityID}, band.Key, o.CareHours, o.Start)
	if err != nil {
		return err
	}
	left, known := free[o.FacilityID]
	switch {
	case !known:
		return ErrNoFigures
	case left < 0:
		return ErrNoSeat
	}
	return nil
}

// ReleaseDay is the first day an offer for a start may go out: offers.lead_months
// before it.
func ReleaseDay(t *tenant.Tenant, start date.Date) date.Date {
	return start.AddMonths(-t.Rules.Offers.LeadMonths)
}

// Deadline is the answer's deadline for an offer going out at now: the end of the
// response_days-th day in Germany.
func Deadline(t *tenant.Tenant, now time.Time) time.Time {
	return date.In(now).AddDays(t.Rules.Offers.ResponseDays + 1).Time()
}

func ptr[T any](v T) *T { return &v }

func staffActor(c auth.Caller) application.Actor {
	return application.Actor{Kind: "staff", ID: c.Principal.ID}
}

// inScope answers not found for a facility outside the caller's scope (another
// facility's lead sees nothing of it).
func inScope(ctx context.Context, tx bun.IDB, c auth.Caller, facilityID uuid.UUID) error {
	ids, err := provider.ScopeFacilityIDs(ctx, tx, c)
	if err != nil {
		return err
	}
	if !slices.Contains(ids, facilityID) {
		return offer.ErrNotFound
	}
	return nil
}

// wentOut is what follows an offer going out to the family: the lock pauses the
// child's other requests, the deadline's jobs are scheduled, the family is told.
func (s *Service) wentOut(ctx context.Context, tx bun.Tx, t *tenant.Tenant, o *offer.Offer, p *application.Placing, now time.Time) error {
	if t.Rules.Allocation.Mode == tenant.ModeOneOfferLock {
		if err := application.PauseOthers(ctx, tx, t.ID, p, "paused: offer from "+p.FacilityName, now); err != nil {
			return err
		}
	}
	if err := scheduleDeadline(ctx, tx, t, o); err != nil {
		return err
	}
	return s.tell(ctx, tx, t, p, o, NoticeOffered, "")
}
