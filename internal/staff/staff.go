// Package staff is the staff accounts of a city: sign-in with a mandatory second factor
// (TOTP with QR enrolment and recovery codes), invitations by tenant admins, roles with
// their object scope, and the start page of the staff area. What staff see of children
// is in childfile, the audit log's page in audit.
package staff

import (
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
)

// Service runs the staff flows.
type Service struct {
	db       bun.IDB
	accounts *account.Service
	authz    *authz.Enforcer
	keys     *auth.Keys
	hasher   *auth.Hasher
	sessions *auth.Sessions
	limiter  *auth.Limiter
	mails    *notify.Templates
	links    *notify.Links
	clock    clock.Clock
}

// Deps are what the staff service needs: the account service signs staff in.
type Deps struct {
	DB       bun.IDB
	Accounts *account.Service
	Authz    *authz.Enforcer
	Keys     *auth.Keys
	Hasher   *auth.Hasher
	Sessions *auth.Sessions
	Limiter  *auth.Limiter
	Mails    *notify.Templates
	Links    *notify.Links
	Clock    clock.Clock
}

// NewService returns the staff service.
func NewService(d Deps) *Service {
	return &Service{db: d.DB, accounts: d.Accounts, authz: d.Authz, keys: d.Keys, hasher: d.Hasher, sessions: d.Sessions,
		limiter: d.Limiter, mails: d.Mails, links: d.Links, clock: d.Clock}
}

// Login checks a staff member's password and opens a session that still needs the second
// factor.
func (s *Service) Login(ctx context.Context, c auth.Caller, email, password string) (*account.Session, error) {
	a, err := s.accounts.Authenticate(ctx, c, account.KindStaff, email, password)
	if err != nil {
		return nil, err
	}
	return s.accounts.StartSession(ctx, c, a, false, false, nil)
}

// APILogin signs a staff member in to the API in one step: password and a current TOTP
// code (or a recovery code). Only enrolled accounts can use the API.
func (s *Service) APILogin(ctx context.Context, c auth.Caller, email, password, code string) (*account.Session, error) {
	a, err := s.accounts.Authenticate(ctx, c, account.KindStaff, email, password)
	if err != nil {
		return nil, err
	}
	if a.TOTPEnabledAt == nil {
		return nil, apperr.Invalid("code", "mfa_not_enrolled", nil)
	}
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return s.checkSecondFactor(ctx, tx, c, a, code)
	})
	if err != nil {
		return nil, err
	}
	return s.accounts.StartSession(ctx, c, a, true, true, nil)
}

// Enrolment is what the enrolment page shows: the secret as QR code and as text.
type Enrolment struct {
	Secret string       // base32 in groups, for typing
	URI    string       // otpauth:// for the app
	QR     template.URL // data: URL of the PNG, rendered here (no third party sees the secret)
}

// SealContext binds a staff account's sealed TOTP secret to the account.
func SealContext(tenantID, accountID uuid.UUID) string {
	return "totp:" + tenantID.String() + ":" + accountID.String()
}

func sealContext(a *account.Account) string { return SealContext(a.TenantID, a.ID) }

// me reads the caller's staff account (locked in tx).
func me(ctx context.Context, tx bun.IDB, c auth.Caller) (*account.Account, error) {
	p := c.Principal
	if p == nil || p.Kind != auth.KindStaff {
		return nil, apperr.Forbidden("forbidden")
	}
	a, err := account.ByID(ctx, tx, c.Tenant.ID, p.ID, true)
	if err != nil {
		return nil, err
	}
	if a.Status != account.StatusActive {
		return nil, apperr.New(apperr.KindUnauthenticated, "unauthenticated")
	}
	return a, nil
}

// unenrolled reads the caller's account, which must not have a second factor yet.
func unenrolled(ctx context.Context, tx bun.IDB, c auth.Caller) (*account.Account, error) {
	a, err := me(ctx, tx, c)
	if err == nil && a.TOTPEnabledAt != nil {
		return nil, apperr.Conflict("mfa_already_enrolled")
	}
	return a, err
}

// Enrolled tells whether the caller has a confirmed second factor.
func (s *Service) Enrolled(ctx context.Context, c auth.Caller) (bool, error) {
	var enrolled bool
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := me(ctx, tx, c)
		if err == nil {
			enrolled = a.TOTPEnabledAt != nil
		}
		return err
	})
	return enrolled, err
}

// BeginEnrolment creates (or shows again) the caller's unconfirmed TOTP secret.
func (s *Service) BeginEnrolment(ctx context.Context, c auth.Caller) (*Enrolment, error) {
	var secret []byte
	var email string
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := unenrolled(ctx, tx, c)
		if err != nil {
			return err
		}
		email = a.Email
		if a.TOTPSecret != nil {
			if secret, err = s.keys.Open(a.TOTPSecret, sealContext(a)); err == nil {
				return nil
			}
		}
		secret = auth.NewTOTPSecret()
		return account.SetTOTPSecret(ctx, tx, a.TenantID, a.ID, s.keys.Seal(secret, sealContext(a)))
	})
	if err != nil {
		return nil, err
	}
	uri := auth.TOTPURI(c.Tenant.Rules.Branding.DisplayName, email, secret)
	png, err := auth.QRCodePNG(uri)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return &Enrolment{Secret: auth.EncodeTOTPSecret(secret), URI: uri, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}, nil
}

// RecoveryCodeCount is how many recovery codes an enrolment hands out.
const RecoveryCodeCount = 10

