package placement

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/contract"
	"kitaportal/internal/family"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// The family's answers: accept (the place becomes a contract at once) or decline.

// familyOffer loads offer id of the caller's family with its request locked (first the
// request, then the offer: the order every path of the flow takes). Offers of other
// families and cities are not found, as are offers still waiting to go out.
func familyOffer(ctx context.Context, tx bun.Tx, c auth.Caller, id uuid.UUID) (*offer.Offer, *application.Placing, error) {
	kids, err := familyChildren(ctx, tx, c)
	if err != nil {
		return nil, nil, err
	}
	o, err := offer.Get(ctx, tx, c.Tenant.ID, id, false)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(kids, o.ChildID) || !visibleToFamily(o.Status) {
		return nil, nil, offer.ErrNotFound
	}
	return lockOffer(ctx, tx, c.Tenant, o)
}

// familyChildren are the children of the signed-in parent's family.
func familyChildren(ctx context.Context, tx bun.IDB, c auth.Caller) ([]uuid.UUID, error) {
	if c.Principal == nil || c.Principal.Kind != auth.KindParent {
		return nil, apperr.Forbidden("forbidden")
	}
	f, err := family.HouseholdOf(ctx, tx, c.Tenant, c.Principal.ID, false)
	if err != nil || f == nil {
		return nil, err
	}
	return family.ChildIDsOf(ctx, tx, c.Tenant.ID, f.ID)
}

// lockOffer locks o's request, then o, and reads both again.
func lockOffer(ctx context.Context, tx bun.Tx, t *tenant.Tenant, o *offer.Offer) (*offer.Offer, *application.Placing, error) {
	p, err := application.LoadPlacing(ctx, tx, t, o.ApplicationID, o.ChoiceRank)
	if err != nil {
		return nil, nil, err
	}
	o, err = offer.Get(ctx, tx, t.ID, o.ID, true)
	return o, p, err
}

// visibleToFamily: offers still waiting for the administration or their release day are
// the facility's business until they go out.
func visibleToFamily(s offer.Status) bool {
	return s != offer.StatusProposed && s != offer.StatusPrepared
}

// Accept accepts an open offer of the caller's family within its deadline: the offer is
// accepted, the contract entered in the register (its document follows as a job), the
// request contracted, the child's other offers withdrawn and its other requests ended
// ("placed"). Accepting again answers the same acceptance; after the deadline the
// answer is ErrDeadline.
func (s *Service) Accept(ctx context.Context, c auth.Caller, id uuid.UUID) (*offer.Offer, error) {
	now := s.clock.Now()
	t := c.Tenant
	var out *offer.Offer
	err := s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		o, p, err := familyOffer(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if o.Status == offer.StatusAccepted || o.Status == offer.StatusContracted {
			out = o // a double click: one acceptance
			return nil
		}
		if o.Status != offer.StatusOpen {
			return ErrNotAnswerable
		}
		if o.ExpiresAt != nil && !now.Before(*o.ExpiresAt) {
			return ErrDeadline
		}
		actor := offer.Actor{Kind: "parent", ID: c.Principal.ID}
		if out, err = s.accept(ctx, tx, t, o, p, actor, now); err != nil {
			return err
		}
		return nil
	})
	return out, err
}

// accept moves an answerable offer to accepted and on to its contract, in tx.
func (s *Service) accept(ctx context.Context, tx bun.Tx, t *tenant.Tenant, o *offer.Offer, p *application.Placing, actor offer.Actor, now time.Time) (*offer.Offer, error) {
	ev := offer.EventAccept
	if o.Status == offer.StatusReserved {
		ev = offer.EventConfirm // the facility confirms the family's reservation
	}
	if _, _, err := offer.Transition(ctx, tx, t.ID, o.ID, ev, actor, "", now); err != nil {
		return nil, err
	}
	appActor := application.Actor{Kind: actor.Kind, ID: actor.ID}
	note := p.FacilityName + ": accepted"
	if err := application.OfferEnded(ctx, tx, t.ID, p, application.EventAccept, appActor, note, now); err != nil {
		return nil, err
	}
	// Placed: the child's other requests end (while this one is still accepted, not yet
	// contracted, so its own other choices end too).
	if err := application.EndOthers(ctx, tx, t.ID, p, appActor, "placed", now); err != nil {
		return nil, err
	}
	contractID, err := contract.EnterForOffer(ctx, tx, t, contract.FromOffer{OfferID: o.ID, ChildID: o.ChildID, FacilityID: o.FacilityID,
		GroupID: o.GroupID, CareHours: o.CareHours, Start: o.Start}, date.In(now))
	if err != nil {
		return nil, err
	}
	if err := offer.SetContract(ctx, tx, t.ID, o.ID, contractID); err != nil {
		return nil, err
	}
	if _, _, err := offer.Transition(ctx, tx, t.ID, o.ID, offer.EventContract, offer.Actor{Kind: "system"}, "", now); err != nil {
		return nil, err
	}
	if err := application.Contracted(ctx, tx, t.ID, p.ApplicationID, appActor, note, now); err != nil {
		return nil, err
	}
	// The child's other offers go back.
	facilities := []uuid.UUID{o.FacilityID}
	others, err := offer.HoldingOfChild(ctx, tx, t.ID, o.ChildID, o.ID)
	if err != nil {
		return nil, err
	}
	for _, other := range others {
		if _, _, err := offer.Transition(ctx, tx, t.ID, other.ID, offer.EventWithdraw, offer.Actor{Kind: "system"}, "placed", now); err != nil &&
			!errors.Is(err, offer.ErrTransition) {
			return nil, err
		}
		facilities = append(facilities, other.FacilityID)
	}
	if err := availability.Refresh(ctx, tx, t, date.In(now), facilities...); err != nil {
		return nil, err
	}
	done, err := offer.Get(ctx, tx, t.ID, o.ID, false)
	if err != nil {
		return nil, err
	}
	return done, s.tell(ctx, tx, t, p, done, NoticeAccepted, "")
}

