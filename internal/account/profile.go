package account

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
)

// Me returns the signed-in caller's account.
func (s *Service) Me(ctx context.Context, c auth.Caller) (*Account, error) { return s.current(ctx, c) }

// Profile is what a parent may change directly.
type Profile struct {
	FirstName string
	LastName  string
	Language  string
}

// UpdateProfile changes name and language of the signed-in account.
func (s *Service) UpdateProfile(ctx context.Context, c auth.Caller, in Profile) (*Account, error) {
	var errs apperr.List
	var err error
	if in.FirstName, err = auth.Name("first_name", in.FirstName, true); err != nil {
		errs = append(errs, err.(*apperr.Error))
	}
	if in.LastName, err = auth.Name("last_name", in.LastName, true); err != nil {
		errs = append(errs, err.(*apperr.Error))
	}
	if !c.Tenant.Rules.SupportsLanguage(in.Language) {
		errs = append(errs, apperr.Invalid("language", "language_unsupported", nil))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	t, p := c.Tenant, c.Principal
	var a *Account
	err = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE account SET first_name = ?, last_name = ?, language = ?, updated_at = ?
			WHERE tenant_id = ? AND id = ? AND status = 'active'`, in.FirstName, in.LastName, in.Language, s.clock.Now(), t.ID, p.ID); err != nil {
			return fmt.Errorf("update profile: %w", err)
		}
		if err := audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionProfileChanged, ObjectKind: "account", ObjectID: p.ID.String()}); err != nil {
			return err
		}
		a, err = ByID(ctx, tx, t.ID, p.ID, false)
		return err
	})
	return a, err
}

// RequestEmailChange sends a confirmation link to the new address; the address changes
// only when that link is used. The password is asked again: a session left open on a
// shared computer must not be enough to take the account.
func (s *Service) RequestEmailChange(ctx context.Context, c auth.Caller, password, newEmail string) error {
	a, err := s.current(ctx, c)
	if err != nil {
		return err
	}
	if newEmail, err = auth.Email("email", newEmail); err != nil {
		return err
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitPasswordChange, a.ID.String()); err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, password, a.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Invalid("current_password", "password_wrong", nil)
	}
	if newEmail == a.Email {
		return apperr.Invalid("email", "email_unchanged", nil)
	}
	t := c.Tenant
	now := s.clock.Now()
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		token, err := IssueToken(ctx, tx, t.ID, a.ID, PurposeChangeEmail, map[string]any{"email": newEmail}, now.Add(ChangeEmailTTL))
		if err != nil {
			return err
		}
		// Whether the new address is taken is said only to its owner, after the link.
		return s.mails.Queue(ctx, tx, t.ID, notify.Mail{Kind: "email_change", Lang: a.Language, To: newEmail, Brand: s.links.Brand(t),
			Data: notify.MailData{Name: a.Name(), URL: s.links.URL(t, "/account/email/confirm?token="+token), Hours: int(ChangeEmailTTL.Hours())}})
	})
}

// ConfirmEmailChange switches the account to the new address of the link. The old
// address is told; other sessions end.
func (s *Service) ConfirmEmailChange(ctx context.Context, c auth.Caller, token string) error {
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitTokenAddr, c.AddrKey()); err != nil {
		return err
	}
	t := c.Tenant
	now := s.clock.Now()
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		tok, err := UseToken(ctx, tx, t.ID, PurposeChangeEmail, token, now)
		if err != nil {
			return err
		}
		a, err := ByID(ctx, tx, t.ID, tok.AccountID, true)
		if err != nil || a.Status != StatusActive {
			return ErrTokenInvalid
		}
		newEmail, _ := tok.Payload["email"].(string)
		if other, err := ByEmail(ctx, tx, t.ID, a.Kind, newEmail, false); err != nil {
			return err
		} else if other != nil {
			return apperr.Invalid("email", "email_taken", nil)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account SET email = ?, email_verified_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			newEmail, now, now, t.ID, a.ID); err != nil {
			if database.IsUniqueViolation(err, "") {
				return apperr.Invalid("email", "email_taken", nil)
			}
			return fmt.Errorf("change email: %w", err)
		}
		keep := uuid.Nil
		if c.Principal != nil && c.Principal.ID == a.ID {
			keep = c.Principal.SessionID
		}
		if err := s.sessions.EndAll(ctx, tx, t.ID, a.ID, keep); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, t.ID, ActorOf(c, a), audit.Event{Action: audit.ActionEmailChanged, ObjectKind: "account", ObjectID: a.ID.String()}); err != nil {
			return err
		}
		return s.mails.Queue(ctx, tx, t.ID, notify.Mail{Kind: "email_changed", Lang: a.Language, To: a.Email, Brand: s.links.Brand(t),
			Data: notify.MailData{Name: a.Name()}})
	})
}
