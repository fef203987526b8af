package account

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

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

// Deletion says what deleting an account did.
type Deletion struct {
	FamiliesDeleted int
	FamiliesKept    int // with contracts: kept as the law requires, contact data removed
}

// Delete removes a parent account (DSGVO Art. 17) after checking the password:
//   - families without any contract are deleted with their children, requests and offers;
//   - families with a contract are kept as far as the law requires (contract and the
//     names of the parties), with the account's e-mail and phone removed from them;
//   - the account becomes an anonymous tombstone (no name, address or password), so the
//     audit log keeps pointing at "a deleted account" and the address is free again;
//   - every session and token ends; a last mail confirms the deletion and says what was kept.
func (s *Service) Delete(ctx context.Context, c auth.Caller, password string) (Deletion, error) {
	var out Deletion
	a, err := s.current(ctx, c)
	if err != nil {
		return out, err
	}
	if a.Kind != KindParent {
		return out, apperr.Forbidden("forbidden")
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitPasswordChange, a.ID.String()); err != nil {
		return out, err
	}
	ok, _, err := s.hasher.Verify(ctx, password, a.PasswordHash)
	if err != nil {
		return out, err
	}
	if !ok {
		return out, apperr.Invalid("current_password", "password_wrong", nil)
	}
	t := c.Tenant
	now := s.clock.Now()
	err = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var families []struct {
			ID        uuid.UUID `bun:"id"`
			Contracts int       `bun:"contracts"`
			Others    int       `bun:"others"` // other guardians with an account of their own
		}
		if err := tx.NewRaw(`
			SELECT f.id, (SELECT count(*) FROM contract k JOIN child ch ON ch.tenant_id = k.tenant_id AND ch.id = k.child_id
			              WHERE ch.tenant_id = f.tenant_id AND ch.family_id = f.id AND k.status <> 'cancelled') AS contracts,
			       (SELECT count(*) FROM guardian o WHERE o.tenant_id = f.tenant_id AND o.family_id = f.id
			              AND o.user_id IS NOT NULL AND o.user_id <> ?1) AS others
			FROM family f WHERE f.tenant_id = ?0 AND EXISTS (
			  SELECT 1 FROM guardian g WHERE g.tenant_id = f.tenant_id AND g.family_id = f.id AND g.user_id = ?1)
			FOR UPDATE OF f`, t.ID, a.ID).Scan(ctx, &families); err != nil {
			return fmt.Errorf("find families: %w", err)
		}
		var drop []uuid.UUID
		for _, f := range families {
			// A family another guardian still manages stays theirs; this account only
			// leaves it (its guardian row is unlinked below).
			if f.Contracts > 0 || f.Others > 0 {
				out.FamiliesKept++
			} else {
				drop = append(drop, f.ID)
			}
		}
		out.FamiliesDeleted = len(drop)
		if err := deleteFamilies(ctx, tx, t.ID, drop); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE guardian SET user_id = NULL, email = NULL, phone = NULL, updated_at = ?
			WHERE tenant_id = ? AND user_id = ?`, now, t.ID, a.ID); err != nil {
			return fmt.Errorf("unlink guardians: %w", err)
		}
		if err := s.sessions.EndAll(ctx, tx, t.ID, a.ID, uuid.Nil); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM account_token WHERE tenant_id = ? AND account_id = ?`, t.ID, a.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account SET status = 'deleted', email = ?, first_name = '', last_name = '',
			password_hash = NULL, totp_secret = NULL, totp_enabled_at = NULL, email_verified_at = NULL, updated_at = ?, deleted_at = ?
			WHERE tenant_id = ? AND id = ?`, "deleted-"+a.ID.String()+"@deleted.invalid", now, now, t.ID, a.ID); err != nil {
			return fmt.Errorf("anonymise account: %w", err)
		}
		if err := audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionAccountDeleted, ObjectKind: "account", ObjectID: a.ID.String(),
			Details: map[string]any{"families_deleted": out.FamiliesDeleted, "families_kept": out.FamiliesKept}}); err != nil {
			return err
		}
		return s.mails.Queue(ctx, tx, t.ID, notify.Mail{Kind: "account_deleted", Lang: a.Language, To: a.Email, Brand: s.links.Brand(t),
			Data: notify.MailData{Name: a.Name(), Kept: out.FamiliesKept > 0}})
	})
	return out, err
}

// deleteFamilies removes families that have no contract, with everything hanging off
// them, children last (foreign keys point at them).
func deleteFamilies(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	fam := pgdialect.Array(ids)
	for _, q := range []string{
		`DELETE FROM offer WHERE tenant_id = ?0 AND child_id IN (SELECT id FROM child WHERE tenant_id = ?0 AND family_id = ANY(?1))`,
		`DELETE FROM application WHERE tenant_id = ?0 AND child_id IN (SELECT id FROM child WHERE tenant_id = ?0 AND family_id = ANY(?1))`,
		`DELETE FROM child WHERE tenant_id = ?0 AND family_id = ANY(?1)`,
		`DELETE FROM family WHERE tenant_id = ?0 AND id = ANY(?1)`, // guardians go with it (ON DELETE CASCADE)
	} {
		if _, err := tx.ExecContext(ctx, q, tenantID, fam); err != nil {
			return fmt.Errorf("delete families: %w", err)
		}
	}
	return nil
}
