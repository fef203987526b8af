package casework

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/care"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
)

// Walk-in registration (Kempten): parents who cannot or will not use the portal register
// at a facility; staff enter family, child and request with the parents' documented
// consent (who, when, how). The request is filed at once under the same rules as online
// ones. The family gets a linking code (printed for them, and mailed when an address is
// known) to take the record over with an account of their own later.

// WalkIn is what staff enter.
type WalkIn struct {
	Family  family.Input
	Child   family.ChildInput
	Request application.Input
	Consent ConsentInput
}

// ConsentInput is the parents' consent as staff record it.
type ConsentInput struct {
	GivenBy string
	GivenAt string // date and time, "2026-11-25T10:30" (German time) or RFC 3339
	Method  string // signed_form, in_person, phone
	Note    string
}

// WalkInResult is what the staff member hands the family.
type WalkInResult struct {
	ApplicationID uuid.UUID `json:"application_id"`
	Reference     string    `json:"reference"`
	ChildID       uuid.UUID `json:"child_id"`
	LinkCode      string    `json:"link_code"`
	CodeExpires   time.Time `json:"link_code_expires_at"`
}

var consentMethods = map[string]bool{"signed_form": true, "in_person": true, "phone": true}

// checkConsent validates the consent: a named person, a moment neither in the future nor
// more than 30 days back, a known way.
func checkConsent(in ConsentInput, now time.Time) (application.Consent, error) {
	var errs apperr.List
	var out application.Consent
	var err error
	if out.GivenBy, err = auth.Name("consent.given_by", in.GivenBy, true); err != nil {
		errs = append(errs, err.(*apperr.Error))
	}
	at, perr := parseMoment(in.GivenAt)
	switch {
	case perr != nil:
		errs = append(errs, apperr.Invalid("consent.given_at", "date_invalid", nil))
	case at.After(now.Add(5 * time.Minute)):
		errs = append(errs, apperr.Invalid("consent.given_at", "consent_in_future", nil))
	case at.Before(now.AddDate(0, 0, -30)):
		errs = append(errs, apperr.Invalid("consent.given_at", "consent_too_old", nil))
	}
	out.GivenAt = at
	if !consentMethods[in.Method] {
		errs = append(errs, apperr.Invalid("consent.method", "consent_method_unknown", nil))
	}
	out.Method = in.Method
	if out.Note, err = auth.FreeText("consent.note", in.Note, 0, 1000); err != nil {
		errs = append(errs, err.(*apperr.Error))
	}
	return out, errs.Err()
}

func parseMoment(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02T15:04", s, clock.Berlin)
}

// WalkIn files a request entered by staff for a family on site.
func (s *Service) WalkIn(ctx context.Context, c auth.Caller, w WalkIn) (*WalkInResult, error) {
	if c.Principal == nil || c.Principal.Kind != auth.KindStaff {
		return nil, apperr.Forbidden("forbidden")
	}
	now := s.now()
	today := date.In(now)
	var errs apperr.List
	fam, err := family.CheckInput(w.Family)
	apperr.Collect(&errs, err)
	nc, err := family.CheckChild(w.Child, today)
	apperr.Collect(&errs, err)
	consent, err := checkConsent(w.Consent, now)
	apperr.Collect(&errs, err)
	apperr.Collect(&errs, application.CheckInput(w.Request))
	start, err := care.ParseStart(w.Request.StartDate)
	apperr.Collect(&errs, err)
	if len(errs) > 0 {
		return nil, errs
	}
	staffID := c.Principal.ID
	out := &WalkInResult{CodeExpires: now.Add(family.LinkCodeTTL)}
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		famID, err := family.Create(ctx, tx, c.Tenant, fam, family.SourceWalkIn, nil, &staffID)
		if err != nil {
			return err
		}
		ch, err := family.CreateChild(ctx, tx, c.Tenant.ID, famID, nc, now)
		if err != nil {
			return err
		}
		f, err := family.Load(ctx, tx, c.Tenant, famID)
		if err != nil {
			return err
		}
		if out.LinkCode, err = family.NewLinkCode(ctx, tx, c.Tenant.ID, famID, "walk_in", fam.Guardians[0].Email, &staffID, out.CodeExpires); err != nil {
			return err
		}
		in := w.Request
		in.ChildID = ch.ID
		a, err := s.apps.FileWalkIn(ctx, tx, c.Tenant, f, ch, in, start, consent, out.LinkCode, staffID, now)
		if err != nil {
			return err
		}
		id := a.ID
		out.ApplicationID, out.Reference, out.ChildID = id, a.Reference, ch.ID
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionWalkIn, ObjectKind: "application",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{ch.ID}, Details: map[string]any{"consent_method": consent.Method}})
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return out, nil
}
