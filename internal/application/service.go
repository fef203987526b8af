package application

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/care"
	"kitaportal/internal/family"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
	"kitaportal/internal/webhook"
)

// Service runs the application flows of parents and staff. Every method is one tenant
// transaction: the change, its history, its mails and inbox notices commit together.
type Service struct {
	db    bun.IDB
	authz *authz.Enforcer
	clock clock.Clock
	mails *notify.Templates
	links *notify.Links
}

// Deps are what the application service needs; Authz may be nil where nobody decides
// (the worker).
type Deps struct {
	DB    bun.IDB
	Authz *authz.Enforcer
	Clock clock.Clock
	Mails *notify.Templates
	Links *notify.Links
}

// NewService returns the application service.
func NewService(d Deps) *Service {
	return &Service{db: d.DB, authz: d.Authz, clock: d.Clock, mails: d.Mails, links: d.Links}
}

func (s *Service) now() time.Time { return s.clock.Now() }

// Today is the service's day in Germany.
func (s *Service) Today() date.Date { return date.Today(s.clock) }

// parent is the signed-in parent's account id.
func parent(c auth.Caller) (uuid.UUID, error) {
	if c.Principal == nil || c.Principal.Kind != auth.KindParent {
		return uuid.Nil, apperr.Forbidden("forbidden")
	}
	return c.Principal.ID, nil
}

func parentActor(c auth.Caller) Actor { return Actor{Kind: "parent", ID: c.Principal.ID} }

// MaxChoicesInput caps the choices read from a form or body before any rule runs.
const MaxChoicesInput = MaxChoicesStored

// CheckInput refuses what no rule needs to look at: too many choices to store, the same
// list of criteria too long.
func CheckInput(in Input) error {
	var errs apperr.List
	if len(in.Choices) > MaxChoicesInput {
		errs = append(errs, apperr.Invalid("choices", "choices_too_many", map[string]any{"max": MaxChoicesInput}))
	}
	if len(in.Criteria) > 50 {
		errs = append(errs, apperr.Invalid("criteria", "criterion_unknown", nil))
	}
	return errs.Err()
}

// Create files a draft for a child of the caller's family. The rules run at once (all
// but those binding only at submission), so a family learns early what to change. With
// submit the request is filed in the same transaction (one step for the family: the
// rules for submission apply, and nothing is saved when they refuse).
func (s *Service) Create(ctx context.Context, c auth.Caller, in Input, submit bool) (*Application, error) {
	me, err := parent(c)
	if err != nil {
		return nil, err
	}
	if err := CheckInput(in); err != nil {
		return nil, err
	}
	start, err := care.ParseStart(in.StartDate)
	if err != nil {
		return nil, err
	}
	now := s.now()
	id := uuid.Must(uuid.NewV7())
	var out *Application
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		fam, ch, err := family.HouseholdAndChild(ctx, tx, c.Tenant, me, in.ChildID)
		if err != nil {
			return err
		}
		if fam == nil {
			return family.ErrNoFamily
		}
		if ch == nil {
			return apperr.Invalid("child_id", "child_unknown", nil)
		}
		f, err := facts(ctx, tx, c.Tenant, fam, ch, start, in, date.In(now), uuid.Nil)
		if err != nil {
			return err
		}
		f.Submitting = submit
		if errs := Check(c.Tenant.Rules, f); len(errs) > 0 {
			return errs
		}
		if err := insert(ctx, tx, c.Tenant, id, in, start, SourceOnline, nil, parentActor(c), now); err != nil {
			return err
		}
		out = draftOf(c.Tenant, id, ch, in, start, f.Choices, now)
		if !submit {
			return nil
		}
		if err := s.file(ctx, tx, c.Tenant, fam, out, f.Ticket, parentActor(c), now); err != nil {
			return err
		}
		return s.afterSubmit(ctx, tx, c.Tenant, fam.ID, out)
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	s.decorate(c.Tenant, out)
	return out, nil
}

