package account

// Sign-in over OpenID Connect (issue 16): the authorization code flow with PKCE (S256),
// state and nonce against the identity provider of the city's rules (sign_in.oidc).
//
// The state is random, kept server-side as a hash in oidc_login for OIDCLoginTTL with the
// nonce and the PKCE verifier, and in a cookie of the browser that started the sign-in;
// the callback deletes the row, so a state works once, and only in that browser. The ID
// token is verified with go-oidc: signature (the provider's JWKS), issuer, audience
// (client id), expiry against the portal's clock, then the nonce.
//
// The account is found by the verified (issuer, subject), never by e-mail alone. A first
// sign-in whose e-mail matches an existing parent account links it only when the
// provider says email_verified and the account's own address is confirmed; otherwise
// the parent signs in with the password once and then uses the provider's button, which
// links the signed-in account. A first sign-in without a matching account creates one
// (active, no password: the parent may set one with "password forgotten").

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"golang.org/x/oauth2"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/tenant"
)

// OIDCLoginTTL is how long a started sign-in waits for the provider's answer.
var OIDCLoginTTL = 10 * time.Minute

// Errors of the OpenID Connect sign-in; each has a message "error.<code>" for parents.
var (
	ErrOIDCNotConfigured = apperr.NotFound("not_found")
	ErrOIDCUnavailable   = &apperr.Error{Kind: apperr.KindUnavailable, Code: "oidc_unavailable"}
	ErrOIDCState         = &apperr.Error{Kind: apperr.KindBadRequest, Code: "oidc_state"}       // forged, replayed, expired or from another browser
	ErrOIDCDenied        = &apperr.Error{Kind: apperr.KindUnauthenticated, Code: "oidc_denied"} // the provider answered with an error
	ErrOIDCToken         = &apperr.Error{Kind: apperr.KindUnauthenticated, Code: "oidc_token"}  // code exchange failed or token invalid
	ErrOIDCIssuer        = &apperr.Error{Kind: apperr.KindUnauthenticated, Code: "oidc_issuer"}
	ErrOIDCExpired       = &apperr.Error{Kind: apperr.KindUnauthenticated, Code: "oidc_expired"}
	ErrOIDCNonce         = &apperr.Error{Kind: apperr.KindUnauthenticated, Code: "oidc_nonce"}
	ErrOIDCEmail         = &apperr.Error{Kind: apperr.KindUnauthenticated, Code: "oidc_email_missing"}
	ErrOIDCConfirm       = &apperr.Error{Kind: apperr.KindConflict, Code: "oidc_confirm_password"}        // an account has this address: sign in with the password first
	ErrOIDCLinked        = &apperr.Error{Kind: apperr.KindConflict, Code: "oidc_linked_elsewhere"}        // the subject (or the account) is linked to another one
	ErrOIDCInactive      = &apperr.Error{Kind: apperr.KindUnauthenticated, Code: "oidc_account_inactive"} // disabled or deleted account
)

// ActionIdentityLinked is the audit action of a provider identity linked to an account.
const ActionIdentityLinked = "account.identity_linked"

// oidcClient holds the discovered providers by issuer (discovery and keys are fetched
// once; go-oidc refreshes the JWKS when it meets an unknown key id).
type oidcClient struct {
	mu        sync.Mutex
	providers map[string]*oidc.Provider
	http      *http.Client
	getenv    func(string) string
}

func (s *Service) oidcClient() *oidcClient {
	s.oidcOnce.Do(func() {
		s.oidc = &oidcClient{providers: map[string]*oidc.Provider{}, http: &http.Client{Timeout: 10 * time.Second}, getenv: os.Getenv}
	})
	return s.oidc
}

func (o *oidcClient) ctx(ctx context.Context) context.Context { return oidc.ClientContext(ctx, o.http) }

func (o *oidcClient) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p, ok := o.providers[issuer]; ok {
		return p, nil
	}
	p, err := oidc.NewProvider(o.ctx(ctx), issuer)
	if err != nil {
		return nil, &apperr.Error{Kind: apperr.KindUnavailable, Code: ErrOIDCUnavailable.Code, Err: fmt.Errorf("discover %s: %w", issuer, err)}
	}
	o.providers[issuer] = p
	return p, nil
}

func (o *oidcClient) config(p *oidc.Provider, cfg *tenant.OIDCSignIn, redirect string) *oauth2.Config {
	secret := ""
	if cfg.ClientSecretEnv != "" {
		secret = o.getenv(cfg.ClientSecretEnv)
	}
	return &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: cfg.AllScopes()}
}

// OIDCRedirectPath is the callback the provider sends the parent back to.
const OIDCRedirectPath = "/login/oidc/callback"

