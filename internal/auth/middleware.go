package auth

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// Cookie names. Over HTTPS they carry the __Host- prefix: the browser then accepts them
// only as Secure, host-only cookies with Path=/, so no sibling host (another city) can set
// or read them.
const (
	cookieSession  = "kp_session"
	cookieOperator = "kp_operator"
	cookieCSRF     = "kp_csrf"
	// CSRFField is the form field (or X-CSRF-Token header) that carries the token.
	CSRFField = "_csrf"
)

// Authenticator loads the principal of every request: on a tenant host from the session
// cookie (HTML) or the bearer token (API, where cookies are ignored, so the API needs no
// CSRF token), on the base domain from the operator cookie. It also issues and checks the
// CSRF tokens of the HTML forms.
type Authenticator struct {
	sessions *Sessions
	keys     *Keys
	machines Machines
	secure   bool
}

// Machines finds the principal (KindMachine, API) of a live machine credential of
// tenantID with this secret, or nil. The package that owns the credentials implements it.
type Machines interface {
	FindMachine(ctx context.Context, tenantID uuid.UUID, secret string) (*Principal, error)
}

// SetMachines lets the API accept machine credentials (bearer secrets starting with
// MachinePrefix). Call it while wiring, before serving.
func (a *Authenticator) SetMachines(m Machines) { a.machines = m }

// NewAuthenticator returns the middleware's owner. secure: the portal is served over
// HTTPS (cookies get Secure and the __Host- prefix).
func NewAuthenticator(sessions *Sessions, keys *Keys, secure bool) *Authenticator {
	return &Authenticator{sessions: sessions, keys: keys, secure: secure}
}

// Sessions returns the session store.
func (a *Authenticator) Sessions() *Sessions { return a.sessions }

// Keys returns the derived keys.
func (a *Authenticator) Keys() *Keys { return a.keys }

func (a *Authenticator) cookieName(base string) string {
	if a.secure {
		return "__Host-" + base
	}
	return base
}

// Middleware sets the principal (if any) and, for signed-in people on HTML pages, the
// viewer and the CSRF token the layout needs.
func (a *Authenticator) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var p *Principal
		var err error
		switch tenant.SurfaceOf(c) {
		case tenant.SurfaceTenant:
			t := tenant.FromFiber(c)
			if httpserver.IsAPI(c) {
				if token, ok := bearer(c); ok {
					// A machine credential works on the API of its own city only; a
					// session token that happens to share the prefix still finds its session.
					if a.machines != nil && strings.HasPrefix(token, MachinePrefix) {
						p, err = a.machines.FindMachine(c.UserContext(), t.ID, token)
					}
					if p == nil && err == nil {
						p, err = a.sessions.Find(c.UserContext(), t.ID, token, true)
					}
				}
			} else if token := c.Cookies(a.cookieName(cookieSession)); token != "" {
				p, err = a.sessions.Find(c.UserContext(), t.ID, token, false)
				if p == nil && err == nil {
					a.clearCookie(c, cookieSession) // expired or foreign: forget it
				}
			}
		case tenant.SurfaceVendor:
			if token := c.Cookies(a.cookieName(cookieOperator)); token != "" && !httpserver.IsAPI(c) {
				p, err = a.sessions.FindOperator(c.UserContext(), token)
				if p == nil && err == nil {
					a.clearCookie(c, cookieOperator)
				}
			}
		}
		if err != nil {
			return err
		}
		if p != nil {
			SetPrincipal(c, p)
			if !p.API {
				c.Locals(view.LocalViewer, viewerOf(p))
				c.Locals(view.LocalCSRF, a.sessionCSRF(p))
			}
		}
		return c.Next()
	}
}

func viewerOf(p *Principal) *view.Viewer {
	v := &view.Viewer{Name: p.Name(), Kind: string(p.Kind)}
	switch p.Kind {
	case KindParent:
		v.HomeURL, v.LogoutURL = "/account", "/logout"
	case KindStaff, KindSupport:
		v.HomeURL, v.LogoutURL = "/staff", "/staff/logout"
	case KindOperator:
		v.HomeURL, v.LogoutURL = "/operator", "/operator/logout"
	}
	return v
}