// ownFamily is the caller's family when an id is looked up: without a family, no
// application is theirs, so the id is unknown.
func ownFamily(ctx context.Context, tx bun.IDB, c auth.Caller, me uuid.UUID) (*family.Family, error) {
	f, err := family.HouseholdOf(ctx, tx, c.Tenant, me, true)
	if err == nil && f == nil {
		return nil, ErrNotFound
	}
	return f, err
}

// Update changes an application while it is editable; the rules run again. A change of
// a submitted request is recorded in its history and reported to the family.
func (s *Service) Update(ctx context.Context, c auth.Caller, id uuid.UUID, in Input) (*Application, error) {
	return s.onOwn(ctx, c, id, func(ctx context.Context, tx bun.Tx, fam *family.Family, a *Application, now time.Time) (*Application, error) {
		if !editable(a, c.Tenant.Rules, date.In(now)) {
			return nil, apperr.Conflict("application_not_editable")
		}
		if err := CheckInput(in); err != nil {
			return nil, err
		}
		start, err := care.ParseStart(in.StartDate)
		if err != nil {
			return nil, err
		}
		in.ChildID = a.ChildID
		f, err := facts(ctx, tx, c.Tenant, fam, childOf(a), start, in, date.In(now), a.ID)
		if err != nil {
			return nil, err
		}
		f.Submitting = a.Status != StatusDraft
		if errs := Check(c.Tenant.Rules, f); len(errs) > 0 {
			return nil, errs
		}
		if err := s.write(ctx, tx, c.Tenant, a, in, start, now); err != nil {
			return nil, err
		}
		if a.Status != StatusSubmitted {
			return reload(ctx, tx, c.Tenant, id)
		}
		if err := record(ctx, tx, c.Tenant.ID, a.ID, parentActor(c), a.Status, "changed", now); err != nil {
			return nil, err
		}
		if err := webhook.Emit(ctx, tx, c.Tenant.ID, requestEvent(a.ID, a.Status, a.Status, "", now)); err != nil {
			return nil, err
		}
		out, err := reload(ctx, tx, c.Tenant, id)
		if err != nil {
			return nil, err
		}
		return out, s.tellFamily(ctx, tx, c.Tenant, fam.ID, out, NoticeChanged, "")
	})
}

// onOwn runs fn in one tenant transaction on application id of the caller's family,
// locked; fn answers the application as it is afterwards. Unknown ids and other
// families' are "not found".
func (s *Service) onOwn(ctx context.Context, c auth.Caller, id uuid.UUID,
	fn func(ctx context.Context, tx bun.Tx, fam *family.Family, a *Application, now time.Time) (*Application, error)) (*Application, error) {
	me, err := parent(c)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *Application
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		fam, err := ownFamily(ctx, tx, c, me)
		if err != nil {
			return err
		}
		cond, args, err := ofFamily(ctx, tx, c.Tenant.ID, fam.ID)
		if err != nil {
			return err
		}
		a, _, err := load(ctx, tx, c.Tenant, id, true, cond, args...)
		if err != nil {
			return err
		}
		out, err = fn(ctx, tx, fam, a, now)
		return err
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	s.decorate(c.Tenant, out)
	return out, nil
}

func reload(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID) (*Application, error) {
	a, _, err := load(ctx, tx, t, id, false, "")
	return a, err
}