// ConfirmEnrolment checks the first code from the app, switches the second factor on,
// hands out fresh recovery codes (shown once) and completes the session.
func (s *Service) ConfirmEnrolment(ctx context.Context, c auth.Caller, code string) (*account.Session, []string, error) {
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitSecondFactor, c.Principal.ID.String()); err != nil {
		return nil, nil, err
	}
	var sess *account.Session
	var codes []string
	now := s.clock.Now()
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := unenrolled(ctx, tx, c)
		if err != nil {
			return err
		}
		if a.TOTPSecret == nil {
			return apperr.Invalid("code", "mfa_code_wrong", nil)
		}
		secret, err := s.keys.Open(a.TOTPSecret, sealContext(a))
		if err != nil {
			return fmt.Errorf("open totp secret: %w", err)
		}
		step, ok := auth.VerifyTOTP(secret, code, now, a.TOTPLastStep)
		if !ok {
			return apperr.Invalid("code", "mfa_code_wrong", nil)
		}
		if err := account.EnableTOTP(ctx, tx, a.TenantID, a.ID, now, step); err != nil {
			return err
		}
		if codes, err = replaceRecoveryCodes(ctx, tx, a); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, a.TenantID, audit.By(c), audit.Event{Action: audit.ActionMFAEnrolled, ObjectKind: "account", ObjectID: a.ID.String()}); err != nil {
			return err
		}
		sess, err = s.accounts.PromoteSession(ctx, tx, c, a, "totp")
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sess, codes, nil
}

func replaceRecoveryCodes(ctx context.Context, tx bun.IDB, a *account.Account) ([]string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_code WHERE tenant_id = ? AND account_id = ?`, a.TenantID, a.ID); err != nil {
		return nil, err
	}
	codes, hashes := auth.NewRecoveryCodes(RecoveryCodeCount)
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_code (tenant_id, account_id, code_hash) VALUES (?, ?, ?)`, a.TenantID, a.ID, h); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// SecondFactor completes a sign-in with a TOTP code or a recovery code.
func (s *Service) SecondFactor(ctx context.Context, c auth.Caller, code string) (*account.Session, error) {
	var sess *account.Session
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := me(ctx, tx, c)
		if err != nil {
			return err
		}
		if a.TOTPEnabledAt == nil {
			return apperr.Invalid("code", "mfa_not_enrolled", nil)
		}
		if err := s.checkSecondFactor(ctx, tx, c, a, code); err != nil {
			return err
		}
		method := "totp"
		if isRecoveryCode(code) {
			method = "recovery_code"
		}
		sess, err = s.accounts.PromoteSession(ctx, tx, c, a, method)
		return err
	})
	if e, ok := apperr.As(err); ok && e.Code == "mfa_code_wrong" {
		// The failed attempt is recorded in its own transaction: the one above rolled back.
		_ = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
			return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: audit.ActionMFAFailed, ObjectKind: "account", ObjectID: c.Principal.ID.String()})
		})
	}
	return sess, err
}

// isRecoveryCode tells a recovery code (xxxxx-xxxxx) from a six-digit TOTP code.
func isRecoveryCode(code string) bool {
	c := strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(c) != 6 {
		return true
	}
	for _, r := range c {
		if r < '0' || r > '9' {
			return true
		}
	}
	return false
}

// checkSecondFactor verifies a TOTP code (once per time step) or uses up a recovery code.
func (s *Service) checkSecondFactor(ctx context.Context, tx bun.IDB, c auth.Caller, a *account.Account, code string) error {
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitSecondFactor, a.ID.String()); err != nil {
		return err
	}
	if len(code) > 40 {
		return apperr.Invalid("code", "mfa_code_wrong", nil)
	}
	now := s.clock.Now()
	if isRecoveryCode(code) {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_code SET used_at = ? WHERE tenant_id = ? AND account_id = ? AND code_hash = ? AND used_at IS NULL`,
			now, a.TenantID, a.ID, auth.HashRecoveryCode(code))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.Invalid("code", "mfa_code_wrong", nil)
		}
		return audit.Record(ctx, tx, a.TenantID, audit.By(c), audit.Event{Action: audit.ActionRecoveryCodeUsed, ObjectKind: "account", ObjectID: a.ID.String()})
	}
	secret, err := s.keys.Open(a.TOTPSecret, sealContext(a))
	if err != nil {
		return fmt.Errorf("open totp secret: %w", err)
	}
	step, ok := auth.VerifyTOTP(secret, code, now, a.TOTPLastStep)
	if !ok {
		return apperr.Invalid("code", "mfa_code_wrong", nil)
	}
	return account.UseTOTPStep(ctx, tx, a.TenantID, a.ID, step)
}

// RemainingRecoveryCodes counts the caller's unused recovery codes.
func (s *Service) RemainingRecoveryCodes(ctx context.Context, c auth.Caller) (int, error) {
	var n int
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM recovery_code WHERE tenant_id = ? AND account_id = ? AND used_at IS NULL`,
			c.Tenant.ID, c.Principal.ID).Scan(&n)
	})
	return n, err
}

// NewRecoveryCodes replaces the caller's recovery codes (after checking a TOTP code).
func (s *Service) NewRecoveryCodes(ctx context.Context, c auth.Caller, code string) ([]string, error) {
	var codes []string
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := me(ctx, tx, c)
		if err != nil {
			return err
		}
		if isRecoveryCode(code) {
			return apperr.Invalid("code", "mfa_code_wrong", nil)
		}
		if err := s.checkSecondFactor(ctx, tx, c, a, code); err != nil {
			return err
		}
		codes, err = replaceRecoveryCodes(ctx, tx, a)
		return err
	})
	return codes, err
}