// OIDCStart is a started sign-in: where to send the browser, and the state for its cookie.
type OIDCStart struct {
	URL       string
	State     string
	ExpiresAt time.Time
}

// StartOIDC begins a sign-in with the city's provider; next is where to go afterwards.
func (s *Service) StartOIDC(ctx context.Context, c auth.Caller, next string) (*OIDCStart, error) {
	cfg := c.Tenant.Rules.OIDC()
	if cfg == nil {
		return nil, ErrOIDCNotConfigured
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitLoginAddr, c.AddrKey()); err != nil {
		return nil, err
	}
	cl := s.oidcClient()
	p, err := cl.provider(ctx, cfg.Issuer)
	if err != nil {
		return nil, err
	}
	state, stateHash := auth.NewToken()
	nonce, _ := auth.NewToken()
	verifier := oauth2.GenerateVerifier()
	now := s.clock.Now()
	expires := now.Add(OIDCLoginTTL)
	t := c.Tenant
	err = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_login WHERE tenant_id = ? AND expires_at <= ?`, t.ID, now); err != nil {
			return fmt.Errorf("prune sign-ins: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_login (tenant_id, state_hash, issuer, nonce, code_verifier, next, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, stateHash, cfg.Issuer, nonce, verifier, safeNext(next), now, expires)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start oidc sign-in: %w", err)
	}
	oc := cl.config(p, cfg, s.links.URL(t, OIDCRedirectPath))
	u := oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	return &OIDCStart{URL: u, State: state, ExpiresAt: expires}, nil
}

// OIDCCallback is what the provider sent back (query) and what the browser holds.
type OIDCCallback struct {
	State       string // query
	CookieState string // the state cookie of this browser
	Code        string
	Error       string // the provider's error answer, if any
}

// OIDCResult is a finished sign-in.
type OIDCResult struct {
	Session    *Session
	Next       string
	Created    bool   // a new account
	Linked     bool   // an identity was linked to an existing account this time
	Name       string // the verified name, if the provider sent one
	TrustLevel string // the provider's acr as the city names it
}

type oidcLogin struct {
	Issuer       string    `bun:"issuer"`
	Nonce        string    `bun:"nonce"`
	CodeVerifier string    `bun:"code_verifier"`
	Next         string    `bun:"next"`
	ExpiresAt    time.Time `bun:"expires_at"`
}

// oidcClaims are the ID token's claims the portal reads.
type oidcClaims struct {
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"` // some providers send "true"
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
	Name          string `json:"name"`
	ACR           string `json:"acr"`
}

func (c oidcClaims) emailVerified() bool {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// FinishOIDC handles the provider's answer: checks state (one use, this browser), code
// exchange with the PKCE verifier, ID token and nonce, then finds, links or creates the
// account and starts a session. A refused sign-in is recorded in the audit log.
func (s *Service) FinishOIDC(ctx context.Context, c auth.Caller, in OIDCCallback) (*OIDCResult, error) {
	res, err := s.finishOIDC(ctx, c, in)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal && e.Kind != apperr.KindTooMany {
			t := c.Tenant
			_ = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
				return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionLoginFailed,
					Details: map[string]any{"kind": KindParent, "method": "oidc", "reason": e.Code}})
			})
		}
		return nil, err
	}
	return res, nil
}

