package account

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/favourite"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// Handler serves the parents' account pages (HTML) and the account API (api.go).
type Handler struct {
	s     *Service
	views *view.Renderer
	authn *auth.Authenticator
	forms view.Forms
}

// NewHandler returns the account handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, views: views, authn: authn, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// MessageData is the generic confirmation page ("we sent you a mail").
type MessageData struct {
	Heading   string
	Text      string
	LinkURL   string
	LinkLabel string
}

func (h *Handler) message(c *fiber.Ctx, titleKey, textKey, linkURL, linkKey string) error {
	p := h.views.NewPage(c, "", nil)
	p.Title = p.T(titleKey)
	p.Data = MessageData{Heading: p.Title, Text: p.T(textKey), LinkURL: linkURL, LinkLabel: p.T(linkKey)}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.views.RenderPage(c, fiber.StatusOK, "message", p)
}

// RegisterForm shows the registration form.
func (h *Handler) RegisterForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "account_register", "account.register.title", nil, nil)
}

// Register handles the registration form.
func (h *Handler) Register(c *fiber.Ctx) error {
	f := view.NewForm(httpserver.FormValues(c, "first_name", "last_name", "email"))
	call := auth.CallerOf(c)
	err := h.s.Register(c.UserContext(), call, Registration{Email: c.FormValue("email"), Password: c.FormValue("password"),
		FirstName: c.FormValue("first_name"), LastName: c.FormValue("last_name"), Language: call.Lang})
	if err != nil {
		return h.forms.Failed(c, err, "account_register", "account.register.title", f, nil)
	}
	// Post/redirect/get: reloading the page that says "mail sent" sends nothing again.
	return c.Redirect("/register/sent", fiber.StatusSeeOther)
}

// RegisterSent says the confirmation mail is on its way.
func (h *Handler) RegisterSent(c *fiber.Ctx) error {
	return h.message(c, "account.register.sent.title", "account.register.sent.text", "/login", "account.login.link")
}

// tokenData carries a link's token into its confirmation form.
type tokenData struct{ Token string }

// VerifyForm shows the button that confirms an address (a GET link opened by a mail
// scanner must not use the token up).
func (h *Handler) VerifyForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "account_verify", "account.verify.title", nil, tokenData{Token: c.Query("token")})
}

// Verify confirms the address.
func (h *Handler) Verify(c *fiber.Ctx) error {
	token := c.FormValue("token")
	if err := h.s.Verify(c.UserContext(), auth.CallerOf(c), token); err != nil {
		return h.forms.Failed(c, err, "account_verify", "account.verify.title", view.NewForm(nil), tokenData{Token: token})
	}
	return c.Redirect("/login?done=verified", fiber.StatusSeeOther)
}

// LoginForm shows the sign-in form.
func (h *Handler) LoginForm(c *fiber.Ctx) error {
	if p := auth.PrincipalOf(c); p != nil && p.Kind == auth.KindParent {
		return c.Redirect("/account", fiber.StatusSeeOther)
	}
	return h.forms.Show(c, fiber.StatusOK, "account_login", "account.login.title", view.NewForm(map[string]string{"next": safeNext(c.Query("next"))}), loginData(c))
}

// LoginData is what the sign-in page shows besides the form: the button of the city's
// OpenID Connect provider, if it has one.
type LoginData struct {
	OIDCLabel string
}

func loginData(c *fiber.Ctx) LoginData {
	call := auth.CallerOf(c)
	if call.Tenant == nil {
		return LoginData{}
	}
	if o := call.Tenant.Rules.OIDC(); o != nil {
		return LoginData{OIDCLabel: o.Label.In(call.Lang)}
	}
	return LoginData{}
}

// Login handles the sign-in form: a new session cookie, then on to where the parent
// wanted to go.
func (h *Handler) Login(c *fiber.Ctx) error {
	next := safeNext(c.FormValue("next"))
	f := view.NewForm(map[string]string{"email": c.FormValue("email"), "next": next})
	sess, err := h.s.Login(c.UserContext(), auth.CallerOf(c), Login{Email: c.FormValue("email"), Password: c.FormValue("password"),
		Favourites: favourite.Read(c)})
	if err != nil {
		return h.forms.Failed(c, err, "account_login", "account.login.title", f, loginData(c))
	}
	h.authn.SetSessionCookie(c, sess.Token, sess.ExpiresAt)
	favourite.Clear(c) // the account holds the list from now on
	if next == "/" {
		next = "/account"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// Logout ends the session.
func (h *Handler) Logout(c *fiber.Ctx) error {
	if err := h.s.Logout(c.UserContext(), auth.CallerOf(c)); err != nil {
		return err
	}
	h.authn.ClearSessionCookie(c)
	return c.Redirect("/login?done=logged_out", fiber.StatusSeeOther)
}

// ForgotForm asks for the address to send a reset link to (parents and staff alike).
func (h *Handler) ForgotForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "account_forgot", "account.forgot.title", nil, nil)
}

// loginPage is where an account of kind signs in.
func loginPage(kind string) string {
	if kind == KindStaff {
		return "/staff/login"
	}
	return "/login"
}