// Decline declines an open offer of the caller's family (or cancels its reservation),
// with an optional reason. The seat is free at once; in a lock city the child's other
// requests resume, in a cascade city the request moves to its next choice.
func (s *Service) Decline(ctx context.Context, c auth.Caller, id uuid.UUID, reason string) (*offer.Offer, error) {
	reason, err := auth.FreeText("reason", reason, 0, 500)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	t := c.Tenant
	var out *offer.Offer
	err = s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		o, p, err := familyOffer(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if o.Status == offer.StatusDeclined {
			out = o
			return nil
		}
		if _, ok := offer.Next(o.Status, offer.EventDecline); !ok {
			return ErrNotAnswerable
		}
		actor := offer.Actor{Kind: "parent", ID: c.Principal.ID}
		if err := s.finish(ctx, tx, t, o, p, offer.EventDecline, application.EventDecline, actor, reason, now); err != nil {
			return err
		}
		if err := availability.Refresh(ctx, tx, t, date.In(now), o.FacilityID); err != nil {
			return err
		}
		out, err = offer.Get(ctx, tx, t.ID, o.ID, false)
		return err
	})
	return out, err
}

// finish ends an unfinished offer without a place (declined, expired, withdrawn): the
// offer and its choice move on, the lock lifts or the cascade moves on, and the family
// hears of it unless it answered itself. The caller refreshes the facility's
// availability (once for a whole batch of expiries), which frees the seat.
func (s *Service) finish(ctx context.Context, tx bun.Tx, t *tenant.Tenant, o *offer.Offer, p *application.Placing, ev offer.Event,
	choiceEv application.Event, actor offer.Actor, note string, now time.Time) error {
	wasOut := o.Status == offer.StatusOpen || o.Status == offer.StatusReserved
	if _, _, err := offer.Transition(ctx, tx, t.ID, o.ID, ev, actor, note, now); err != nil {
		return err
	}
	appActor := application.Actor{Kind: actor.Kind, ID: actor.ID}
	if choiceEv == application.EventDecline && !wasOut {
		choiceEv = application.EventRetract
	}
	historyNote := p.FacilityName + ": offer " + string(ev)
	if note != "" {
		historyNote += " (" + note + ")"
	}
	if err := application.OfferEnded(ctx, tx, t.ID, p, choiceEv, appActor, historyNote, now); err != nil {
		return err
	}
	switch t.Rules.Allocation.Mode {
	case tenant.ModeOneOfferLock:
		if err := application.ResumeOthers(ctx, tx, t.ID, p, "resumed: offer from "+p.FacilityName+" "+string(ev), now); err != nil {
			return err
		}
	case tenant.ModeCascade:
		// Declined or lapsed: the next choice's turn. Taken back by the facility: its
		// own turn again.
		if choiceEv == application.EventRetract {
			if err := application.RestartTurn(ctx, tx, t, p.ApplicationID, p.Rank, now); err != nil {
				return err
			}
		} else if _, err := application.Forward(ctx, tx, t, p.ApplicationID, appActor, now); err != nil {
			return err
		}
	}
	if actor.Kind == "parent" || !wasOut {
		return nil
	}
	kind := NoticeExpired
	if ev == offer.EventWithdraw {
		kind = NoticeWithdrawn
	}
	return s.tell(ctx, tx, t, p, o, kind, note)
}
