package account

import (
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
)

// OIDCHandler serves the sign-in over the city's OpenID Connect provider.
type OIDCHandler struct {
	s     *Service
	authn *auth.Authenticator
	log   *slog.Logger
}

// NewOIDCHandler returns the handlers of /login/oidc and its callback.
func NewOIDCHandler(s *Service, authn *auth.Authenticator, log *slog.Logger) *OIDCHandler {
	return &OIDCHandler{s: s, authn: authn, log: log}
}

// Start sends the browser to the provider (GET /login/oidc?next=…).
func (h *OIDCHandler) Start(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	st, err := h.s.StartOIDC(c.UserContext(), call, c.Query("next"))
	if err != nil {
		return h.refused(c, call, err)
	}
	h.authn.SetOIDCStateCookie(c, st.State, st.ExpiresAt)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect(st.URL, fiber.StatusSeeOther)
}

// Callback finishes the sign-in (GET /login/oidc/callback?code=…&state=…). A refused
// sign-in starts no session and shows the reason in the parent's language (the error
// page); it is logged here, once, and recorded in the audit log.
func (h *OIDCHandler) Callback(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	in := OIDCCallback{State: c.Query("state"), CookieState: h.authn.OIDCStateCookie(c), Code: c.Query("code"), Error: c.Query("error")}
	h.authn.ClearOIDCStateCookie(c)
	c.Set(fiber.HeaderCacheControl, "no-store")
	res, err := h.s.FinishOIDC(c.UserContext(), call, in)
	if err != nil {
		return h.refused(c, call, err)
	}
	h.authn.SetSessionCookie(c, res.Session.Token, res.Session.ExpiresAt)
	next := res.Next
	if next == "/" {
		next = "/account"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (h *OIDCHandler) refused(c *fiber.Ctx, call auth.Caller, err error) error {
	if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal {
		slug := ""
		if call.Tenant != nil {
			slug = call.Tenant.Slug
		}
		h.log.Warn("oidc sign-in refused", "request_id", call.RequestID, "tenant", slug, "code", e.Code, "err", e.Err)
	}
	return err // the error page says why, in the parent's language
}