func (s *Service) finishOIDC(ctx context.Context, c auth.Caller, in OIDCCallback) (*OIDCResult, error) {
	cfg := c.Tenant.Rules.OIDC()
	if cfg == nil {
		return nil, ErrOIDCNotConfigured
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitLoginAddr, c.AddrKey()); err != nil {
		return nil, err
	}
	if in.State == "" || len(in.State) > 100 || len(in.Code) > 2000 {
		return nil, ErrOIDCState
	}
	t := c.Tenant
	now := s.clock.Now()
	// The row is deleted whatever follows: a state is used up by its first callback.
	var login oidcLogin
	found := false
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewRaw(`DELETE FROM oidc_login WHERE tenant_id = ? AND state_hash = ?
			RETURNING issuer, nonce, code_verifier, next, expires_at`, t.ID, auth.HashToken(in.State)).Scan(ctx, &login)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("use oidc state: %w", err)
	}
	if !found || !login.ExpiresAt.After(now) || login.Issuer != cfg.Issuer ||
		subtle.ConstantTimeCompare([]byte(in.State), []byte(in.CookieState)) != 1 {
		return nil, ErrOIDCState
	}
	if in.Error != "" || in.Code == "" {
		return nil, ErrOIDCDenied
	}
	cl := s.oidcClient()
	p, err := cl.provider(ctx, cfg.Issuer)
	if err != nil {
		return nil, err
	}
	oc := cl.config(p, cfg, s.links.URL(t, OIDCRedirectPath))
	tok, err := oc.Exchange(cl.ctx(ctx), in.Code, oauth2.VerifierOption(login.CodeVerifier))
	if err != nil {
		return nil, &apperr.Error{Kind: ErrOIDCToken.Kind, Code: ErrOIDCToken.Code, Err: err}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, ErrOIDCToken
	}
	idt, err := p.VerifierContext(cl.ctx(ctx), &oidc.Config{ClientID: cfg.ClientID, Now: s.clock.Now}).Verify(cl.ctx(ctx), raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		switch {
		case errors.As(err, &expired):
			return nil, &apperr.Error{Kind: ErrOIDCExpired.Kind, Code: ErrOIDCExpired.Code, Err: err}
		case strings.Contains(err.Error(), "issued by a different provider"):
			return nil, &apperr.Error{Kind: ErrOIDCIssuer.Kind, Code: ErrOIDCIssuer.Code, Err: err}
		}
		return nil, &apperr.Error{Kind: ErrOIDCToken.Kind, Code: ErrOIDCToken.Code, Err: err}
	}
	if idt.Issuer != cfg.Issuer {
		return nil, ErrOIDCIssuer
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(login.Nonce)) != 1 {
		return nil, ErrOIDCNonce
	}
	if idt.Subject == "" || len(idt.Subject) > 255 {
		return nil, ErrOIDCToken
	}
	var cl2 oidcClaims
	if err := idt.Claims(&cl2); err != nil {
		return nil, &apperr.Error{Kind: ErrOIDCToken.Kind, Code: ErrOIDCToken.Code, Err: err}
	}
	res := &OIDCResult{Next: login.Next}
	a, err := s.linkOIDC(ctx, c, cfg.Issuer, idt.Subject, cl2, res)
	if err != nil {
		return nil, err
	}
	res.TrustLevel = cfg.TrustLevel(cl2.ACR, c.Lang)
	sess, err := s.StartSession(ctx, c, a, false, true, nil)
	if err != nil {
		return nil, err
	}
	res.Session = sess
	return res, nil
}

// verifiedName is the first and last name the provider vouches for.
func verifiedName(cl oidcClaims) (first, last string) {
	first, _ = auth.Name("first_name", cl.GivenName, false)
	last, _ = auth.Name("last_name", cl.FamilyName, false)
	if first == "" && last == "" && cl.Name != "" {
		n, _ := auth.Name("last_name", cl.Name, false)
		if i := strings.LastIndexByte(n, ' '); i > 0 {
			first, last = n[:i], n[i+1:]
		} else {
			last = n
		}
	}
	return first, last
}

