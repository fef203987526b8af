// Package account is the parents' accounts of a city and the sign-in core staff accounts
// share: registration with e-mail verification, sign-in and sign-out, password reset,
// changes of e-mail address, password and profile, and the account's part of its deletion
// (DSGVO; internal/privacy erases the family's data around it). An account belongs to one
// tenant: the same e-mail in two cities is two accounts.
//
// Messages never tell whether an address has an account: registration, sign-in and reset
// answer alike (and take about as long) for known and unknown addresses.
package account

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/tenant"
)

// Account kinds.
const (
	KindParent = "parent"
	KindStaff  = "staff"
)

// Account statuses.
const (
	StatusPending  = "pending"
	StatusActive   = "active"
	StatusDisabled = "disabled"
	StatusDeleted  = "deleted"
)

// Token purposes and how long their links work.
const (
	PurposeVerify      = "verify_email"
	PurposeReset       = "reset_password"
	PurposeChangeEmail = "change_email"
	PurposeInvitation  = "invitation"
)

// Lifetimes of the mailed links.
var (
	VerifyTTL      = 48 * time.Hour
	ResetTTL       = time.Hour
	ChangeEmailTTL = 24 * time.Hour
	InvitationTTL  = 7 * 24 * time.Hour
)

// Account is one row of the account table.
type Account struct {
	TenantID        uuid.UUID  `bun:"tenant_id"`
	ID              uuid.UUID  `bun:"id"`
	Kind            string     `bun:"kind"`
	Email           string     `bun:"email"`
	Status          string     `bun:"status"`
	PasswordHash    string     `bun:"password_hash,nullzero"`
	FirstName       string     `bun:"first_name"`
	LastName        string     `bun:"last_name"`
	Language        string     `bun:"language"`
	EmailVerifiedAt *time.Time `bun:"email_verified_at"`
	TOTPSecret      []byte     `bun:"totp_secret"`
	TOTPEnabledAt   *time.Time `bun:"totp_enabled_at"`
	TOTPLastStep    int64      `bun:"totp_last_step"`
	LastLoginAt     *time.Time `bun:"last_login_at"`
	CreatedAt       time.Time  `bun:"created_at"`
}

// Name is the account holder's full name (or the address while there is none).
func (a *Account) Name() string {
	if a.FirstName == "" && a.LastName == "" {
		return a.Email
	}
	return a.FirstName + " " + a.LastName
}

const accountColumns = `tenant_id, id, kind, email, status, password_hash, first_name, last_name, language,
	email_verified_at, totp_secret, totp_enabled_at, totp_last_step, last_login_at, created_at`

// ErrNotFound is the answer for unknown account ids (including other tenants').
var ErrNotFound = apperr.NotFound("not_found")

// ByEmail reads the account of kind with email in tx (locked when lock), or nil.
func ByEmail(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, kind, email string, lock bool) (*Account, error) {
	q := `SELECT ` + accountColumns + ` FROM account WHERE tenant_id = ? AND kind = ? AND email = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var a Account
	err := tx.NewRaw(q, tenantID, kind, email).Scan(ctx, &a)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read account: %w", err)
	}
	return &a, nil
}

// ByID reads an account in tx (locked when lock); ErrNotFound when there is none.
func ByID(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, lock bool) (*Account, error) {
	q := `SELECT ` + accountColumns + ` FROM account WHERE tenant_id = ? AND id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var a Account
	err := tx.NewRaw(q, tenantID, id).Scan(ctx, &a)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read account: %w", err)
	}
	return &a, nil
}

// Token is a single-use token read back from its hash.
type Token struct {
	ID        uuid.UUID      `bun:"id"`
	AccountID uuid.UUID      `bun:"account_id"`
	Purpose   string         `bun:"purpose"`
	Payload   map[string]any `bun:"payload,type:jsonb"`
	ExpiresAt time.Time      `bun:"expires_at"`
	UsedAt    *time.Time     `bun:"used_at"`
}

// ErrTokenInvalid is the one answer for a link that is unknown, used, expired, of another
// purpose or of another city: which of these it was is nobody's business.
var ErrTokenInvalid = apperr.Invalid("token", "token_invalid", nil)