// Forgot requests the reset link for an account of kind; the answer never tells whether
// the address is known.
func (h *Handler) Forgot(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		f := view.NewForm(httpserver.FormValues(c, "email"))
		if err := h.s.RequestReset(c.UserContext(), auth.CallerOf(c), kind, c.FormValue("email")); err != nil {
			return h.forms.Failed(c, err, "account_forgot", "account.forgot.title", f, nil)
		}
		return h.message(c, "account.forgot.sent.title", "account.forgot.sent.text", loginPage(kind), "account.login.link")
	}
}

// ResetForm asks for the new password behind a reset link.
func (h *Handler) ResetForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "account_reset", "account.reset.title", nil, tokenData{Token: c.Query("token")})
}

// Reset sets the new password of an account of kind.
func (h *Handler) Reset(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		token := c.FormValue("token")
		if err := h.s.ResetPassword(c.UserContext(), auth.CallerOf(c), kind, token, c.FormValue("password")); err != nil {
			return h.forms.Failed(c, err, "account_reset", "account.reset.title", view.NewForm(nil), tokenData{Token: token})
		}
		h.authn.ClearSessionCookie(c)
		return c.Redirect(loginPage(kind)+"?done=password_reset", fiber.StatusSeeOther)
	}
}

// HomeData is the account page.
type HomeData struct {
	Account    *Account
	Identities []IdentityView // linked OpenID Connect identities (oidc.go)
}

func (h *Handler) home(c *fiber.Ctx, status int, f *view.Form) error {
	a, err := h.s.Me(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	if f == nil {
		f = view.NewForm(map[string]string{"first_name": a.FirstName, "last_name": a.LastName, "language": a.Language})
	}
	ids, err := h.s.MyIdentities(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return h.forms.Show(c, status, "account_home", "account.home.title", f, HomeData{Account: a, Identities: ids})
}

// Home shows the parent's account with its forms.
func (h *Handler) Home(c *fiber.Ctx) error { return h.home(c, fiber.StatusOK, nil) }

// homeFailed shows the account page again with the problems of one of its forms.
func (h *Handler) homeFailed(c *fiber.Ctx, err error, f *view.Form) error {
	a, merr := h.s.Me(c.UserContext(), auth.CallerOf(c))
	if merr != nil {
		return merr
	}
	for _, k := range []string{"first_name", "last_name", "language"} {
		if _, ok := f.Values[k]; !ok {
			f.Values[k] = map[string]string{"first_name": a.FirstName, "last_name": a.LastName, "language": a.Language}[k]
		}
	}
	return h.views.FormFailed(c, err, "account_home", "account.home.title", h.authn.CSRFToken(c), f,
		HomeData{Account: a})
}

// UpdateProfile saves name and language.
func (h *Handler) UpdateProfile(c *fiber.Ctx) error {
	in := Profile{FirstName: c.FormValue("first_name"), LastName: c.FormValue("last_name"), Language: c.FormValue("language")}
	if _, err := h.s.UpdateProfile(c.UserContext(), auth.CallerOf(c), in); err != nil {
		return h.homeFailed(c, err, view.NewForm(map[string]string{"first_name": in.FirstName, "last_name": in.LastName, "language": in.Language}))
	}
	return c.Redirect("/account?done=profile_saved", fiber.StatusSeeOther)
}

// ChangePassword replaces the password.
func (h *Handler) ChangePassword(c *fiber.Ctx) error {
	if err := h.s.ChangePassword(c.UserContext(), auth.CallerOf(c), c.FormValue("current_password"), c.FormValue("password")); err != nil {
		return h.homeFailed(c, err, view.NewForm(nil))
	}
	return c.Redirect("/account?done=password_changed", fiber.StatusSeeOther)
}

// ChangeEmail sends the confirmation link to the new address.
func (h *Handler) ChangeEmail(c *fiber.Ctx) error {
	if err := h.s.RequestEmailChange(c.UserContext(), auth.CallerOf(c), c.FormValue("current_password"), c.FormValue("email")); err != nil {
		return h.homeFailed(c, err, view.NewForm(httpserver.FormValues(c, "email")))
	}
	return c.Redirect("/account?done=email_sent", fiber.StatusSeeOther)
}

// ConfirmEmailForm shows the button behind an address-change link.
func (h *Handler) ConfirmEmailForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "account_email_confirm", "account.email_confirm.title", nil, tokenData{Token: c.Query("token")})
}

// ConfirmEmail switches to the new address.
func (h *Handler) ConfirmEmail(c *fiber.Ctx) error {
	token := c.FormValue("token")
	if err := h.s.ConfirmEmailChange(c.UserContext(), auth.CallerOf(c), token); err != nil {
		return h.forms.Failed(c, err, "account_email_confirm", "account.email_confirm.title", view.NewForm(nil), tokenData{Token: token})
	}
	if p := auth.PrincipalOf(c); p != nil && p.Kind == auth.KindParent {
		return c.Redirect("/account?done=email_changed", fiber.StatusSeeOther)
	}
	return c.Redirect("/login?done=email_changed", fiber.StatusSeeOther)
}

// safeNext allows only a local path as the place to return to after sign-in.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || len(next) > 500 {
		return "/"
	}
	return next
}

// SafeNext is safeNext for the staff and operator sign-in.
func SafeNext(next string) string { return safeNext(next) }
