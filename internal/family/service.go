package family

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
)

// Service runs a parent's own family flows. Staff flows (walk-in, duplicates, the
// waitlist import) live in casework, on the store functions of this package.
type Service struct {
	db      bun.IDB
	clock   clock.Clock
	limiter *auth.Limiter
	mails   *notify.Templates
	links   *notify.Links
}

// Deps are what the family service needs.
type Deps struct {
	DB      bun.IDB
	Clock   clock.Clock
	Limiter *auth.Limiter
	Mails   *notify.Templates
	Links   *notify.Links
}

// NewService returns the family service.
func NewService(d Deps) *Service {
	return &Service{db: d.DB, clock: d.Clock, limiter: d.Limiter, mails: d.Mails, links: d.Links}
}

// LinkCodeTTL is how long a linking code of a walk-in family or a guardian's invitation
// works.
const LinkCodeTTL = 90 * 24 * time.Hour

// LimitLink bounds the tries of linking codes per account: ten per quarter hour makes
// guessing a 60-bit code hopeless.
var LimitLink = auth.Limit{Name: "family-link", N: 10, Window: 15 * time.Minute}

func parentOf(c auth.Caller) (uuid.UUID, error) {
	if c.Principal == nil || c.Principal.Kind != auth.KindParent {
		return uuid.Nil, apperr.Forbidden("forbidden")
	}
	return c.Principal.ID, nil
}

// Mine returns the caller's family (nil when none was entered yet).
func (s *Service) Mine(ctx context.Context, c auth.Caller) (*Family, error) {
	me, err := parentOf(c)
	if err != nil {
		return nil, err
	}
	var f *Family
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		f, err = OfAccount(ctx, tx, c.Tenant, me, false)
		return err
	})
	return f, database.Classify(err)
}

// Save creates the caller's family or changes its address and guardians. The first
// guardian is the caller.
func (s *Service) Save(ctx context.Context, c auth.Caller, in Input) (*Family, error) {
	me, err := parentOf(c)
	if err != nil {
		return nil, err
	}
	clean, err := cleanInput(in)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out *Family
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		f, err := OfAccount(ctx, tx, c.Tenant, me, true)
		if err != nil {
			return err
		}
		id := uuid.Nil
		if f == nil {
			if id, err = Create(ctx, tx, c.Tenant, clean, SourceOnline, &me, nil); err != nil {
				return err
			}
		} else {
			id = f.ID
			if err := update(ctx, tx, c.Tenant, f, clean, me, now); err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionFamilySaved, ObjectKind: "family", ObjectID: id.String()}); err != nil {
			return err
		}
		out, err = Load(ctx, tx, c.Tenant, id)
		return err
	})
	return out, database.Classify(err)
}

// Audit actions of the family flows.
const (
	ActionFamilySaved    = "family.saved"
	ActionChildAdded     = "child.added"
	ActionChildChanged   = "child.changed"
	ActionGuardianInvite = "family.guardian_invited"
	ActionFamilyLinked   = "family.linked"
)

// requireFamily returns the caller's family, locked; a parent without one is asked to
// enter the address first.
func requireFamily(ctx context.Context, tx bun.IDB, c auth.Caller, me uuid.UUID) (*Family, error) {
	f, err := OfAccount(ctx, tx, c.Tenant, me, true)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, ErrNoFamily
	}
	return f, nil
}

// AddChild adds a child to the caller's family.
func (s *Service) AddChild(ctx context.Context, c auth.Caller, in ChildInput) (*Child, error) {
	me, err := parentOf(c)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	nc, err := CheckChild(in, date.In(now))
	if err != nil {
		return nil, err
	}
	if nc.Expected != nil && !c.Tenant.Rules.Registration.BeforeBirth {
		// The city files requests only after birth; keeping an expected child would
		// only lead to a refusal later.
		return nil, apperr.Invalid("expected_birth_date", "child_not_born", nil)
	}
	var ch *Child
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		f, err := requireFamily(ctx, tx, c, me)
		if err != nil {
			return err
		}
		if len(f.Children) >= 12 {
			return apperr.Invalid("first_name", "children_too_many", map[string]any{"max": 12})
		}
		if ch, err = CreateChild(ctx, tx, c.Tenant.ID, f.ID, nc, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionChildAdded, ObjectKind: "child",
			ObjectID: ch.ID.String(), ChildIDs: []uuid.UUID{ch.ID}})
	})
	return ch, database.Classify(err)
}

