package placement

import (
	"context"
	"strings"
	"unicode"

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
		kids, err := familyChildren(ctx, tx, c)
		if err != nil {
			return err
		}
		o, err := offer.Get(ctx, tx, c.Tenant.ID, id, false)
		if err != nil {
			return err
		}
		if !contains(kids, o.ChildID) || !visibleToFamily(o.Status) {
			return offer.ErrNotFound
		}
		out, err = s.view(ctx, tx, c.Tenant, o)
		return err
	})
	return out, err
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
			if !contains(ids, facilityID) {
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
			s.staffActions(&out[i])
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
		s.staffActions(out)
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

// staffActions fills what staff may do with v: withdraw it while it is unfinished,
// confirm it while it waits for them.
func (s *Service) staffActions(v *View) {
	_, v.CanWithdraw = offer.Next(v.Status, offer.EventWithdraw)
	_, v.CanConfirm = offer.Next(v.Status, offer.EventConfirm)
	v.CanAnswer = false
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
		if o.ExpiresAt != nil {
			v.AnswerBy = ptr(date.In(*o.ExpiresAt).AddDays(-1))
		}
		out = append(out, v)
	}
	return out, nil
}

func contains(ids []uuid.UUID, id uuid.UUID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Confirm lets an offer waiting for confirmation go: the administration confirms a
// facility's proposal (Herzberg; it goes out now, or on its release day), or a facility
// confirms a family's reservation (Leipzig; it becomes the contract).
func (s *Service) Confirm(ctx context.Context, c auth.Caller, id uuid.UUID) (*View, error) {
	now := s.clock.Now()
	t := c.Tenant
	err := s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		o, p, err := s.lockByID(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if err := inScope(ctx, tx, c, o.FacilityID); err != nil {
			return err
		}
		actor := offer.Actor{Kind: "staff", ID: c.Principal.ID}
		switch o.Status {
		case offer.StatusReserved:
			if _, err := s.accept(ctx, tx, t, o, p, actor, now); err != nil {
				return err
			}
		case offer.StatusProposed:
			// The administration confirms; the facility that proposed does not.
			if s.authz == nil || !s.authz.Allowed(c.Principal, t.ID.String(), "offers.confirm") {
				return apperr.Forbidden("forbidden")
			}
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
		default:
			return offer.ErrTransition
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionOfferConfirmed, ObjectKind: "offer",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{o.ChildID}})
	})
	if err != nil {
		return nil, err
	}
	return s.Staff(ctx, c, id)
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
	now := s.clock.Now()
	t := c.Tenant
	err = s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		o, p, err := s.lockByID(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if err := inScope(ctx, tx, c, o.FacilityID); err != nil {
			return err
		}
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
	if err != nil {
		return nil, err
	}
	return s.Staff(ctx, c, id)
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
		v, err := s.Own(ctx, c, id)
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
		doc = Document{Key: key, Name: "Betreuungsvertrag-" + asciiName(v.Child) + "-" + v.Start.String() + ".pdf"}
		return nil
	})
	return doc, err
}

// asciiName keeps letters and digits of a name for a file name, umlauts spelled out.
func asciiName(s string) string {
	var b strings.Builder
	for _, r := range strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue", "ß", "ss", " ", "-").Replace(s) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
