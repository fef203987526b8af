package placement

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/contract"
	"kitaportal/internal/family"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// View is an offer as a page or the API shows it.
type View struct {
	offer.Offer
	Facility  string               `json:"facility"`
	Child     string               `json:"child"`
	Reference string               `json:"reference,omitempty"`
	History   []offer.HistoryEntry `json:"history,omitempty"`
	// AnswerBy is the deadline's last day (the deadline is the end of it).
	AnswerBy    *date.Date `json:"answer_by,omitempty"`
	CanAnswer   bool       `json:"can_answer"`
	CanConfirm  bool       `json:"can_confirm,omitempty"`
	CanWithdraw bool       `json:"can_withdraw,omitempty"`
	// CanCancel: the family may take its reservation back.
	CanCancel bool `json:"can_cancel,omitempty"`
	// CanConfirmReservation: the facility may confirm the family's reservation.
	CanConfirmReservation bool `json:"can_confirm_reservation,omitempty"`
}

// Mine lists the offers of the caller's family that went out, newest first.
func (s *Service) Mine(ctx context.Context, c auth.Caller) ([]View, error) {
	var out []View
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		kids, err := familyChildren(ctx, tx, c)
		if err != nil {
			return err
		}
		os, err := offer.Of(ctx, tx, c.Tenant.ID, kids, nil)
		if err != nil {
			return err
		}
		kept := os[:0]
		for _, o := range os {
			if visibleToFamily(o.Status) {
				kept = append(kept, o)
			}
		}
		out, err = s.views(ctx, tx, c.Tenant, kept)
		return err
	})
	return out, err
}

// Own reads one offer of the caller's family with its history.
func (s *Service) Own(ctx context.Context, c auth.Caller, id uuid.UUID) (*View, error) {
	var out *View
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = s.own(ctx, tx, c, id)
		return err
	})
	return out, err
}

// own reads offer id when it went out to the caller's family.
func (s *Service) own(ctx context.Context, tx bun.Tx, c auth.Caller, id uuid.UUID) (*View, error) {
	kids, err := familyChildren(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	o, err := offer.Get(ctx, tx, c.Tenant.ID, id, false)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(kids, o.ChildID) || !visibleToFamily(o.Status) {
		return nil, offer.ErrNotFound
	}
	return s.view(ctx, tx, c.Tenant, o)
}

// AtFacilities lists the offers at the facilities of the caller's scope (one facility
// when facilityID is set), newest first: reading it shows child names, so it is audited.
func (s *Service) AtFacilities(ctx context.Context, c auth.Caller, facilityID uuid.UUID) ([]View, error) {
	var out []View
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		ids, err := provider.ScopeFacilityIDs(ctx, tx, c)
		if err != nil {
			return err
		}
		if facilityID != uuid.Nil {
			if !slices.Contains(ids, facilityID) {
				return offer.ErrNotFound
			}
			ids = []uuid.UUID{facilityID}
		}
		os, err := offer.AtFacilities(ctx, tx, c.Tenant.ID, ids, nil)
		if err != nil {
			return err
		}
		if out, err = s.views(ctx, tx, c.Tenant, os); err != nil {
			return err
		}
		children := make([]uuid.UUID, 0, len(out))
		for i := range out {
			s.staffActions(c, &out[i])
			children = append(children, out[i].ChildID)
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionOffersListed, ObjectKind: "offer",
			ChildIDs: children})
	})
	return out, err
}

// Staff reads one offer at a facility of the caller's scope with its history.
func (s *Service) Staff(ctx context.Context, c auth.Caller, id uuid.UUID) (*View, error) {
	var out *View
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		o, err := offer.Get(ctx, tx, c.Tenant.ID, id, false)
		if err != nil {
			return err
		}
		if err := inScope(ctx, tx, c, o.FacilityID); err != nil {
			return err
		}
		if out, err = s.view(ctx, tx, c.Tenant, o); err != nil {
			return err
		}
		s.staffActions(c, out)
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionOfferRead, ObjectKind: "offer",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{o.ChildID}})
	})
	return out, err
}

// Audit actions of reading offers.
const (
	ActionOffersListed = "offers.listed"
	ActionOfferRead    = "offer.read"
)

// staffActions fills what the caller may do with v: withdraw it while it is
// unfinished; confirm a proposal (the administration) or a reservation (the facility).
func (s *Service) staffActions(c auth.Caller, v *View) {
	_, v.CanWithdraw = offer.Next(v.Status, offer.EventWithdraw)
	switch v.Status {
	case offer.StatusProposed:
		v.CanConfirm = s.authz != nil && s.authz.Allowed(c.Principal, c.Tenant.ID.String(), "offers.confirm")
	case offer.StatusReserved:
		v.CanConfirmReservation = v.ExpiresAt != nil && s.clock.Now().Before(*v.ExpiresAt)
	}
	v.CanAnswer, v.CanCancel = false, false
}

func (s *Service) view(ctx context.Context, tx bun.IDB, t *tenant.Tenant, o *offer.Offer) (*View, error) {
	vs, err := s.views(ctx, tx, t, []offer.Offer{*o})
	if err != nil {
		return nil, err
	}
	v := &vs[0]
	if v.History, err = offer.History(ctx, tx, t.ID, o.ID); err != nil {
		return nil, err
	}
	return v, nil
}