// UpdateChild changes a child of the caller's family.
func (s *Service) UpdateChild(ctx context.Context, c auth.Caller, id uuid.UUID, in ChildInput) (*Child, error) {
	me, err := parentOf(c)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out *Child
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		f, err := OfAccount(ctx, tx, c.Tenant, me, true)
		if err != nil {
			return err
		}
		if f == nil {
			return ErrNotFound
		}
		ch, err := ChildOf(ctx, tx, c.Tenant.ID, f.ID, id)
		if err != nil {
			return err
		}
		nc, err := CheckChild(in, date.In(now))
		if err != nil {
			return err
		}
		if nc.Expected != nil && ch.BirthDate != nil {
			return apperr.Invalid("expected_birth_date", "birth_date_or_expected", nil)
		}
		if err := updateChild(ctx, tx, c.Tenant.ID, ch, nc, now); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionChildChanged, ObjectKind: "child",
			ObjectID: ch.ID.String(), ChildIDs: []uuid.UUID{ch.ID}}); err != nil {
			return err
		}
		out, err = ChildOf(ctx, tx, c.Tenant.ID, f.ID, id)
		return err
	})
	return out, database.Classify(err)
}

// InviteGuardian mails the second guardian a linking code: with an account of their own
// in this city they join the family and see its requests.
func (s *Service) InviteGuardian(ctx context.Context, c auth.Caller, email string) error {
	me, err := parentOf(c)
	if err != nil {
		return err
	}
	addr, err := auth.Email("email", email)
	if err != nil {
		return err
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitResetEmail, auth.EmailKey(addr)); err != nil {
		return err
	}
	now := s.clock.Now()
	return database.Classify(database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		f, err := requireFamily(ctx, tx, c, me)
		if err != nil {
			return err
		}
		linked := 0
		for _, g := range f.Guardians {
			if g.AccountID != nil {
				linked++
			}
		}
		if linked >= MaxGuardians {
			return apperr.Invalid("email", "guardians_too_many", map[string]any{"max": MaxGuardians})
		}
		code, err := NewLinkCode(ctx, tx, c.Tenant.ID, f.ID, "guardian_invite", addr, nil, now.Add(LinkCodeTTL))
		if err != nil {
			return err
		}
		lang := c.Principal.Language
		m := s.mails
		n := notify.Notice{
			Subject: m.TranslateArgs(lang, "mail.guardian_invite.subject", map[string]any{"portal": c.Tenant.Rules.Branding.DisplayName}),
			Name:    m.Translate(lang, "mail.guardian_invite.name"),
			Lines: []string{m.TranslateArgs(lang, "mail.guardian_invite.text", map[string]any{"inviter": c.Principal.Name()}),
				m.TranslateArgs(lang, "mail.link_code.text", map[string]any{"code": code})},
			URL:    s.links.URL(c.Tenant, "/family/link"),
			Action: m.Translate(lang, "mail.link_code.button"),
		}
		if err := m.Queue(ctx, tx, c.Tenant.ID, notify.Mail{Kind: "guardian_invitation", Template: "notice", Lang: lang, To: addr,
			Brand: s.links.Brand(c.Tenant), Data: n}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionGuardianInvite, ObjectKind: "family", ObjectID: f.ID.String()})
	}))
}

