package account

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/tenant"
)

// The account's part of deleting a parent account (DSGVO Art. 17); privacy erases the
// family's data around it.

// ConfirmDeletion returns the signed-in parent's account when password is theirs: the
// password is asked again before an account is deleted.
func (s *Service) ConfirmDeletion(ctx context.Context, c auth.Caller, password string) (*Account, error) {
	a, err := s.current(ctx, c)
	if err != nil {
		return nil, err
	}
	if a.Kind != KindParent {
		return nil, apperr.Forbidden("forbidden")
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitPasswordChange, a.ID.String()); err != nil {
		return nil, err
	}
	if a.PasswordHash == "" {
		// Signed in only through the city's identity provider: no password to ask for,
		// so the parent confirms with the account's e-mail address instead.
		if !strings.EqualFold(strings.TrimSpace(password), a.Email) {
			return nil, apperr.Invalid("current_password", "delete_confirm_email", nil)
		}
		return a, nil
	}
	ok, _, err := s.hasher.Verify(ctx, password, a.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.Invalid("current_password", "password_wrong", nil)
	}
	return a, nil
}

// HasPassword tells whether the caller's account signs in with a password (not only
// through the city's identity provider).
func (s *Service) HasPassword(ctx context.Context, c auth.Caller) (bool, error) {
	a, err := s.current(ctx, c)
	if err != nil {
		return false, err
	}
	return a.PasswordHash != "", nil
}

// Tombstone ends every session and token of account a and leaves an anonymous
// tombstone (no name, address or password), so the audit log keeps pointing at "a
// deleted account" and the address is free again.
func (s *Service) Tombstone(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, a *Account, now time.Time) error {
	if err := s.sessions.EndAll(ctx, tx, tenantID, a.ID, uuid.Nil); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_token WHERE tenant_id = ? AND account_id = ?`, tenantID, a.ID); err != nil {
		return err
	}
	// The provider identities go too: the same person may sign in afresh later.
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_identity WHERE tenant_id = ? AND account_id = ?`, tenantID, a.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE account SET status = ?, email = ?, first_name = '', last_name = '',
		password_hash = NULL, totp_secret = NULL, totp_enabled_at = NULL, email_verified_at = NULL, updated_at = ?, deleted_at = ?
		WHERE tenant_id = ? AND id = ?`, StatusDeleted, "deleted-"+a.ID.String()+"@deleted.invalid", now, now, tenantID, a.ID); err != nil {
		return fmt.Errorf("anonymise account: %w", err)
	}
	return nil
}

// TellDeleted queues the last mail to the deleted account's old address: the deletion is
// done, and whether data was kept (kept: a family with a contract).
func (s *Service) TellDeleted(ctx context.Context, tx bun.IDB, t *tenant.Tenant, a *Account, kept bool) error {
	return s.mails.Queue(ctx, tx, t.ID, notify.Mail{Kind: "account_deleted", Lang: a.Language, To: a.Email, Brand: s.links.Brand(t),
		Data: notify.MailData{Name: a.Name(), Kept: kept}})
}
