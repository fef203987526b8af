package operator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/staff"
	"kitaportal/internal/tenant"
)

// Console is the operators' side: sign-in on the base domain with a mandatory second
// factor, the tenants with their status, the first admin's invitation, and support
// access — the only way an operator reaches a city's data: explicit, with a reason,
// limited in time, and written to the city's audit log.
type Console struct {
	db         *bun.DB
	hasher     *auth.Hasher
	sessions   *auth.Sessions
	limiter    *auth.Limiter
	clock      clock.Clock
	staff      *staff.Service
	registry   *tenant.Registry
	keys       *auth.Keys
	tenantURL  func(string) string
	baseURL    string
	supportMax time.Duration
}

// ConsoleDeps are what the console needs. TenantURL gives a city's address, BaseURL the
// console's own.
type ConsoleDeps struct {
	DB         *bun.DB
	Hasher     *auth.Hasher
	Sessions   *auth.Sessions
	Limiter    *auth.Limiter
	Clock      clock.Clock
	Staff      *staff.Service
	Registry   *tenant.Registry
	Keys       *auth.Keys
	TenantURL  func(string) string
	BaseURL    string
	SupportMax time.Duration
}

// NewConsole returns the operator console service.
func NewConsole(d ConsoleDeps) *Console {
	return &Console{db: d.DB, hasher: d.Hasher, sessions: d.Sessions, limiter: d.Limiter, clock: d.Clock, staff: d.Staff,
		registry: d.Registry, keys: d.Keys, tenantURL: d.TenantURL, baseURL: d.BaseURL, supportMax: d.SupportMax}
}

// Operator is one row of the operator table.
type Operator struct {
	ID            uuid.UUID  `bun:"id"`
	Email         string     `bun:"email"`
	Name          string     `bun:"name"`
	Status        string     `bun:"status"`
	PasswordHash  string     `bun:"password_hash"`
	TOTPSecret    []byte     `bun:"totp_secret"`
	TOTPEnabledAt *time.Time `bun:"totp_enabled_at"`
	TOTPLastStep  int64      `bun:"totp_last_step"`
}

