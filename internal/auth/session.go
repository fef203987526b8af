package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
)

// SessionConfig bounds how long sessions live.
type SessionConfig struct {
	Idle   time.Duration // a browser session ends after this long without a request
	MaxAge time.Duration // and at the latest this long after sign-in
	APITTL time.Duration // bearer tokens expire this long after they were issued
}

// Sessions is the server-side session store: browser sessions and bearer tokens of the
// tenant hosts (auth_session, a tenant table read only inside the host's tenant
// transaction, so a session of one city does not exist in another) and operator
// sessions of the base domain (operator_session).
type Sessions struct {
	db    bun.IDB
	clock clock.Clock
	cfg   SessionConfig
}

// NewSessions returns the store.
func NewSessions(db bun.IDB, clk clock.Clock, cfg SessionConfig) *Sessions {
	return &Sessions{db: db, clock: clk, cfg: cfg}
}

// Config returns the lifetimes.
func (s *Sessions) Config() SessionConfig { return s.cfg }

// NewSession describes a session to start.
type NewSession struct {
	API       bool
	Kind      Kind // parent, staff or support
	AccountID uuid.UUID
	SupportID uuid.UUID
	MFADone   bool
	Until     time.Time // optional: end no later than this (a support access's end)
}

// Start records a session in tx (the caller's tenant transaction, which also writes the
// audit entry of the sign-in) and returns its secret for the cookie or the bearer token.
func (s *Sessions) Start(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, n NewSession) (token string, id uuid.UUID, expires time.Time, err error) {
	now := s.clock.Now()
	kind, life := "cookie", s.cfg.MaxAge
	if n.API {
		kind, life = "api", s.cfg.APITTL
	}
	expires = now.Add(life)
	if !n.Until.IsZero() && n.Until.Before(expires) {
		expires = n.Until
	}
	token, hash := NewToken()
	if n.API {
		token = "kp_" + token
		hash = HashToken(token)
	}
	id = uuid.Must(uuid.NewV7())
	var account, support *uuid.UUID
	if n.Kind == KindSupport {
		support = &n.SupportID
	} else {
		account = &n.AccountID
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO auth_session (tenant_id, id, token_hash, kind, principal, account_id, support_id, mfa_done, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tenantID, id, hash, kind, string(n.Kind), account, support, n.MFADone, now, now, expires)
	if err != nil {
		return "", uuid.Nil, time.Time{}, fmt.Errorf("start session: %w", err)
	}
	return token, id, expires, nil
}

type sessionRow struct {
	ID         uuid.UUID  `bun:"id"`
	Kind       string     `bun:"kind"`
	Principal  string     `bun:"principal"`
	AccountID  *uuid.UUID `bun:"account_id"`
	SupportID  *uuid.UUID `bun:"support_id"`
	OperatorID *uuid.UUID `bun:"operator_id"`
	MFADone    bool       `bun:"mfa_done"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	LastSeenAt time.Time  `bun:"last_seen_at"`
	Email      string     `bun:"email"`
	FirstName  string     `bun:"first_name"`
	LastName   string     `bun:"last_name"`
	Language   string     `bun:"language"`
}

// touchEvery limits last_seen_at writes to one per minute and session.
const touchEvery = time.Minute

// Find returns the principal of a live session of tenantID with this secret, or nil. A
// session of a disabled or deleted account, or of an ended support access, is dead.
func (s *Sessions) Find(ctx context.Context, tenantID uuid.UUID, token string, api bool) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, nil
	}
	now := s.clock.Now()
	kind := "cookie"
	if api {
		kind = "api"
	}
	var row sessionRow
	var found bool
	err := database.InTenantTx(ctx, s.db, tenantID, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewRaw(`
			SELECT s.id, s.kind, s.principal, s.account_id, s.support_id, sa.operator_id, s.mfa_done, s.expires_at, s.last_seen_at,
			       coalesce(a.email, o.email, '') AS email, coalesce(a.first_name, o.name, '') AS first_name,
			       coalesce(a.last_name, '') AS last_name, coalesce(a.language, 'de') AS language
			FROM auth_session s
			LEFT JOIN account a ON a.tenant_id = s.tenant_id AND a.id = s.account_id AND a.status = 'active'
			LEFT JOIN support_access sa ON sa.tenant_id = s.tenant_id AND sa.id = s.support_id
			     AND sa.ended_at IS NULL AND sa.expires_at > ?2
			LEFT JOIN operator o ON o.id = sa.operator_id AND o.status = 'active'
			WHERE s.tenant_id = ?0 AND s.token_hash = ?1 AND s.kind = ?3 AND s.expires_at > ?2
			  AND (s.kind = 'api' OR s.last_seen_at > ?4)
			  AND (a.id IS NOT NULL OR o.id IS NOT NULL)`,
			tenantID, HashToken(token), now, kind, now.Add(-s.cfg.Idle)).Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if now.Sub(row.LastSeenAt) > touchEvery {
			_, err = tx.ExecContext(ctx, `UPDATE auth_session SET last_seen_at = ? WHERE tenant_id = ? AND id = ?`, now, tenantID, row.ID)
		}
		return err
	})
	if err != nil || !found {
		return nil, database.Classify(err)
	}
	p := &Principal{
		Kind: Kind(row.Principal), TenantID: tenantID, SessionID: row.ID, MFADone: row.MFADone, API: api,
		ExpiresAt: row.ExpiresAt, Email: row.Email, FirstName: row.FirstName, LastName: row.LastName, Language: row.Language,
	}
	switch {
	case row.AccountID != nil:
		p.ID = *row.AccountID
	case row.SupportID != nil && row.OperatorID != nil:
		p.ID, p.SupportID, p.MFADone = *row.OperatorID, *row.SupportID, true
	}
	return p, nil
}

// End deletes one session (sign-out, or the old id when a session is rotated).
func (s *Sessions) End(ctx context.Context, tx bun.IDB, tenantID, sessionID uuid.UUID) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM auth_session WHERE tenant_id = ? AND id = ?`, tenantID, sessionID)
	return err
}

