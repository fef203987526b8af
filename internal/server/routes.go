package server

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/billing"
	"kitaportal/internal/operator"
	"kitaportal/internal/portal"
	"kitaportal/internal/tenant"
)

// Route is one endpoint: where it exists (surface), what permission it needs, and who
// handles it. routes() is the single list of every endpoint of the portal.
type Route struct {
	Method     string
	Path       string
	Surface    tenant.Surface
	Permission string // "public": anyone, also without an account
	Handler    fiber.Handler
}

// PermPublic marks routes open to everyone.
const PermPublic = "public"

func routes(d Deps) []Route {
	home := portal.NewHandler(d.Views, d.DB)
	vendor := operator.NewHandler(d.Views, d.Registry, d.Config.TenantURL, d.MailSink)
	stripeHooks := billing.NewHandler(billing.NewService(d.DB, d.Log), d.Config.StripeWebhookSecret.Value())

	rs := []Route{
		// The language switch works on every surface.
		{"GET", "/language", tenant.SurfaceTenant, PermPublic, switchLanguage},
		{"GET", "/language", tenant.SurfaceVendor, PermPublic, switchLanguage},

		// City portal.
		{"GET", "/", tenant.SurfaceTenant, PermPublic, home.Home},
		{"GET", "/branding/theme.css", tenant.SurfaceTenant, PermPublic, home.Theme},
		{"GET", "/branding/logo.svg", tenant.SurfaceTenant, PermPublic, home.Logo},

		// Base domain.
		{"GET", "/", tenant.SurfaceVendor, PermPublic, vendor.Landing},
		// Stripe authenticates itself by signing each request.
		{"POST", "/api/billing/stripe-webhook", tenant.SurfaceVendor, PermPublic, stripeHooks.Webhook},
	}
	if d.MailSink != nil {
		rs = append(rs,
			Route{"GET", "/dev/mail", tenant.SurfaceVendor, PermPublic, vendor.DevMail},
			Route{"GET", "/dev/mail.json", tenant.SurfaceVendor, PermPublic, vendor.DevMailJSON},
		)
	}
	return rs
}

// register mounts the routes. A path that exists on several surfaces gets one Fiber route
// that dispatches by surface; a request on a surface without that route gets 404.
func register(app *fiber.App, rs []Route) {
	type key struct{ method, path string }
	bySurface := map[key]map[tenant.Surface]fiber.Handler{}
	var order []key
	for _, r := range rs {
		if r.Permission == "" {
			panic(fmt.Sprintf("route %s %s has no permission", r.Method, r.Path))
		}
		k := key{strings.ToUpper(r.Method), r.Path}
		if bySurface[k] == nil {
			bySurface[k] = map[tenant.Surface]fiber.Handler{}
			order = append(order, k)
		}
		if _, dup := bySurface[k][r.Surface]; dup {
			panic(fmt.Sprintf("route %s %s registered twice for one surface", r.Method, r.Path))
		}
		bySurface[k][r.Surface] = r.Handler
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