// Create adds an operator with an enrolled second factor (the command line's
// "operators add"); created is false when the address has one already.
func Create(ctx context.Context, db bun.IDB, keys *auth.Keys, email, name, passwordHash string, totpSecret []byte) (created bool, err error) {
	id := uuid.Must(uuid.NewV7())
	res, err := db.ExecContext(ctx, `INSERT INTO operator (id, email, name, password_hash, totp_secret, totp_enabled_at)
		VALUES (?, ?, ?, ?, ?, now()) ON CONFLICT (email) DO NOTHING`, id, email, name, passwordHash, keys.Seal(totpSecret, SealContext(id)))
	if err != nil {
		return false, fmt.Errorf("operator: create: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SealContext binds an operator's sealed TOTP secret to the operator.
func SealContext(id uuid.UUID) string { return "operator-totp:" + id.String() }

// operator reads one operator (where: "email = ?" or "id = ?"), locked inside a
// transaction when lock.
func (o *Console) operator(ctx context.Context, tx bun.IDB, where string, arg any, lock bool) (*Operator, error) {
	q := `SELECT id, email, name, status, password_hash, totp_secret, totp_enabled_at, totp_last_step FROM operator WHERE ` + where
	if lock {
		q += ` FOR UPDATE`
	}
	var op Operator
	err := tx.NewRaw(q, arg).Scan(ctx, &op)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &op, err
}

func (o *Console) record(ctx context.Context, tx bun.IDB, c auth.Caller, action string, tenantID *uuid.UUID, details map[string]any) error {
	return audit.RecordOperator(ctx, tx, audit.By(c), action, tenantID, details)
}

// Login checks an operator's password (rate limited; an unknown address costs the same
// hash) and opens a session that still needs the second factor.
func (o *Console) Login(ctx context.Context, c auth.Caller, email, password string) (string, time.Time, error) {
	email, err := auth.Email("email", email)
	if err != nil {
		return "", time.Time{}, err
	}
	limiter := o.limiter
	if err := limiter.Allow(ctx, c.Scope(), auth.LimitLoginAddr, c.AddrKey()); err != nil {
		return "", time.Time{}, err
	}
	attempt, err := limiter.BeginLogin(ctx, c.Scope(), "operator:"+auth.EmailKey(email), c.AddrKey())
	if err != nil {
		return "", time.Time{}, err
	}
	op, err := o.operator(ctx, o.db, "email = ?", email, false)
	if err != nil {
		return "", time.Time{}, err
	}
	stored := ""
	if op != nil && op.Status == "active" {
		stored = op.PasswordHash
	}
	ok, _, err := o.hasher.Verify(ctx, password, stored)
	if err != nil {
		return "", time.Time{}, err
	}
	actor := audit.By(c)
	if op != nil {
		actor.Kind, actor.ID, actor.Label = "operator", op.ID, op.Email
	}
	if !ok {
		_ = audit.RecordOperator(ctx, o.db, actor, audit.ActionLoginFailed, nil, nil)
		if err := attempt.Failed(ctx); err != nil {
			return "", time.Time{}, err
		}
		return "", time.Time{}, account.ErrLoginFailed
	}
	attempt.Succeeded(ctx)
	var token string
	err = database.InTx(ctx, o.db, func(ctx context.Context, tx bun.Tx) error {
		if p := c.Principal; p != nil {
			if err := o.sessions.EndOperator(ctx, tx, p.SessionID); err != nil {
				return err
			}
		}
		if token, _, err = o.sessions.StartOperator(ctx, tx, op.ID, false); err != nil {
			return err
		}
		return audit.RecordOperator(ctx, tx, actor, audit.ActionLogin, nil, map[string]any{"stage": "password"})
	})
	return token, o.clock.Now().Add(o.sessions.Config().MaxAge), err
}

// SecondFactor completes an operator's sign-in with a TOTP code; the session id changes.
func (o *Console) SecondFactor(ctx context.Context, c auth.Caller, code string) (string, time.Time, error) {
	p := c.Principal
	if err := o.limiter.Allow(ctx, c.Scope(), auth.LimitSecondFactor, "operator:"+p.ID.String()); err != nil {
		return "", time.Time{}, err
	}
	var token string
	now := o.clock.Now()
	err := database.InTx(ctx, o.db, func(ctx context.Context, tx bun.Tx) error {
		op, err := o.operator(ctx, tx, "id = ?", p.ID, true)
		if err != nil || op == nil {
			return apperr.New(apperr.KindUnauthenticated, "unauthenticated")
		}
		if op.TOTPEnabledAt == nil || op.TOTPSecret == nil {
			return apperr.Invalid("code", "mfa_not_enrolled", nil)
		}
		secret, err := o.keys.Open(op.TOTPSecret, SealContext(op.ID))
		if err != nil {
			return fmt.Errorf("open operator totp secret: %w", err)
		}
		step, ok := auth.VerifyTOTP(secret, code, now, op.TOTPLastStep)
		if !ok {
			return apperr.Invalid("code", "mfa_code_wrong", nil)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE operator SET totp_last_step = ?, last_login_at = ? WHERE id = ?`, step, now, op.ID); err != nil {
			return err
		}
		if err := o.sessions.EndOperator(ctx, tx, p.SessionID); err != nil {
			return err
		}
		if token, _, err = o.sessions.StartOperator(ctx, tx, op.ID, true); err != nil {
			return err
		}
		return o.record(ctx, tx, c, audit.ActionLogin, nil, map[string]any{"stage": "second_factor"})
	})
	if e, ok := apperr.As(err); ok && e.Code == "mfa_code_wrong" {
		_ = audit.RecordOperator(ctx, o.db, audit.By(c), audit.ActionMFAFailed, nil, nil)
	}
	return token, now.Add(o.sessions.Config().MaxAge), err
}

// Logout ends the operator's session.
func (o *Console) Logout(ctx context.Context, c auth.Caller) error {
	return database.InTx(ctx, o.db, func(ctx context.Context, tx bun.Tx) error {
		if err := o.sessions.EndOperator(ctx, tx, c.Principal.SessionID); err != nil {
			return err
		}
		return o.record(ctx, tx, c, audit.ActionLogout, nil, nil)
	})
}

// TenantRow is a tenant as the console lists it, with its open support accesses.
type TenantRow struct {
	ID      uuid.UUID
	Slug    string
	Name    string
	Status  string
	URL     string
	Support []SupportRow
}

// SupportRow is an open support access.
type SupportRow struct {
	ID        uuid.UUID `bun:"id"`
	TenantID  uuid.UUID `bun:"tenant_id"`
	Operator  string    `bun:"operator"`
	Reason    string    `bun:"reason"`
	ExpiresAt time.Time `bun:"expires_at"`
}

// Tenants lists every tenant with its open support accesses (a platform read).
func (o *Console) Tenants(ctx context.Context) ([]TenantRow, error) {
	var open []SupportRow
	if err := o.db.NewRaw(`SELECT s.id, s.tenant_id, op.email AS operator, s.reason, s.expires_at FROM support_access s
		JOIN operator op ON op.id = s.operator_id WHERE s.ended_at IS NULL AND s.expires_at > ? ORDER BY s.expires_at`,
		o.clock.Now()).Scan(ctx, &open); err != nil {
		return nil, err
	}
	var out []TenantRow
	for _, t := range o.registry.All() {
		row := TenantRow{ID: t.ID, Slug: t.Slug, Name: t.Name, Status: t.Status, URL: o.tenantURL(t.Slug)}
		for _, s := range open {
			if s.TenantID == t.ID {
				row.Support = append(row.Support, s)
			}
		}
		out = append(out, row)
	}
	return out, nil
}

func (o *Console) tenant(slug string) (*tenant.Tenant, error) {
	t, ok := o.registry.BySlug(slug)
	if !ok || t.Rules == nil {
		return nil, apperr.NotFound("not_found")
	}
	return t, nil
}

// SetStatus activates (ends onboarding), suspends or resumes a tenant. Data is never
// touched; the portal shows a "paused" page while suspended.
func (o *Console) SetStatus(ctx context.Context, c auth.Caller, slug, status, note string) error {
	t, err := o.tenant(slug)
	if err != nil {
		return err
	}
	if status != tenant.StatusActive && status != tenant.StatusSuspended {
		return apperr.Invalid("status", "status_invalid", nil)
	}
	if note, err = auth.FreeText("note", note, 0, 500); err != nil {
		return err
	}
	// A city goes live only with what a public portal needs (imprint, privacy notice);
	// the store checks the same again when it writes.
	if status == tenant.StatusActive {
		if err := t.Rules.LaunchError(); err != nil {
			return err
		}
	}
	err = database.InTenantTx(ctx, o.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionTenantStatus, ObjectKind: "tenant", ObjectID: t.ID.String(),
			Details: map[string]any{"status": status}}); err != nil {
			return err
		}
		return o.record(ctx, tx, c, audit.ActionTenantStatus, &t.ID, map[string]any{"status": status})
	})
	if err != nil {
		return err
	}
	// The tenant row is platform data, changed outside the tenant's transaction.
	if err := tenant.NewStore(o.db).SetStatus(ctx, t.Slug, status, note); err != nil {
		return err
	}
	return o.registry.Reload(ctx)
}

// InviteAdmin invites a city's (first) tenant admin.
func (o *Console) InviteAdmin(ctx context.Context, c auth.Caller, slug, email, first, last string) error {
	t, err := o.tenant(slug)
	if err != nil {
		return err
	}
	c.Tenant = t
	if err := o.staff.Invite(ctx, c, staff.Invitation{Email: email, FirstName: first, LastName: last, Grant: staff.RoleGrant{Role: "tenant_admin"}}); err != nil {
		return err
	}
	return database.InTx(ctx, o.db, func(ctx context.Context, tx bun.Tx) error {
		return o.record(ctx, tx, c, audit.ActionStaffInvited, &t.ID, map[string]any{"role": "tenant_admin"})
	})
}

// entryTTL is how long the link into the city works after an access is opened.
const entryTTL = 2 * time.Minute

// StartSupport opens a support access to a city: with a reason, for at most
// SUPPORT_ACCESS_MAX. It returns the single-use entry link on the city's host.
func (o *Console) StartSupport(ctx context.Context, c auth.Caller, slug, reason string, minutes int) (string, error) {
	t, err := o.tenant(slug)
	if err != nil {
		return "", err
	}
	if reason, err = auth.FreeText("reason", reason, 10, 500); err != nil {
		return "", err
	}
	if minutes < 5 || time.Duration(minutes)*time.Minute > o.supportMax {
		return "", apperr.Invalid("minutes", "support_minutes", map[string]any{"max": int(o.supportMax.Minutes())})
	}
	now := o.clock.Now()
	id := uuid.Must(uuid.NewV7())
	raw, hash := auth.NewToken()
	expires := now.Add(time.Duration(minutes) * time.Minute)
	err = database.InTenantTx(ctx, o.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO support_access (tenant_id, id, operator_id, reason, starts_at, expires_at, entry_token_hash, entry_expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, id, c.Principal.ID, reason, now, expires, hash, now.Add(entryTTL)); err != nil {
			return fmt.Errorf("open support access: %w", err)
		}
		details := map[string]any{"reason": reason, "minutes": minutes, "support_id": id}
		if err := audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionSupportStarted, ObjectKind: "support_access", ObjectID: id.String(), Details: details}); err != nil {
			return err
		}
		return o.record(ctx, tx, c, audit.ActionSupportStarted, &t.ID, details)
	})
	if err != nil {
		return "", err
	}
	return o.tenantURL(t.Slug) + "/support/enter?token=" + raw, nil
}

// EnterSupport uses an entry link on the city's host: it opens a support session that
// ends with the access.
func (o *Console) EnterSupport(ctx context.Context, c auth.Caller, token string) (*account.Session, error) {
	if err := o.limiter.Allow(ctx, c.Scope(), auth.LimitTokenAddr, c.AddrKey()); err != nil {
		return nil, err
	}
	t := c.Tenant
	now := o.clock.Now()
	out := &account.Session{}
	err := database.InTenantTx(ctx, o.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var id, operatorID uuid.UUID
		var expires time.Time
		err := tx.QueryRowContext(ctx, `UPDATE support_access SET entry_used_at = ?
			WHERE tenant_id = ? AND entry_token_hash = ? AND entry_used_at IS NULL AND entry_expires_at > ? AND ended_at IS NULL AND expires_at > ?
			RETURNING id, operator_id, expires_at`, now, t.ID, auth.HashToken(token), now, now).Scan(&id, &operatorID, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return account.ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		if out.Token, out.ID, out.ExpiresAt, err = o.sessions.Start(ctx, tx, t.ID,
			auth.NewSession{Kind: auth.KindSupport, SupportID: id, MFADone: true, Until: expires}); err != nil {
			return err
		}
		actor := audit.By(c)
		actor.Kind, actor.ID = "operator", operatorID
		return audit.Record(ctx, tx, t.ID, actor, audit.Event{Action: audit.ActionSupportEntered, ObjectKind: "support_access", ObjectID: id.String()})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EndSupport ends the caller's support access (from inside the city).
func (o *Console) EndSupport(ctx context.Context, c auth.Caller) error {
	p := c.Principal
	t := c.Tenant
	return database.InTenantTx(ctx, o.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE support_access SET ended_at = ? WHERE tenant_id = ? AND id = ? AND ended_at IS NULL`,
			o.clock.Now(), t.ID, p.SupportID); err != nil {
			return err
		}
		if err := o.sessions.EndSupport(ctx, tx, t.ID, p.SupportID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionSupportEnded, ObjectKind: "support_access", ObjectID: p.SupportID.String()}); err != nil {
			return err
		}
		return o.record(ctx, tx, c, audit.ActionSupportEnded, &t.ID, map[string]any{"support_id": p.SupportID})
	})
}

// BaseURL is the console's address (where a support session returns to).
func (o *Console) BaseURL() string { return o.baseURL }