// write stores the new fields and choices of a.
func (s *Service) write(ctx context.Context, tx bun.IDB, t *tenant.Tenant, a *Application, in Input, start date.Date, now time.Time) error {
	crit, _ := jsonOf(orEmpty(in.Criteria))
	var declared *time.Time
	if in.Declared {
		declared = &now
	}
	_, err := tx.ExecContext(ctx, `UPDATE application SET start_date = ?, start_period = ?, care_hours = ?, criteria = ?, declared_at = ?,
		version = version + 1, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		start, t.Rules.Calendar().YearStart(start), in.CareHours, crit, declared, now, t.ID, a.ID)
	if database.IsUniqueViolation(err, "application_one_active") {
		return apperr.Invalid("start_date", "application_exists_for_period", nil)
	}
	if err != nil {
		return err
	}
	return writeChoices(ctx, tx, t.ID, a.ID, in.Choices, now)
}

// Submit files a draft: every rule again, now with windows and the declaration, then a
// reference number, the confirmation mail and inbox notice, and the Kindertagespflege
// choices to their district's Fachberatung. Submitting twice (a double click, two tabs)
// answers the same submitted application.
func (s *Service) Submit(ctx context.Context, c auth.Caller, id uuid.UUID) (*Application, error) {
	return s.onOwn(ctx, c, id, func(ctx context.Context, tx bun.Tx, fam *family.Family, a *Application, now time.Time) (*Application, error) {
		switch a.Status {
		case StatusDraft:
		case StatusSubmitted:
			return a, nil
		default:
			return nil, apperr.Conflict("application_not_draft")
		}
		if err := s.submit(ctx, tx, c.Tenant, fam, childOf(a), a, parentActor(c), now); err != nil {
			return nil, err
		}
		return a, s.afterSubmit(ctx, tx, c.Tenant, fam.ID, a)
	})
}

// submit checks a draft once more and files it.
func (s *Service) submit(ctx context.Context, tx bun.IDB, t *tenant.Tenant, fam *family.Family, ch *family.Child, a *Application, actor Actor, now time.Time) error {
	in := Input{ChildID: a.ChildID, CareHours: a.CareHours, Criteria: a.Criteria, Declared: a.DeclaredAt != nil}
	for _, c := range a.Choices {
		in.Choices = append(in.Choices, c.Facility.ID)
	}
	f, err := facts(ctx, tx, t, fam, ch, a.StartDate, in, date.In(now), a.ID)
	if err != nil {
		return err
	}
	f.Submitting = true
	if errs := Check(t.Rules, f); len(errs) > 0 {
		return errs
	}
	return s.file(ctx, tx, t, fam, a, f.Ticket, actor, now)
}

// file marks a checked draft submitted: a reference number, the ticket that lets a family
// from outside apply, the history; the caller's copy follows the row.
func (s *Service) file(ctx context.Context, tx bun.IDB, t *tenant.Tenant, fam *family.Family, a *Application, ticket *uuid.UUID, actor Actor, now time.Time) error {
	if fam.Municipality != "" {
		ticket = nil // residents need none
	}
	ref, err := markSubmitted(ctx, tx, t, a.ID, ticket, actor, now)
	if err != nil {
		return err
	}
	a.Status, a.Reference, a.SubmittedAt, a.TicketID, a.UpdatedAt = StatusSubmitted, ref, &now, ticket, now
	a.Version++
	a.History = append(a.History, HistoryEntry{At: now, ActorKind: actor.Kind, From: StatusDraft, To: StatusSubmitted})
	return nil
}

// childOf is what the rules need of an application's child, from the application.
func childOf(a *Application) *family.Child {
	ch := &family.Child{ID: a.ChildID, FirstName: a.Child.FirstName, LastName: a.Child.LastName}
	b := a.Child.BirthDate
	if a.Child.Born {
		ch.BirthDate = &b
	} else {
		ch.ExpectedBirthDate = &b
	}
	return ch
}

// draftOf is the application Create just wrote, built from what it knows.
func draftOf(t *tenant.Tenant, id uuid.UUID, ch *family.Child, in Input, start date.Date, choices []ChoiceFacts, now time.Time) *Application {
	a := &Application{ID: id, Status: StatusDraft, ChildID: ch.ID, StartDate: start, CareHours: in.CareHours, Criteria: orEmpty(in.Criteria),
		Source: SourceOnline, Version: 1, CreatedAt: now, UpdatedAt: now,
		Child:   ChildSummary{FirstName: ch.FirstName, LastName: ch.LastName, BirthDate: ch.Birth(), Born: ch.Born()},
		History: []HistoryEntry{{At: now, ActorKind: "parent", To: StatusDraft}}}
	a.Points = Points(t.Rules, a.Criteria)
	if in.Declared {
		a.DeclaredAt = &now
	}
	for i, c := range choices {
		a.Choices = append(a.Choices, Choice{Rank: i + 1, Status: ChoicePending, Updated: now,
			Facility: Facility{ID: c.FacilityID, Name: c.Name, Type: c.Type, District: c.District}})
		if d, ok := t.Rules.District(c.District); ok && care.IsTagespflege(c.Type) {
			a.Tagespflege = append(a.Tagespflege, Routing{Facility: c.Name, District: d.Name, Fachberatung: d.Fachberatung})
		}
	}
	return a
}

// afterSubmit tells the family and routes Kindertagespflege choices.
func (s *Service) afterSubmit(ctx context.Context, tx bun.IDB, t *tenant.Tenant, familyID uuid.UUID, a *Application) error {
	if err := s.tellFamily(ctx, tx, t, familyID, a, NoticeSubmitted, ""); err != nil {
		return err
	}
	return s.routeTagespflege(ctx, tx, t, a)
}

// Withdraw takes a request back; its open choices end with it.
func (s *Service) Withdraw(ctx context.Context, c auth.Caller, id uuid.UUID, reason string) (*Application, error) {
	return s.onOwn(ctx, c, id, func(ctx context.Context, tx bun.Tx, fam *family.Family, a *Application, now time.Time) (*Application, error) {
		if a.Status == StatusWithdrawn {
			return a, nil
		}
		if !withdrawable(a) {
			return nil, apperr.Conflict("application_not_withdrawable")
		}
		reason, err := auth.FreeText("reason", reason, 0, 500)
		if err != nil {
			return nil, err
		}
		if err := withdraw(ctx, tx, c.Tenant.ID, a, parentActor(c), reason, now); err != nil {
			return nil, err
		}
		out, err := reload(ctx, tx, c.Tenant, id)
		if err != nil || a.Status == StatusDraft {
			return out, err // a draft: nobody but the family knew of it
		}
		return out, s.tellFamily(ctx, tx, c.Tenant, fam.ID, out, NoticeWithdrawn, reason)
	})
}

// withdraw takes request a back with reason; its open choices end with it.
func withdraw(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, a *Application, actor Actor, reason string, now time.Time) error {
	if _, _, err := Transition(ctx, tx, tenantID, a.ID, EventWithdraw, actor, reason, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE application SET withdrawn_reason = ? WHERE tenant_id = ? AND id = ?`, reason, tenantID, a.ID); err != nil {
		return err
	}
	return transitionChoices(ctx, tx, tenantID, a.ID, EventWithdraw, now)
}

