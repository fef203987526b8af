package server

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/account"
	"kitaportal/internal/operator"
	"kitaportal/internal/portal"
	"kitaportal/internal/tenant"
)

// Route is one endpoint: where it exists (surface), what permission it needs, and who
// handles it. routes() is the single list of every endpoint of the portal. Permission is
// PermPublic or an action of config/permissions.yaml; the guard enforces it (guard.go),
// and a route whose action the catalogue lacks is denied.
type Route struct {
	Method     string
	Path       string
	Surface    tenant.Surface
	Permission string // "public": anyone, also without an account
	Handler    fiber.Handler
}

// PermPublic marks routes open to everyone.
const PermPublic = "public"

func routes(d Deps, parts *components) []Route {
	home := portal.NewHandler(d.Views, d.DB)
	vendor := operator.NewHandler(d.Views, d.Registry, d.Config.TenantURL, d.MailSink)
	acc := account.NewHandler(parts.accounts, d.Views, parts.authn)
	const T = tenant.SurfaceTenant

	rs := []Route{
		// The language switch works on every surface.
		{"GET", "/language", tenant.SurfaceTenant, PermPublic, switchLanguage},
		{"GET", "/language", tenant.SurfaceVendor, PermPublic, switchLanguage},

		// City portal.
		{"GET", "/", tenant.SurfaceTenant, PermPublic, home.Home},
		{"GET", "/branding/theme.css", tenant.SurfaceTenant, PermPublic, home.Theme},
		{"GET", "/branding/logo.svg", tenant.SurfaceTenant, PermPublic, home.Logo},

		// Parent accounts.
		{"GET", "/register", T, PermPublic, acc.RegisterForm},
		{"POST", "/register", T, PermPublic, acc.Register},
		{"GET", "/verify", T, PermPublic, acc.VerifyForm},
		{"POST", "/verify", T, PermPublic, acc.Verify},
		{"GET", "/login", T, PermPublic, acc.LoginForm},
		{"POST", "/login", T, PermPublic, acc.Login},
		{"POST", "/logout", T, "auth.logout", acc.Logout},
		{"GET", "/password/forgot", T, PermPublic, acc.ForgotForm},
		{"POST", "/password/forgot", T, PermPublic, acc.Forgot},
		{"GET", "/password/reset", T, PermPublic, acc.ResetForm},
		{"POST", "/password/reset", T, PermPublic, acc.Reset},
		{"GET", "/account", T, "account.read", acc.Home},
		{"POST", "/account/profile", T, "account.update", acc.UpdateProfile},
		{"POST", "/account/password", T, "account.change_password", acc.ChangePassword},
		{"POST", "/account/email", T, "account.change_email", acc.ChangeEmail},
		{"GET", "/account/email/confirm", T, PermPublic, acc.ConfirmEmailForm},
		{"POST", "/account/email/confirm", T, PermPublic, acc.ConfirmEmail},
		{"GET", "/account/delete", T, "account.delete", acc.DeleteForm},
		{"POST", "/account/delete", T, "account.delete", acc.Delete},

		// Account API (API.md).
		{"POST", "/api/v1/auth/register", T, PermPublic, acc.APIRegister},
		{"POST", "/api/v1/auth/verify", T, PermPublic, acc.APIVerify},
		{"POST", "/api/v1/auth/login", T, PermPublic, acc.APILogin},
		{"POST", "/api/v1/auth/logout", T, "auth.logout", acc.APILogout},
		{"POST", "/api/v1/auth/password/forgot", T, PermPublic, acc.APIForgot},
		{"POST", "/api/v1/auth/password/reset", T, PermPublic, acc.APIReset},
		{"POST", "/api/v1/auth/email/confirm", T, PermPublic, acc.APIConfirmEmail},
		{"GET", "/api/v1/me", T, "auth.whoami", acc.APIMe},
		{"PATCH", "/api/v1/me", T, "account.update", acc.APIUpdateMe},
		{"DELETE", "/api/v1/me", T, "account.delete", acc.APIDelete},
		{"POST", "/api/v1/me/password", T, "account.change_password", acc.APIChangePassword},
		{"POST", "/api/v1/me/email", T, "account.change_email", acc.APIChangeEmail},

		// Base domain.
		{"GET", "/", tenant.SurfaceVendor, PermPublic, vendor.Landing},
	}
	if d.MailSink != nil {
		rs = append(rs,
			Route{"GET", "/dev/mail", tenant.SurfaceVendor, PermPublic, vendor.DevMail},
			Route{"GET", "/dev/mail.json", tenant.SurfaceVendor, PermPublic, vendor.DevMailJSON},
		)
	}
	return rs
}

// register mounts the routes, each behind the guard of its permission. A path that
// exists on several surfaces gets one Fiber route that dispatches by surface; a request
// on a surface without that route gets 404.
func register(app *fiber.App, rs []Route, g *guard) {
	type key struct{ method, path string }
	bySurface := map[key]map[tenant.Surface]fiber.Handler{}
	var order []key
	for _, r := range rs {
		r.Method = strings.ToUpper(r.Method)
		k := key{r.Method, r.Path}
		if bySurface[k] == nil {
			bySurface[k] = map[tenant.Surface]fiber.Handler{}
			order = append(order, k)
		}
		if _, dup := bySurface[k][r.Surface]; dup {
			panic(fmt.Sprintf("route %s %s registered twice for one surface", r.Method, r.Path))
		}
		bySurface[k][r.Surface] = g.wrap(r, r.Handler)
	}
	for _, k := range order {
		handlers := bySurface[k]
		app.Add(k.method, k.path, func(c *fiber.Ctx) error {
			h, ok := handlers[tenant.SurfaceOf(c)]
			if !ok {
				return fiber.ErrNotFound
			}
			return h(c)
		})
	}
}
