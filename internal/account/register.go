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

// Registration is what a parent enters to register.
type Registration struct {
	Email     string
	Password  string
	FirstName string
	LastName  string
	Language  string
}

// validate normalises the input and collects every problem at once.
func (r *Registration) validate(c auth.Caller) error {
	var errs apperr.List
	add := func(err error) {
		if e, ok := apperr.As(err); ok {
			errs = append(errs, e)
		}
	}
	var err error
	if r.FirstName, err = auth.Name("first_name", r.FirstName, true); err != nil {
		add(err)
	}
	if r.LastName, err = auth.Name("last_name", r.LastName, true); err != nil {
		add(err)
	}
	if r.Email, err = auth.Email("email", r.Email); err != nil {
		add(err)
	}
	if err := auth.CheckPassword("password", r.Password, r.Email, r.FirstName, r.LastName); err != nil {
		add(err)
	}
	if r.Language == "" {
		r.Language = c.Lang
	}
	if !c.Tenant.Rules.SupportsLanguage(r.Language) {
		errs = append(errs, apperr.Invalid("language", "language_unsupported", nil))
	}
	return errs.Err()
}

// Register starts a parent account. Whatever the address, the visible outcome is the
// same — "we sent you a mail" — and takes about as long (the password is hashed in every
// case). A new address gets a verification link; an address with an account gets a
// note that it has one; a registration that was never confirmed gets a fresh link.
//
// The chosen password travels with the verification token, not with the account: only
// who can read the mailbox decides which registration becomes the account, so nobody can
// pre-register someone else's address with a password of their own.
func (s *Service) Register(ctx context.Context, c auth.Caller, r Registration) error {
	if err := r.validate(c); err != nil {
		return err
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitRegisterAddr, c.AddrKey()); err != nil {
		return err
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitRegisterEmail, auth.EmailKey(r.Email)); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, r.Password)
	if err != nil {
		return err
	}
	t := c.Tenant
	now := s.clock.Now()
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := ByEmail(ctx, tx, t.ID, KindParent, r.Email, true)
		if err != nil {
			return err
		}
		switch {
		case a == nil:
			id := uuid.Must(uuid.NewV7())
			// ON CONFLICT: a parallel registration of the same address won the race; this
			// one simply adds its own link below.
			if _, err := tx.ExecContext(ctx, `INSERT INTO account (tenant_id, id, kind, email, status, language, created_at, updated_at)
				VALUES (?, ?, 'parent', ?, 'pending', ?, ?, ?) ON CONFLICT (tenant_id, kind, email) DO NOTHING`,
				t.ID, id, r.Email, r.Language, now, now); err != nil {
				return fmt.Errorf("insert account: %w", err)
			}
			if a, err = ByEmail(ctx, tx, t.ID, KindParent, r.Email, true); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionRegistered, ObjectKind: "account", ObjectID: a.ID.String()}); err != nil {
				return err
			}
			fallthrough
		case a.Status == StatusPending:
			token, err := IssueToken(ctx, tx, t.ID, a.ID, PurposeVerify, map[string]any{
				"password_hash": hash, "first_name": r.FirstName, "last_name": r.LastName, "language": r.Language,
			}, now.Add(VerifyTTL))
			if err != nil {
				return err
			}
			return s.mails.Queue(ctx, tx, t.ID, notify.Mail{Kind: "account_verification", Lang: r.Language, To: r.Email, Brand: s.links.Brand(t),
				Data: notify.MailData{Name: r.FirstName + " " + r.LastName, URL: s.links.URL(t, "/verify?token="+token), Hours: int(VerifyTTL.Hours())}})
		case a.Status == StatusActive:
			return s.mails.Queue(ctx, tx, t.ID, notify.Mail{Kind: "account_exists", Lang: a.Language, To: a.Email, Brand: s.links.Brand(t),
				Data: notify.MailData{Name: a.Name(), URL: s.links.URL(t, "/password/forgot")}})
		}
		return nil // disabled: no mail, same answer
	})
}

// Verify confirms an address with the token of the verification link and activates the
// account with the password and names of that registration. It does not sign in: whoever
// opens a link learns nothing and gains nothing but a confirmed address.
func (s *Service) Verify(ctx context.Context, c auth.Caller, token string) error {
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitTokenAddr, c.AddrKey()); err != nil {
		return err
	}
	t := c.Tenant
	now := s.clock.Now()
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		tok, err := UseToken(ctx, tx, t.ID, PurposeVerify, token, now)
		if err != nil {
			return err
		}
		a, err := ByID(ctx, tx, t.ID, tok.AccountID, true)
		if err != nil {
			return err
		}
		if a.Status != StatusPending {
			return ErrTokenInvalid
		}
		str := func(k string) string { v, _ := tok.Payload[k].(string); return v }
		if str("password_hash") == "" {
			return ErrTokenInvalid
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account SET status = 'active', password_hash = ?, first_name = ?, last_name = ?,
			language = ?, email_verified_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			str("password_hash"), str("first_name"), str("last_name"), language(t, str("language")), now, now, t.ID, a.ID); err != nil {
			return fmt.Errorf("activate account: %w", err)
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionVerified, ObjectKind: "account", ObjectID: a.ID.String()})
	})
}