// Get returns one application of the caller's family.
func (s *Service) Get(ctx context.Context, c auth.Caller, id uuid.UUID) (*Application, error) {
	me, err := parent(c)
	if err != nil {
		return nil, err
	}
	var out *Application
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		fam, err := family.HouseholdOf(ctx, tx, c.Tenant, me, false)
		if err != nil {
			return err
		}
		if fam == nil {
			return ErrNotFound
		}
		cond, args, err := ofFamily(ctx, tx, c.Tenant.ID, fam.ID)
		if err != nil {
			return err
		}
		out, _, err = load(ctx, tx, c.Tenant, id, false, cond, args...)
		return err
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	s.decorate(c.Tenant, out)
	return out, nil
}

// List returns the applications of the caller's family, newest first.
func (s *Service) List(ctx context.Context, c auth.Caller) ([]*Application, error) {
	me, err := parent(c)
	if err != nil {
		return nil, err
	}
	out := []*Application{}
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		fam, err := family.HouseholdOf(ctx, tx, c.Tenant, me, false)
		if err != nil || fam == nil {
			return err
		}
		out, err = listOfFamily(ctx, tx, c.Tenant, fam.ID)
		return err
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	for _, a := range out {
		s.decorate(c.Tenant, a)
	}
	return out, nil
}

// decorate adds what the family may do next.
func (s *Service) decorate(t *tenant.Tenant, a *Application) {
	if a == nil {
		return
	}
	today := date.In(s.now())
	a.Editable = editable(a, t.Rules, today)
	a.Withdrawable = withdrawable(a)
}
