package account

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
)

// ErrLoginFailed is the one answer for every failed sign-in: unknown address, wrong
// password, unconfirmed or disabled account.
var ErrLoginFailed = &apperr.Error{Kind: apperr.KindUnauthenticated, Code: "login_failed", Field: "email"}

// Authenticate checks address and password of an account of kind and returns it. The
// client is rate limited, and so are failures (auth.BeginLogin: hard per account and
// client, soft per account, so a right password is never refused for failures of other
// clients); an unknown address costs the same password hash as a known one. A failure
// is written to the audit log.
func (s *Service) Authenticate(ctx context.Context, c auth.Caller, kind, email, password string) (*Account, error) {
	email, err := auth.Email("email", email)
	if err != nil {
		return nil, err
	}
	if password == "" {
		return nil, apperr.Invalid("password", "password_required", nil)
	}
	if len(password) > 1024 {
		return nil, ErrLoginFailed
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitLoginAddr, c.AddrKey()); err != nil {
		return nil, err
	}
	attempt, err := s.limiter.BeginLogin(ctx, c.Scope(), kind+":"+auth.EmailKey(email), c.AddrKey())
	if err != nil {
		return nil, err
	}
	t := c.Tenant
	var a *Account
	err = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err = ByEmail(ctx, tx, t.ID, kind, email, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	stored := ""
	if a != nil && a.Status == StatusActive {
		stored = a.PasswordHash
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, stored)
	if err != nil {
		return nil, err
	}
	if !ok {
		ev := audit.Event{Action: audit.ActionLoginFailed, Details: map[string]any{"kind": kind, "reason": "unknown_account"}}
		actor := audit.By(c)
		if a != nil {
			ev.ObjectKind, ev.ObjectID, ev.Details["reason"] = "account", a.ID.String(), "wrong_password_or_inactive"
			actor = ActorOf(c, a)
		}
		if err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
			return audit.Record(ctx, tx, t.ID, actor, ev)
		}); err != nil {
			return nil, err
		}
		if err := attempt.Failed(ctx); err != nil {
			return nil, err
		}
		return nil, ErrLoginFailed
	}
	attempt.Succeeded(ctx)
	if rehash {
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			a.PasswordHash = h
			_ = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE account SET password_hash = ? WHERE tenant_id = ? AND id = ?`, h, t.ID, a.ID)
				return err
			})
		}
	}
	return a, nil
}

// Login is a parent's sign-in.
type Login struct {
	Email      string
	Password   string
	API        bool        // issue a bearer token instead of a browser session
	Favourites []uuid.UUID // facilities marked before sign-in
}

// Session is a started session: the secret goes into the cookie or the API answer.
type Session struct {
	Token     string
	ID        uuid.UUID
	ExpiresAt time.Time
	Principal *auth.Principal
}

// Login signs a parent in. A browser session replaces the one the browser had (the id
// is rotated at every sign-in).
func (s *Service) Login(ctx context.Context, c auth.Caller, in Login) (*Session, error) {
	a, err := s.Authenticate(ctx, c, KindParent, in.Email, in.Password)
	if err != nil {
		return nil, err
	}
	return s.StartSession(ctx, c, a, in.API, true, func(ctx context.Context, tx bun.Tx) error {
		if s.Favourites != nil && len(in.Favourites) > 0 {
			return s.Favourites(ctx, tx, c.Tenant.ID, a.ID, in.Favourites)
		}
		return nil
	})
}

// StartSession opens a session for an authenticated account and records the sign-in;
// mfaDone says whether the session is complete (parents) or still needs the second factor
// (staff). extra runs in the same transaction.
func (s *Service) StartSession(ctx context.Context, c auth.Caller, a *Account, api, mfaDone bool, extra func(context.Context, bun.Tx) error) (*Session, error) {
	t := c.Tenant
	now := s.clock.Now()
	out := &Session{}
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if p := c.Principal; p != nil && !p.API && !api {
			if err := s.sessions.End(ctx, tx, t.ID, p.SessionID); err != nil {
				return err
			}
		}
		token, id, expires, err := s.sessions.Start(ctx, tx, t.ID, auth.NewSession{API: api, Kind: auth.Kind(a.Kind), AccountID: a.ID, MFADone: mfaDone})
		if err != nil {
			return err
		}
		out.Token, out.ID, out.ExpiresAt = token, id, expires
		if _, err := tx.ExecContext(ctx, `UPDATE account SET last_login_at = ? WHERE tenant_id = ? AND id = ?`, now, t.ID, a.ID); err != nil {
			return fmt.Errorf("record sign-in: %w", err)
		}
		actor := ActorOf(c, a)
		details := map[string]any{"api": api}
		if !mfaDone {
			details["stage"] = "password"
		}
		if err := audit.Record(ctx, tx, t.ID, actor, audit.Event{Action: audit.ActionLogin, ObjectKind: "account", ObjectID: a.ID.String(), Details: details}); err != nil {
			return err
		}
		if extra != nil {
			return extra(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Principal = &auth.Principal{Kind: auth.Kind(a.Kind), ID: a.ID, TenantID: t.ID, SessionID: out.ID, Email: a.Email,
		FirstName: a.FirstName, LastName: a.LastName, Language: a.Language, MFADone: mfaDone, API: api, ExpiresAt: out.ExpiresAt}
	return out, nil
}

// Logout ends the caller's session (or revokes the bearer token it came with).
func (s *Service) Logout(ctx context.Context, c auth.Caller) error {
	p := c.Principal
	if p == nil {
		return nil
	}
	return database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := s.sessions.End(ctx, tx, c.Tenant.ID, p.SessionID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: audit.ActionLogout, Details: map[string]any{"api": p.API}})
	})
}

// PromoteSession replaces the caller's session, which waited for the second factor, by a
// complete one inside tx. The id changes with the privileges, so a session id seen
// before the second factor is worthless afterwards.
func (s *Service) PromoteSession(ctx context.Context, tx bun.IDB, c auth.Caller, a *Account, method string) (*Session, error) {
	t := c.Tenant
	if p := c.Principal; p != nil && !p.API {
		if err := s.sessions.End(ctx, tx, t.ID, p.SessionID); err != nil {
			return nil, err
		}
	}
	token, id, expires, err := s.sessions.Start(ctx, tx, t.ID, auth.NewSession{Kind: auth.Kind(a.Kind), AccountID: a.ID, MFADone: true})
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx, t.ID, ActorOf(c, a), audit.Event{Action: audit.ActionLogin, ObjectKind: "account", ObjectID: a.ID.String(),
		Details: map[string]any{"stage": "second_factor", "method": method}}); err != nil {
		return nil, err
	}
	return &Session{Token: token, ID: id, ExpiresAt: expires, Principal: &auth.Principal{Kind: auth.Kind(a.Kind), ID: a.ID, TenantID: t.ID,
		SessionID: id, Email: a.Email, FirstName: a.FirstName, LastName: a.LastName, Language: a.Language, MFADone: true, ExpiresAt: expires}}, nil
}
