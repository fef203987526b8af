package auth

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// cookieOIDC binds a started OpenID Connect sign-in to the browser that started it: it
// holds the state, which the callback must bring back in the query as well.
const cookieOIDC = "kp_oidc"

// SetOIDCStateCookie stores the state of a started sign-in (HttpOnly, SameSite=Lax, so
// the provider's redirect back, a top-level GET, carries it).
func (a *Authenticator) SetOIDCStateCookie(c *fiber.Ctx, state string, expires time.Time) {
	a.setCookie(c, cookieOIDC, state, expires)
}

// OIDCStateCookie returns the state the browser holds ("" for none).
func (a *Authenticator) OIDCStateCookie(c *fiber.Ctx) string {
	return c.Cookies(a.cookieName(cookieOIDC))
}

// ClearOIDCStateCookie removes it: a state works once.
func (a *Authenticator) ClearOIDCStateCookie(c *fiber.Ctx) { a.clearCookie(c, cookieOIDC) }