// linkOIDC finds the account of (issuer, subject), links the signed-in or a matching
// verified account, or creates one; the verified name fills empty names of the account.
func (s *Service) linkOIDC(ctx context.Context, c auth.Caller, issuer, subject string, cl oidcClaims, res *OIDCResult) (*Account, error) {
	t := c.Tenant
	now := s.clock.Now()
	first, last := verifiedName(cl)
	res.Name = strings.TrimSpace(first + " " + last)
	acr := cl.ACR
	if len(acr) > 200 {
		acr = acr[:200]
	}
	var out *Account
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var linked uuid.UUID
		err := tx.NewRaw(`SELECT account_id FROM account_identity WHERE tenant_id = ? AND issuer = ? AND subject = ? FOR UPDATE`,
			t.ID, issuer, subject).Scan(ctx, &linked)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read identity: %w", err)
		}
		var me *uuid.UUID
		if p := c.Principal; p != nil && p.Kind == auth.KindParent && !p.API {
			me = &p.ID
		}
		var a *Account
		switch {
		case linked != uuid.Nil:
			if me != nil && *me != linked {
				return ErrOIDCLinked
			}
			if a, err = ByID(ctx, tx, t.ID, linked, true); err != nil {
				return err
			}
		case me != nil:
			if a, err = ByID(ctx, tx, t.ID, *me, true); err != nil {
				return err
			}
		default:
			email, err := auth.Email("email", cl.Email)
			if err != nil {
				return ErrOIDCEmail
			}
			if a, err = ByEmail(ctx, tx, t.ID, KindParent, email, true); err != nil {
				return err
			}
			switch {
			case a == nil:
				a = &Account{TenantID: t.ID, ID: uuid.Must(uuid.NewV7()), Kind: KindParent, Email: email, Status: StatusActive,
					FirstName: first, LastName: last, Language: language(t, c.Lang), CreatedAt: now}
				var verified *time.Time
				if cl.emailVerified() {
					verified = &now
				}
				a.EmailVerifiedAt = verified
				if _, err := tx.ExecContext(ctx, `INSERT INTO account (tenant_id, id, kind, email, status, first_name, last_name, language,
					email_verified_at, created_at, updated_at) VALUES (?, ?, 'parent', ?, 'active', ?, ?, ?, ?, ?, ?)`,
					t.ID, a.ID, email, first, last, a.Language, verified, now, now); err != nil {
					return fmt.Errorf("insert account: %w", err)
				}
				if err := audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionRegistered, ObjectKind: "account",
					ObjectID: a.ID.String(), Details: map[string]any{"method": "oidc"}}); err != nil {
					return err
				}
				res.Created = true
			case cl.emailVerified() && a.Status == StatusActive && a.EmailVerifiedAt != nil:
				// the provider and the portal both confirmed the address: same person
			default:
				return ErrOIDCConfirm
			}
		}
		if a.Status != StatusActive {
			return ErrOIDCInactive
		}
		if linked == uuid.Nil {
			var other string
			err := tx.NewRaw(`SELECT subject FROM account_identity WHERE tenant_id = ? AND account_id = ? AND issuer = ?`, t.ID, a.ID, issuer).Scan(ctx, &other)
			if err == nil {
				return ErrOIDCLinked // the account has another identity of this provider
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("read identity: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO account_identity (tenant_id, account_id, issuer, subject, verified_name, acr, created_at, last_used_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, a.ID, issuer, subject, res.Name, acr, now, now); err != nil {
				if database.IsUniqueViolation(err, "") {
					return ErrOIDCLinked
				}
				return fmt.Errorf("link identity: %w", err)
			}
			res.Linked = !res.Created
			if err := audit.Record(ctx, tx, t.ID, ActorOf(c, a), audit.Event{Action: ActionIdentityLinked, ObjectKind: "account",
				ObjectID: a.ID.String(), Details: map[string]any{"issuer": issuer, "acr": acr}}); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE account_identity SET verified_name = ?, acr = ?, last_used_at = ?
			WHERE tenant_id = ? AND issuer = ? AND subject = ?`, res.Name, acr, now, t.ID, issuer, subject); err != nil {
			return fmt.Errorf("update identity: %w", err)
		}
		// A verified name fills the account's empty names (the family form starts from them).
		if (a.FirstName == "" && first != "") || (a.LastName == "" && last != "") {
			if a.FirstName == "" {
				a.FirstName = first
			}
			if a.LastName == "" {
				a.LastName = last
			}
			if _, err := tx.ExecContext(ctx, `UPDATE account SET first_name = ?, last_name = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
				a.FirstName, a.LastName, now, t.ID, a.ID); err != nil {
				return fmt.Errorf("name account: %w", err)
			}
		}
		out = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Identity is a provider identity linked to an account, as the account page shows it.
type Identity struct {
	Issuer       string    `bun:"issuer"`
	VerifiedName string    `bun:"verified_name"`
	ACR          string    `bun:"acr"`
	LastUsedAt   time.Time `bun:"last_used_at"`
}

// Identities lists the provider identities linked to account id.
func Identities(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) ([]Identity, error) {
	var out []Identity
	err := tx.NewRaw(`SELECT issuer, verified_name, acr, last_used_at FROM account_identity WHERE tenant_id = ? AND account_id = ? ORDER BY created_at`,
		tenantID, id).Scan(ctx, &out)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read identities: %w", err)
	}
	return out, nil
}

// IdentityView is a linked identity as the parent sees it: the provider (the city's
// button label, or the issuer), the verified name and the trust level.
type IdentityView struct {
	Provider     string
	VerifiedName string
	TrustLevel   string
}

// MyIdentities lists the identities linked to the signed-in parent's account.
func (s *Service) MyIdentities(ctx context.Context, c auth.Caller) ([]IdentityView, error) {
	p := c.Principal
	if p == nil || c.Tenant == nil {
		return nil, nil
	}
	var ids []Identity
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ids, err = Identities(ctx, tx, c.Tenant.ID, p.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	cfg := c.Tenant.Rules.OIDC()
	out := make([]IdentityView, 0, len(ids))
	for _, id := range ids {
		v := IdentityView{Provider: id.Issuer, VerifiedName: id.VerifiedName, TrustLevel: id.ACR}
		if cfg != nil && cfg.Issuer == id.Issuer {
			v.Provider, v.TrustLevel = cfg.Label.In(c.Lang), cfg.TrustLevel(id.ACR, c.Lang)
		}
		out = append(out, v)
	}
	return out, nil
}
