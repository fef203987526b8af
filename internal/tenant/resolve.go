package tenant

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
)

// Surface is which face of the deployment a request reached.
type Surface uint8

const (
	SurfaceNone   Surface = iota // unknown host
	SurfaceVendor                // the base domain: vendor landing and operator console
	SurfaceTenant                // <slug>.<base domain>: a city's portal
)

// Errors of tenant resolution; the error handler turns them into pages.
var (
	ErrUnknownHost   = apperr.NotFound("unknown_portal")
	ErrBadHost       = apperr.New(apperr.KindBadRequest, "bad_request") // a Host no DNS name, or not the request URI's
	ErrSuspended     = apperr.New(apperr.KindUnavailable, "portal_paused")
	ErrNotLoaded     = apperr.New(apperr.KindUnavailable, "service_starting")
	ErrMisconfigured = apperr.New(apperr.KindUnavailable, "portal_unavailable")
)

// Resolver maps a request's host to the vendor surface or to one tenant.
type Resolver struct {
	baseDomain string
	suffix     string // "." + baseDomain
	proxies    *httpserver.Proxies
	registry   *Registry
}

// NewResolver resolves hosts below baseDomain against registry.
func NewResolver(baseDomain string, proxies *httpserver.Proxies, registry *Registry) *Resolver {
	return &Resolver{baseDomain: baseDomain, suffix: "." + baseDomain, proxies: proxies, registry: registry}
}

// Resolve maps a normalised host. The base domain must match exactly; a tenant host is
// exactly one label in front of it. A suspended tenant is returned with ErrSuspended so
// its paused page can carry the city's name and branding.
func (r *Resolver) Resolve(host string) (Surface, *Tenant, error) {
	if host == r.baseDomain {
		return SurfaceVendor, nil, nil
	}
	slug, ok := strings.CutSuffix(host, r.suffix)
	if !ok || slug == "" || strings.Contains(slug, ".") {
		return SurfaceNone, nil, ErrUnknownHost
	}
	if !r.registry.Ready() {
		return SurfaceNone, nil, ErrNotLoaded
	}
	t, ok := r.registry.BySlug(slug)
	if !ok {
		return SurfaceNone, nil, ErrUnknownHost
	}
	switch {
	case t.Status == StatusSuspended:
		return SurfaceTenant, t, ErrSuspended.WithArgs(map[string]any{"city": t.Name})
	case t.Rules == nil:
		return SurfaceTenant, t, ErrMisconfigured
	}
	return SurfaceTenant, t, nil
}

const (
	localTenant  = "tenant"
	localSurface = "surface"
)

// Middleware resolves every request's host, puts the tenant into Locals and into the
// request context, and stops requests for unknown, paused or broken portals.
func (r *Resolver) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		host, ok := r.proxies.Host(c)
		if !ok {
			return ErrBadHost
		}
		surface, t, err := r.Resolve(host)
		c.Locals(localSurface, surface)
		if t != nil {
			c.Locals(localTenant, t)
			c.SetUserContext(WithTenant(c.UserContext(), t))
		}
		if err != nil {
			return err
		}
		return c.Next()
	}
}

// FromFiber returns the request's tenant, or nil on the vendor surface.
func FromFiber(c *fiber.Ctx) *Tenant {
	t, _ := c.Locals(localTenant).(*Tenant)
	return t
}

// SetFiber puts t on the request as the resolver does; handler tests below the router
// use it.
func SetFiber(c *fiber.Ctx, t *Tenant) { c.Locals(localTenant, t) }

// SurfaceOf returns which surface the request reached.
func SurfaceOf(c *fiber.Ctx) Surface {
	s, _ := c.Locals(localSurface).(Surface)
	return s
}

type ctxKey struct{}

// WithTenant returns ctx carrying t, for services and stores below the handlers.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the tenant carried by ctx.
func FromContext(ctx context.Context) (*Tenant, bool) {
	t, ok := ctx.Value(ctxKey{}).(*Tenant)
	return t, ok
}