// Link uses a linking code: a walk-in family is taken over by the caller (who must not
// manage another family with children yet), an invitation adds the caller as guardian.
func (s *Service) Link(ctx context.Context, c auth.Caller, code string) (*Family, error) {
	me, err := parentOf(c)
	if err != nil {
		return nil, err
	}
	if err := s.limiter.Allow(ctx, c.Scope(), LimitLink, me.String()); err != nil {
		return nil, err
	}
	norm := NormaliseCode(code)
	if len(norm) != 12 {
		return nil, apperr.Invalid("code", "link_code_invalid", nil)
	}
	now := s.clock.Now()
	var out *Family
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var link struct {
			ID       uuid.UUID `bun:"id"`
			FamilyID uuid.UUID `bun:"family_id"`
			Purpose  string    `bun:"purpose"`
		}
		err := tx.NewRaw(`SELECT id, family_id, purpose FROM family_link WHERE tenant_id = ? AND code_hash = ?
			AND used_at IS NULL AND expires_at > ? FOR UPDATE`, c.Tenant.ID, auth.HashToken(norm), now).Scan(ctx, &link)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.Invalid("code", "link_code_invalid", nil)
		}
		if err != nil {
			return err
		}
		own, err := OfAccount(ctx, tx, c.Tenant, me, true)
		if err != nil {
			return err
		}
		if own != nil && own.ID == link.FamilyID {
			return apperr.Conflict("already_linked")
		}
		if own != nil {
			if len(own.Children) > 0 {
				return apperr.Conflict("account_has_family")
			}
			// An empty family of the caller's (only an address) gives way.
			if _, err := tx.ExecContext(ctx, `DELETE FROM family WHERE tenant_id = ? AND id = ?`, c.Tenant.ID, own.ID); err != nil {
				return err
			}
		}
		if err := s.attach(ctx, tx, c, link.FamilyID, link.Purpose, me); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE family_link SET used_at = ?, used_by = ? WHERE tenant_id = ? AND id = ?`,
			now, me, c.Tenant.ID, link.ID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionFamilyLinked, ObjectKind: "family",
			ObjectID: link.FamilyID.String(), Details: map[string]any{"purpose": link.Purpose}}); err != nil {
			return err
		}
		out, err = Load(ctx, tx, c.Tenant, link.FamilyID)
		return err
	})
	return out, database.Classify(err)
}

// attach makes the caller a guardian of family: a walk-in family's first guardian
// without an account becomes the caller; otherwise the caller is added.
func (s *Service) attach(ctx context.Context, tx bun.IDB, c auth.Caller, familyID uuid.UUID, purpose string, me uuid.UUID) error {
	if purpose == "walk_in" {
		res, err := tx.ExecContext(ctx, `UPDATE guardian SET user_id = ? WHERE tenant_id = ? AND id = (
			SELECT id FROM guardian WHERE tenant_id = ? AND family_id = ? AND user_id IS NULL ORDER BY created_at, id LIMIT 1)`,
			me, c.Tenant.ID, c.Tenant.ID, familyID)
		if err != nil {
			return fmt.Errorf("take over family: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
	}
	var linked int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM guardian WHERE tenant_id = ? AND family_id = ? AND user_id IS NOT NULL`,
		c.Tenant.ID, familyID).Scan(&linked); err != nil {
		return err
	}
	if linked >= MaxGuardians {
		return apperr.Conflict("guardians_too_many")
	}
	// An entered second guardian without account becomes the caller.
	res, err := tx.ExecContext(ctx, `UPDATE guardian SET user_id = ? WHERE tenant_id = ? AND id = (
		SELECT id FROM guardian WHERE tenant_id = ? AND family_id = ? AND user_id IS NULL ORDER BY created_at, id LIMIT 1)`,
		me, c.Tenant.ID, c.Tenant.ID, familyID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	return insertGuardian(ctx, tx, c.Tenant.ID, familyID, GuardianInput{FirstName: nonEmpty(c.Principal.FirstName, "-"),
		LastName: nonEmpty(c.Principal.LastName, "-"), Email: c.Principal.Email}, &me)
}

func nonEmpty(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
