// Package server wires the HTTP surface: middleware in order, the health endpoints, static
// files, and every route of routes.go. It is the one package that knows all domains.
package server

import (
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/config"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/portal"
	"kitaportal/internal/tenant"
	"kitaportal/web"
)

// Deps is everything the HTTP surface needs.
type Deps struct {
	Config   config.Config
	DB       *bun.DB
	Redis    redis.UniversalClient
	Registry *tenant.Registry
	Views    *view.Renderer
	Log      *slog.Logger
	Metrics  *httpserver.Metrics // nil: no metrics
	MailSink *mail.Sink          // nil unless DEV_MAIL_SINK
	Authz    *authz.Enforcer     // loaded by its Run (or Load in tests)
	Clock    clock.Clock         // nil: the system clock
	// RateLimitPrefix keeps the rate-limit counters of several portals that share one
	// Redis database apart (tests); empty in production.
	RateLimitPrefix string
	// Files keeps uploaded files; nil: the local disk at STORAGE_DIR.
	Files storage.Storage
}

// New builds the Fiber app.
func New(d Deps) (*fiber.App, error) {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	cat := d.Views.Catalogue()
	parts, err := newComponents(d)
	if err != nil {
		return nil, err
	}
	app := httpserver.New(httpserver.Options{
		BodyLimit:      d.Config.BodyLimit,
		HeaderLimit:    d.Config.HeaderLimit,
		RequestTimeout: d.Config.RequestTimeout,
		Log:            d.Log,
		Metrics:        d.Metrics,
		Catalogue:      cat,
		TenantLabel:    tenantLabel,
		ErrorPage:      errorPage(d.Views),
	})

	// Host-independent: load balancers probe by IP, assets are the same for every city.
	h := &health{db: d.DB, redis: d.Redis, registry: d.Registry}
	app.Get("/healthz", h.live)
	app.Get("/readyz", h.ready)
	static, _ := fs.Sub(web.FS, "static")
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static), MaxAge: 7 * 24 * 3600}))

	app.Use(securityHeaders(strings.HasPrefix(d.Config.PublicURL.Scheme, "https")))
	app.Use(languageFromRequest(cat.Languages()))
	proxies := httpserver.NewProxies(d.Config.TrustedProxies)
	app.Use(tenant.NewResolver(d.Config.BaseDomain, proxies, d.Registry).Middleware())
	app.Use(siteAndLanguage(cat.Languages()))
	app.Use(func(c *fiber.Ctx) error {
		c.Locals(httpserver.LocalClientIP, proxies.ClientIP(c))
		return c.Next()
	})
	app.Use(parts.authn.Middleware())

	register(app, routes(d, parts), parts.guard(d.Log))
	return app, nil
}

func tenantLabel(c *fiber.Ctx) string {
	if t := tenant.FromFiber(c); t != nil {
		return t.Slug
	}
	if tenant.SurfaceOf(c) == tenant.SurfaceVendor {
		return "_vendor"
	}
	return ""
}

// contentSecurityPolicy: our own images, scripts and styles only.
func contentSecurityPolicy() string {
	return "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
		"object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
}

// securityHeaders forbid what our pages never need: foreign scripts, styles, frames.
// No page contacts a third-party host (data protection): even the map's tiles come
// through the city's own host (search.TileProxy).
func securityHeaders(https bool) fiber.Handler {
	headers := [][2][]byte{
		{[]byte(fiber.HeaderContentSecurityPolicy), []byte(contentSecurityPolicy())},
		{[]byte(fiber.HeaderXContentTypeOptions), []byte("nosniff")},
		{[]byte(fiber.HeaderReferrerPolicy), []byte("same-origin")},
		{[]byte(fiber.HeaderXFrameOptions), []byte("DENY")},
		{[]byte(fiber.HeaderPermissionsPolicy), []byte("camera=(), microphone=(), geolocation=(self)")},
	}
	if https {
		headers = append(headers, [2][]byte{[]byte(fiber.HeaderStrictTransportSecurity), []byte("max-age=31536000")})
	}
	return func(c *fiber.Ctx) error {
		h := &c.Response().Header
		for _, kv := range headers {
			h.SetCanonical(kv[0], kv[1]) // names are already canonical: skip normalising
		}
		return c.Next()
	}
}