// IssueToken records a single-use token for account and returns its secret for the link.
func IssueToken(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, purpose string, payload map[string]any, expires time.Time) (string, error) {
	raw, hash := auth.NewToken()
	if payload == nil {
		payload = map[string]any{}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO account_token (tenant_id, id, account_id, purpose, token_hash, payload, expires_at)
		VALUES (?, ?, ?, ?, ?, ?::jsonb, ?)`, tenantID, uuid.Must(uuid.NewV7()), accountID, purpose, hash, string(body), expires)
	if err != nil {
		return "", fmt.Errorf("issue %s token: %w", purpose, err)
	}
	return raw, nil
}

// UseToken finds a live token of purpose by its secret, locks it and marks it used (and
// every other open token of the same account and purpose, so older links die with it);
// what the tokens carried (a pending password hash, an address) is dropped with them.
// Any problem is ErrTokenInvalid.
func UseToken(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, purpose, raw string, now time.Time) (*Token, error) {
	t, err := PeekToken(ctx, tx, tenantID, purpose, raw, now, true)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE account_token SET used_at = ?, payload = '{}' WHERE tenant_id = ? AND account_id = ? AND purpose = ? AND used_at IS NULL`,
		now, tenantID, t.AccountID, purpose); err != nil {
		return nil, fmt.Errorf("use token: %w", err)
	}
	return t, nil
}

// PeekToken finds a live token without using it (to show the form behind a link).
func PeekToken(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, purpose, raw string, now time.Time, lock bool) (*Token, error) {
	if raw == "" || len(raw) > 100 {
		return nil, ErrTokenInvalid
	}
	q := `SELECT id, account_id, purpose, payload, expires_at, used_at FROM account_token
		WHERE tenant_id = ? AND token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var t Token
	err := tx.NewRaw(q, tenantID, auth.HashToken(raw), purpose, now).Scan(ctx, &t)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	return &t, nil
}

// FavouritesImporter carries the facilities a visitor marked before signing in (the
// search's "merkliste" cookie) into the account, inside the sign-in transaction. The
// search feature provides it; while it is nil the import is skipped.
type FavouritesImporter func(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, facilityIDs []uuid.UUID) error

// Service runs the account flows.
type Service struct {
	db       bun.IDB
	hasher   *auth.Hasher
	sessions *auth.Sessions
	limiter  *auth.Limiter
	mails    *notify.Templates
	clock    clock.Clock
	links    *notify.Links

	// Favourites is called at every successful parent sign-in with the facilities of the
	// "merkliste" cookie (the server sets it to favourite.Import).
	Favourites FavouritesImporter

	oidcOnce sync.Once   // oidc.go
	oidc     *oidcClient // discovered OpenID Connect providers
}

// Deps are what the service needs.
type Deps struct {
	DB       bun.IDB
	Hasher   *auth.Hasher
	Sessions *auth.Sessions
	Limiter  *auth.Limiter
	Mails    *notify.Templates
	Clock    clock.Clock
	Links    *notify.Links
}

// NewService returns the account service.
func NewService(d Deps) *Service {
	return &Service{db: d.DB, hasher: d.Hasher, sessions: d.Sessions, limiter: d.Limiter, mails: d.Mails,
		clock: d.Clock, links: d.Links}
}

// ActorOf is the audit actor for an action on account a itself (sign-in, reset,
// address change) by the caller, who may not be signed in yet: the account is named,
// staff by e-mail, parents by id only.
func ActorOf(c auth.Caller, a *Account) audit.Actor {
	actor := audit.By(c)
	actor.Kind, actor.ID, actor.Label = a.Kind, a.ID, staffLabel(a)
	return actor
}

func staffLabel(a *Account) string {
	if a.Kind == KindStaff {
		return a.Email
	}
	return ""
}

// language picks what the tenant offers: lang if it can, else German.
func language(t *tenant.Tenant, lang string) string {
	if t.Rules.SupportsLanguage(lang) {
		return lang
	}
	return "de"
}
