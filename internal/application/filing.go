package application

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/family"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// Requests staff file for a family: walk-in registration and the waitlist import
// (casework) enter the family and the child, then file the request here, in their
// transaction, under the same rules as online requests. linkCode is the code the family
// takes the record over with; the family's notice carries it.

// FileWalkIn files a request staff entered on site for child ch of family f, with the
// parents' consent: every rule of a submission, a reference number, the consent; then
// the family is told and Kindertagespflege choices go to their Fachberatung.
func (s *Service) FileWalkIn(ctx context.Context, tx bun.IDB, t *tenant.Tenant, f *family.Family, ch *family.Child, in Input, start date.Date,
	consent Consent, linkCode string, staffID uuid.UUID, now time.Time) (*Application, error) {
	fs, err := facts(ctx, tx, t, f, ch, start, in, date.In(now), uuid.Nil)
	if err != nil {
		return nil, err
	}
	fs.Submitting = true
	if errs := Check(t.Rules, fs); len(errs) > 0 {
		return nil, errs
	}
	id := uuid.Must(uuid.NewV7())
	actor := Actor{Kind: "staff", ID: staffID}
	if err := insert(ctx, tx, t, id, in, start, SourceWalkIn, &staffID, actor, now); err != nil {
		return nil, err
	}
	a, _, err := load(ctx, tx, t, id, true, "")
	if err != nil {
		return nil, err
	}
	if err := s.submit(ctx, tx, t, f, ch, a, actor, now); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO application_consent (tenant_id, application_id, given_by, given_at, method, note, recorded_by, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, id, consent.GivenBy, consent.GivenAt, consent.Method, consent.Note, staffID, now); err != nil {
		return nil, err
	}
	if err := s.tellFamily(ctx, tx, t, f.ID, a, NoticeWalkIn, linkCode); err != nil {
		return nil, err
	}
	if err := s.routeTagespflege(ctx, tx, t, a); err != nil {
		return nil, err
	}
	return a, nil
}

// FileImported files a request of a paper waitlist for child ch of family f, submitted
// at the date on paper (registered), and tells the family.
func (s *Service) FileImported(ctx context.Context, tx bun.IDB, t *tenant.Tenant, f *family.Family, ch *family.Child, in Input, start date.Date,
	registered date.Date, linkCode string, staff uuid.UUID, now time.Time) (*Application, error) {
	today := date.In(now)
	// The rules apply as to a request filed today; the date on paper only keeps the
	// family's place in line (submitted_at).
	fs, err := facts(ctx, tx, t, f, ch, start, in, today, uuid.Nil)
	if err != nil {
		return nil, err
	}
	if errs := Check(t.Rules, fs); len(errs) > 0 {
		return nil, errs
	}
	id := uuid.Must(uuid.NewV7())
	actor := Actor{Kind: "staff", ID: staff}
	if err := insert(ctx, tx, t, id, in, start, SourceImport, &staff, actor, now); err != nil {
		return nil, err
	}
	// Filed at its date on paper, numbered in this year's sequence.
	prefix := ReferencePrefix(t.Slug) + "-" + strconv.Itoa(today.Year()) + "-"
	if _, err := TransitionFiling(ctx, tx, t.ID, id, EventImport, Filing{At: registered.Time(), ReferencePrefix: prefix}, actor, "imported", now); err != nil {
		return nil, err
	}
	if err := startCascade(ctx, tx, t, id, now); err != nil {
		return nil, err
	}
	a, _, err := load(ctx, tx, t, id, false, "")
	if err != nil {
		return nil, err
	}
	return a, s.tellFamily(ctx, tx, t, f.ID, a, NoticeImported, linkCode)
}