const langCookie = "lang"

// siteCache keeps the layout data per tenant value and language. Tenant values are
// immutable and replaced when their rules change, so a new value is a new key.
type siteCache struct {
	mu    sync.RWMutex
	sites map[siteKey]*view.Site
}

type siteKey struct {
	t    *tenant.Tenant
	lang string
}

func (s *siteCache) get(t *tenant.Tenant, lang string) *view.Site {
	k := siteKey{t, lang}
	s.mu.RLock()
	site, ok := s.sites[k]
	s.mu.RUnlock()
	if ok {
		return site
	}
	site = portal.Site(t, lang)
	s.mu.Lock()
	if s.sites == nil || len(s.sites) > 1000 { // replaced tenant values pile up otherwise
		s.sites = map[siteKey]*view.Site{}
	}
	s.sites[k] = site
	s.mu.Unlock()
	return site
}

// languageFromRequest picks the language before the tenant is known, so even an error
// page for an unknown or paused portal speaks the visitor's language.
func languageFromRequest(supported []string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(view.LocalLang, pickLanguage(c, supported))
		return c.Next()
	}
}

// siteAndLanguage sets the layout data of the surface and narrows the language to what
// the tenant offers.
func siteAndLanguage(catalogue []string) fiber.Handler {
	vendor := &view.Site{Name: "Kitaportal", Languages: catalogue, IsVendor: true}
	sites := &siteCache{}
	return func(c *fiber.Ctx) error {
		if t := tenant.FromFiber(c); t != nil {
			lang, _ := c.Locals(view.LocalLang).(string)
			if !t.Rules.SupportsLanguage(lang) {
				lang = pickLanguage(c, t.Rules.Languages)
				c.Locals(view.LocalLang, lang)
			}
			c.Locals(view.LocalSite, sites.get(t, lang))
		} else {
			c.Locals(view.LocalSite, vendor) // read-only: NewPage copies it
		}
		return c.Next()
	}
}

// pickLanguage: the cookie set by the language switch, then Accept-Language, then German.
func pickLanguage(c *fiber.Ctx, supported []string) string {
	if l := c.Cookies(langCookie); l != "" {
		for _, s := range supported {
			if s == l {
				return l
			}
		}
	}
	if l := i18n.Negotiate(c.Get(fiber.HeaderAcceptLanguage), supported); l != "" {
		return l
	}
	return i18n.Default
}

// ErrorData is what the error page shows.
type ErrorData struct {
	Message   string
	Note      string
	RequestID any
}

func errorPage(views *view.Renderer) func(c *fiber.Ctx, status int, e *apperr.Error, message string) error {
	return func(c *fiber.Ctx, status int, e *apperr.Error, message string) error {
		p := views.NewPage(c, "", nil)
		if p.Site.Name == "" {
			// The request failed before the site was known (unknown host, paused portal).
			if t := tenant.FromFiber(c); t != nil && t.Rules != nil {
				p.Site = *portal.Site(t, p.Lang)
			} else {
				p.Site = view.Site{Name: "Kitaportal", Languages: []string{p.Lang}, IsVendor: true}
			}
		}
		data := ErrorData{Message: message, RequestID: c.Locals(httpserver.LocalRequestID)}
		if t := tenant.FromFiber(c); t != nil && e.Code == tenant.ErrSuspended.Code {
			data.Note = t.StatusNote
		}
		switch status {
		case fiber.StatusNotFound:
			p.Title = p.T("error.page.title.404")
		case fiber.StatusServiceUnavailable:
			p.Title = p.T("error.page.title.503")
			c.Set(fiber.HeaderRetryAfter, "60")
		default:
			p.Title = p.T("error.page.title.other")
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		p.Data = data
		return views.RenderPage(c, status, "error", p)
	}
}