// views names the facility and child of every offer, one query each for all.
func (s *Service) views(ctx context.Context, tx bun.IDB, t *tenant.Tenant, os []offer.Offer) ([]View, error) {
	out := make([]View, 0, len(os))
	var facilities, children []uuid.UUID
	for _, o := range os {
		facilities, children = append(facilities, o.FacilityID), append(children, o.ChildID)
	}
	names, err := provider.FacilityNames(ctx, tx, t.ID, facilities)
	if err != nil {
		return nil, err
	}
	kids, err := family.ChildNames(ctx, tx, t.ID, children)
	if err != nil {
		return nil, err
	}
	childName := map[uuid.UUID]string{}
	for _, k := range kids {
		childName[k.ID] = k.FirstName + " " + k.LastName
	}
	now := s.clock.Now()
	for _, o := range os {
		v := View{Offer: o, Facility: names[o.FacilityID], Child: childName[o.ChildID]}
		v.CanAnswer = o.Status == offer.StatusOpen && o.ExpiresAt != nil && now.Before(*o.ExpiresAt)
		v.CanCancel = o.Status == offer.StatusReserved
		if o.ExpiresAt != nil {
			v.AnswerBy = ptr(date.In(*o.ExpiresAt).AddDays(-1))
		}
		out = append(out, v)
	}
	return out, nil
}

// staffStep runs step on offer id at a facility of the caller's scope, with the offer
// and its request locked, and answers the offer as staff see it afterwards.
func (s *Service) staffStep(ctx context.Context, c auth.Caller, id uuid.UUID,
	step func(ctx context.Context, tx bun.Tx, o *offer.Offer, p *application.Placing, now time.Time) error) (*View, error) {
	now := s.clock.Now()
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		o, p, err := s.lockByID(ctx, tx, c.Tenant, id)
		if err != nil {
			return err
		}
		if err := inScope(ctx, tx, c, o.FacilityID); err != nil {
			return err
		}
		return step(ctx, tx, o, p, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Staff(ctx, c, id)
}

// Confirm lets a facility's proposal go out once the administration confirmed it
// (Herzberg): now, or on its release day.
func (s *Service) Confirm(ctx context.Context, c auth.Caller, id uuid.UUID) (*View, error) {
	t := c.Tenant
	return s.staffStep(ctx, c, id, func(ctx context.Context, tx bun.Tx, o *offer.Offer, p *application.Placing, now time.Time) error {
		if o.Status != offer.StatusProposed {
			return offer.ErrTransition
		}
		// The administration confirms; the facility that proposed does not.
		if s.authz == nil || !s.authz.Allowed(c.Principal, t.ID.String(), "offers.confirm") {
			return apperr.Forbidden("forbidden")
		}
		actor := offer.Actor{Kind: "staff", ID: c.Principal.ID}
		if _, _, err := offer.Transition(ctx, tx, t.ID, o.ID, offer.EventConfirm, actor, "", now); err != nil {
			return err
		}
		release := ReleaseDay(t, o.Start)
		if date.In(now).Before(release) {
			at := release.Time()
			if err := offer.SetOpensAt(ctx, tx, t.ID, o.ID, at); err != nil {
				return err
			}
			if err := schedule(ctx, tx, t.ID, o.ID, TaskRelease, 0, at); err != nil {
				return err
			}
		} else if err := s.open(ctx, tx, t, o, p, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionOfferConfirmed, ObjectKind: "offer",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{o.ChildID}})
	})
}

// Withdraw takes an unfinished offer back, with a reason the family reads; the seat is
// free at once and the choice is back with the facility.
func (s *Service) Withdraw(ctx context.Context, c auth.Caller, id uuid.UUID, reason string) (*View, error) {
	reason, err := auth.FreeText("reason", reason, 0, 500)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, offer.ErrReasonMissing
	}
	t := c.Tenant
	return s.staffStep(ctx, c, id, func(ctx context.Context, tx bun.Tx, o *offer.Offer, p *application.Placing, now time.Time) error {
		if _, ok := offer.Next(o.Status, offer.EventWithdraw); !ok {
			return offer.ErrTransition
		}
		if err := s.finish(ctx, tx, t, o, p, offer.EventWithdraw, application.EventRetract, offer.Actor{Kind: "staff", ID: c.Principal.ID},
			reason, now); err != nil {
			return err
		}
		if err := availability.Refresh(ctx, tx, t, date.In(now), o.FacilityID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionOfferWithdrawn, ObjectKind: "offer",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{o.ChildID}, Details: map[string]any{"reason": reason}})
	})
}

// Document is a stored contract document to download.
type Document struct {
	Key  string
	Name string // the file name offered to the browser (ASCII)
}

// ErrDocumentPending answers a download of a contract whose PDF is still being made.
var ErrDocumentPending = apperr.Conflict("contract_document_pending")

// ContractDocument is the care contract of the family's offer id, once the offer became
// a contract and its document was made.
func (s *Service) ContractDocument(ctx context.Context, c auth.Caller, id uuid.UUID) (Document, error) {
	var doc Document
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		v, err := s.own(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if v.ContractID == nil {
			return offer.ErrNotFound
		}
		key, ready, err := contract.DocumentOf(ctx, tx, c.Tenant.ID, *v.ContractID)
		if err != nil {
			return err
		}
		if !ready {
			return ErrDocumentPending
		}
		doc = Document{Key: key, Name: contract.DocumentName(lastName(v.Child), v.Start)}
		return nil
	})
	return doc, err
}

// lastName is the last word of a child's name as views show it.
func lastName(full string) string {
	parts := strings.Fields(full)
	if len(parts) == 0 {
		return ""
	}
	return parts[len(parts)-1]
}