func bearer(c *fiber.Ctx) (string, bool) {
	h := c.Get(fiber.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

// SetSessionCookie hands a new session to the browser: HttpOnly, SameSite=Lax, Secure
// over HTTPS, host-only (no Domain attribute: valid on this city's host alone).
func (a *Authenticator) SetSessionCookie(c *fiber.Ctx, token string, expires time.Time) {
	a.setCookie(c, cookieSession, token, expires)
}

// SetOperatorCookie is SetSessionCookie for the base domain.
func (a *Authenticator) SetOperatorCookie(c *fiber.Ctx, token string, expires time.Time) {
	a.setCookie(c, cookieOperator, token, expires)
}

// ClearSessionCookie removes the session cookie (sign-out).
func (a *Authenticator) ClearSessionCookie(c *fiber.Ctx) { a.clearCookie(c, cookieSession) }

// ClearOperatorCookie removes the operator cookie.
func (a *Authenticator) ClearOperatorCookie(c *fiber.Ctx) { a.clearCookie(c, cookieOperator) }

func (a *Authenticator) setCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name: a.cookieName(name), Value: value, Path: "/", Expires: expires,
		HTTPOnly: true, Secure: a.secure, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func (a *Authenticator) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{
		Name: a.cookieName(name), Value: "", Path: "/", Expires: time.Unix(1, 0), MaxAge: -1,
		HTTPOnly: true, Secure: a.secure, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// CSRF tokens are synchronizer tokens without server state: an HMAC (under a key derived
// from AUTH_SECRET) of the session id for signed-in people, and of a random pre-session
// cookie for forms shown before sign-in (login, registration, reset). A token therefore
// works only with the session or browser it was issued to.

func (a *Authenticator) sessionCSRF(p *Principal) string {
	return base64.RawURLEncoding.EncodeToString(a.keys.mac("csrf-session", string(p.Kind), p.SessionID.String()))
}

// CSRFToken returns the token for forms on this page, creating the pre-session cookie
// when an anonymous visitor has none yet, and marks the page as personal (never shared).
func (a *Authenticator) CSRFToken(c *fiber.Ctx) string {
	if tok, ok := c.Locals(view.LocalCSRF).(string); ok && tok != "" {
		return tok
	}
	var tok string
	if p := PrincipalOf(c); p != nil && !p.API {
		tok = a.sessionCSRF(p)
	} else {
		name := a.cookieName(cookieCSRF)
		anchor := c.Cookies(name)
		if !validAnchor(anchor) {
			anchor = base64.RawURLEncoding.EncodeToString(randomBytes(24))
			c.Cookie(&fiber.Cookie{Name: name, Value: anchor, Path: "/", HTTPOnly: true,
				Secure: a.secure, SameSite: fiber.CookieSameSiteLaxMode})
			c.Request().Header.SetCookie(name, anchor) // the same request may render twice
		}
		tok = base64.RawURLEncoding.EncodeToString(a.keys.mac("csrf-anon", anchor))
	}
	c.Locals(view.LocalCSRF, tok)
	return tok
}

func validAnchor(s string) bool { return len(s) == 32 }

// ErrCSRF is the answer to a form without a valid token: the page is simply sent again.
var ErrCSRF = apperr.Forbidden("csrf_failed")

// CheckCSRF verifies the token of a state-changing HTML request.
func (a *Authenticator) CheckCSRF(c *fiber.Ctx) error {
	got := c.FormValue(CSRFField)
	if got == "" {
		got = c.Get("X-CSRF-Token")
	}
	if got == "" {
		return ErrCSRF
	}
	var want []byte
	if p := PrincipalOf(c); p != nil && !p.API {
		want = a.keys.mac("csrf-session", string(p.Kind), p.SessionID.String())
	} else if anchor := c.Cookies(a.cookieName(cookieCSRF)); validAnchor(anchor) {
		want = a.keys.mac("csrf-anon", anchor)
	} else {
		return ErrCSRF
	}
	raw, err := base64.RawURLEncoding.DecodeString(got)
	if err != nil || !hmac.Equal(raw, want) {
		return ErrCSRF
	}
	return nil
}