// EndAll deletes every session and token of an account except one (after a password
// change the current session stays; after a reset or deletion none does).
func (s *Sessions) EndAll(ctx context.Context, tx bun.IDB, tenantID, accountID, except uuid.UUID) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM auth_session WHERE tenant_id = ? AND account_id = ? AND id <> ?`, tenantID, accountID, except)
	return err
}

// StartOperator records an operator session on the base domain.
func (s *Sessions) StartOperator(ctx context.Context, tx bun.IDB, operatorID uuid.UUID, mfaDone bool) (token string, id uuid.UUID, err error) {
	now := s.clock.Now()
	token, hash := NewToken()
	id = uuid.Must(uuid.NewV7())
	_, err = tx.ExecContext(ctx, `
		INSERT INTO operator_session (id, token_hash, operator_id, mfa_done, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, hash, operatorID, mfaDone, now, now, now.Add(s.cfg.MaxAge))
	if err != nil {
		return "", uuid.Nil, fmt.Errorf("start operator session: %w", err)
	}
	return token, id, nil
}

// FindOperator returns the principal of a live operator session, or nil.
func (s *Sessions) FindOperator(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, nil
	}
	now := s.clock.Now()
	var row sessionRow
	err := s.db.NewRaw(`
		SELECT s.id, s.operator_id, s.mfa_done, s.expires_at, s.last_seen_at, o.email, o.name AS first_name
		FROM operator_session s JOIN operator o ON o.id = s.operator_id AND o.status = 'active'
		WHERE s.token_hash = ? AND s.expires_at > ? AND s.last_seen_at > ?`,
		HashToken(token), now, now.Add(-s.cfg.Idle)).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, database.Classify(err)
	}
	if now.Sub(row.LastSeenAt) > touchEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE operator_session SET last_seen_at = ? WHERE id = ?`, now, row.ID); err != nil {
			return nil, database.Classify(err)
		}
	}
	return &Principal{Kind: KindOperator, ID: *row.OperatorID, SessionID: row.ID, MFADone: row.MFADone,
		ExpiresAt: row.ExpiresAt, Email: row.Email, FirstName: row.FirstName, Language: "de"}, nil
}

// EndOperator deletes an operator session.
func (s *Sessions) EndOperator(ctx context.Context, tx bun.IDB, sessionID uuid.UUID) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM operator_session WHERE id = ?`, sessionID)
	return err
}
