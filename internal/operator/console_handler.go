package operator

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// ConsoleHandler serves the operator console on the base domain and the support entry on
// the tenant hosts.
type ConsoleHandler struct {
	o     *Console
	authn *auth.Authenticator
	forms view.Forms
}

// NewConsoleHandler returns the console handlers.
func NewConsoleHandler(o *Console, views *view.Renderer, authn *auth.Authenticator) *ConsoleHandler {
	return &ConsoleHandler{o: o, authn: authn, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// LoginForm shows the operator sign-in.
func (h *ConsoleHandler) LoginForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "operator_login", "operator.login.title", nil, nil)
}

// Login checks the password; the second factor follows.
func (h *ConsoleHandler) Login(c *fiber.Ctx) error {
	f := view.NewForm(httpserver.FormValues(c, "email"))
	token, expires, err := h.o.Login(c.UserContext(), auth.CallerOf(c), c.FormValue("email"), c.FormValue("password"))
	if err != nil {
		return h.forms.Failed(c, err, "operator_login", "operator.login.title", f, nil)
	}
	h.authn.SetOperatorCookie(c, token, expires)
	return c.Redirect("/operator/2fa", fiber.StatusSeeOther)
}

// SecondFactorForm asks for the TOTP code.
func (h *ConsoleHandler) SecondFactorForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "operator_2fa", "staff.mfa.title", nil, nil)
}

// SecondFactor completes the sign-in.
func (h *ConsoleHandler) SecondFactor(c *fiber.Ctx) error {
	token, expires, err := h.o.SecondFactor(c.UserContext(), auth.CallerOf(c), c.FormValue("code"))
	if err != nil {
		return h.forms.Failed(c, err, "operator_2fa", "staff.mfa.title", view.NewForm(nil), nil)
	}
	h.authn.SetOperatorCookie(c, token, expires)
	return c.Redirect("/operator", fiber.StatusSeeOther)
}

// Logout ends the operator session.
func (h *ConsoleHandler) Logout(c *fiber.Ctx) error {
	if err := h.o.Logout(c.UserContext(), auth.CallerOf(c)); err != nil {
		return err
	}
	h.authn.ClearOperatorCookie(c)
	return c.Redirect("/operator/login?done=logged_out", fiber.StatusSeeOther)
}

// consoleData is the console's start page.
type consoleData struct {
	Tenants    []TenantRow
	SupportMax int
	Focus      string // the tenant whose form failed
}

func (h *ConsoleHandler) home(c *fiber.Ctx, f *view.Form, failure error) error {
	tenants, err := h.o.Tenants(c.UserContext())
	if err != nil {
		return err
	}
	d := consoleData{Tenants: tenants, SupportMax: int(h.o.supportMax.Minutes()), Focus: c.Params("slug")}
	if failure != nil {
		return h.forms.Failed(c, failure, "operator_home", "operator.home.title", f, d)
	}
	return h.forms.Show(c, fiber.StatusOK, "operator_home", "operator.home.title", f, d)
}

// Home lists the tenants with their forms.
func (h *ConsoleHandler) Home(c *fiber.Ctx) error { return h.home(c, nil, nil) }

// failed shows the console again for a form problem, or passes other errors on.
func (h *ConsoleHandler) failed(c *fiber.Ctx, err error, values map[string]string) error {
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound && e.Field == "" {
		return err
	}
	return h.home(c, view.NewForm(values), err)
}

// SetStatus activates, suspends or resumes a tenant.
func (h *ConsoleHandler) SetStatus(c *fiber.Ctx) error {
	if err := h.o.SetStatus(c.UserContext(), auth.CallerOf(c), c.Params("slug"), c.FormValue("status"), c.FormValue("note")); err != nil {
		return h.failed(c, err, httpserver.FormValues(c, "note"))
	}
	return c.Redirect("/operator?done=status_changed", fiber.StatusSeeOther)
}

// InviteAdmin invites a tenant admin.
func (h *ConsoleHandler) InviteAdmin(c *fiber.Ctx) error {
	vals := httpserver.FormValues(c, "email", "first_name", "last_name")
	if err := h.o.InviteAdmin(c.UserContext(), auth.CallerOf(c), c.Params("slug"), vals["email"], vals["first_name"], vals["last_name"]); err != nil {
		return h.failed(c, err, vals)
	}
	return c.Redirect("/operator?done=invited", fiber.StatusSeeOther)
}

// StartSupport opens a support access and sends the operator into the city.
func (h *ConsoleHandler) StartSupport(c *fiber.Ctx) error {
	minutes, _ := strconv.Atoi(c.FormValue("minutes"))
	link, err := h.o.StartSupport(c.UserContext(), auth.CallerOf(c), c.Params("slug"), c.FormValue("reason"), minutes)
	if err != nil {
		return h.failed(c, err, httpserver.FormValues(c, "reason", "minutes"))
	}
	return c.Redirect(link, fiber.StatusSeeOther)
}

// EnterForm is the city-side page behind a support entry link.
func (h *ConsoleHandler) EnterForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "support_enter", "operator.support.enter.title", nil, struct{ Token string }{c.Query("token")})
}

// Enter opens the support session on the city's host.
func (h *ConsoleHandler) Enter(c *fiber.Ctx) error {
	token := c.FormValue("token")
	sess, err := h.o.EnterSupport(c.UserContext(), auth.CallerOf(c), token)
	if err != nil {
		return h.forms.Failed(c, err, "support_enter", "operator.support.enter.title", view.NewForm(nil), struct{ Token string }{token})
	}
	h.authn.SetSessionCookie(c, sess.Token, sess.ExpiresAt)
	return c.Redirect("/staff", fiber.StatusSeeOther)
}

// EndSupport ends the support access from inside the city and returns to the console.
func (h *ConsoleHandler) EndSupport(c *fiber.Ctx) error {
	if err := h.o.EndSupport(c.UserContext(), auth.CallerOf(c)); err != nil {
		return err
	}
	h.authn.ClearSessionCookie(c)
	return c.Redirect(h.o.BaseURL()+"/operator?done=support_ended", fiber.StatusSeeOther)
}
