package server

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/tenant"
)

// A route whose permission is missing from the catalogue is denied to everyone, before
// its handler runs.
func TestARouteWithoutCataloguedPermissionIsDenied(t *testing.T) {
	t.Parallel()
	en, err := authz.NewFromConfig(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	g := &guard{authz: en, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ran := false
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		e, _ := apperr.As(err)
		return c.SendStatus(httpserver.StatusOf(e.Kind))
	}})
	for _, perm := range []string{"", "staff.secret.read"} {
		r := Route{Method: "GET", Path: "/x" + perm, Surface: tenant.SurfaceTenant, Permission: perm}
		h := g.wrap(r, func(c *fiber.Ctx) error { ran = true; return c.SendString("secret") })
		app.Get(r.Path, h)
		res, err := app.Test(httptest.NewRequest("GET", r.Path, nil))
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 403 || ran {
			t.Errorf("permission %q: status %d, handler ran: %v", perm, res.StatusCode, ran)
		}
	}
}

// Public POSTs need the CSRF token, unless they are marked as changing only the
// visitor's own cookie.
func TestPublicFormsNeedTheCSRFTokenUnlessMarked(t *testing.T) {
	t.Parallel()
	keys, _ := auth.NewKeys(strings.Repeat("k", 40))
	g := &guard{authn: auth.NewAuthenticator(nil, keys, false), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		e, _ := apperr.As(err)
		return c.SendStatus(httpserver.StatusOf(e.Kind))
	}})
	for path, perm := range map[string]string{"/form": PermPublic, "/toggle": PermPublicNoCSRF} {
		app.Post(path, g.wrap(Route{Method: "POST", Path: path, Surface: tenant.SurfaceTenant, Permission: perm}, func(c *fiber.Ctx) error { return c.SendString("ok") }))
	}
	for path, want := range map[string]int{"/form": 403, "/toggle": 200} {
		res, err := app.Test(httptest.NewRequest("POST", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != want {
			t.Errorf("POST %s without a token: %d, want %d", path, res.StatusCode, want)
		}
	}
}
