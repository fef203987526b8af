package server

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/facility"
	"kitaportal/internal/operator"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/portal"
	"kitaportal/internal/search"
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
	clk := d.Clock
	if clk == nil {
		clk = clock.System{}
	}
	finder := search.NewService(d.DB, clk)
	results := search.NewHandler(finder, d.Views)
	profiles := facility.NewHandler(facility.NewService(d.DB, finder), finder, d.Views)
	home := portal.NewHandler(d.Views, d.DB, results.Results)
	vendor := operator.NewHandler(d.Views, d.Registry, d.Config.TenantURL, d.MailSink)

	rs := []Route{
		// The language switch works on every surface.
		{"GET", "/language", tenant.SurfaceTenant, PermPublic, switchLanguage},
		{"GET", "/language", tenant.SurfaceVendor, PermPublic, switchLanguage},

		// City portal. The start page is the search; with a search in the URL it answers.
		{"GET", "/", tenant.SurfaceTenant, PermPublic, home.Home},
		{"GET", "/branding/theme.css", tenant.SurfaceTenant, PermPublic, home.Theme},
		{"GET", "/branding/logo.svg", tenant.SurfaceTenant, PermPublic, home.Logo},
		{"GET", "/facilities/:id", tenant.SurfaceTenant, PermPublic, profiles.Profile},
		{"GET", "/facilities/:id/photos/:n", tenant.SurfaceTenant, PermPublic, profiles.Photo},
		// The Merkliste lives in a cookie: no account needed.
		{"GET", "/favourites", tenant.SurfaceTenant, PermPublic, profiles.Favourites},
		{"POST", "/favourites", tenant.SurfaceTenant, PermPublic, profiles.ToggleFavourite},

		// JSON API (web/openapi/openapi.json describes it).
		{"GET", "/api/v1/openapi.json", tenant.SurfaceTenant, PermPublic, openAPI},
		{"GET", "/api/v1/facilities", tenant.SurfaceTenant, PermPublic, results.List},
		{"GET", "/api/v1/facilities/:id", tenant.SurfaceTenant, PermPublic, profiles.APIProfile},
		{"GET", "/api/v1/facilities/:id/availability", tenant.SurfaceTenant, PermPublic, profiles.APIAvailability},

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
