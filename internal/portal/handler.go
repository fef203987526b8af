// Package portal is a city's front door: its home page, its branding (theme stylesheet,
// logo) and the site data every page of the tenant surface is rendered with.
package portal

import (
	"context"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/provider"
	"kitaportal/internal/search"
	"kitaportal/internal/tenant"
)

// Site is the layout data of tenant t in lang.
func Site(t *tenant.Tenant, lang string) *view.Site {
	b := t.Rules.Branding
	s := &view.Site{
		Name:         b.DisplayName,
		Claim:        b.Claim.In(lang),
		PrimaryColor: template.CSS(b.PrimaryColor), // validated #rrggbb
		AccentColor:  template.CSS(b.AccentColor),
		ThemeURL:     "/branding/theme.css?v=" + strconv.Itoa(t.RulesVersion),
		Languages:    t.Rules.Languages,
		ContactName:  b.ContactName,
		ContactEmail: b.ContactEmail,
		ContactPhone: b.ContactPhone,
		ImprintURL:   b.ImprintURL,
		PrivacyURL:   b.PrivacyURL,
	}
	switch {
	case b.LogoSVG != "":
		s.LogoURL = "/branding/logo.svg?v=" + strconv.Itoa(t.RulesVersion)
	case len(b.LogoPNG) > 0:
		s.LogoURL = "/branding/logo.png?v=" + strconv.Itoa(t.RulesVersion)
	}
	// A city that gives the texts themselves has them served here (branding package).
	if strings.TrimSpace(b.ImprintText["de"]) != "" {
		s.ImprintURL = "/impressum"
	}
	if strings.TrimSpace(b.PrivacyText["de"]) != "" {
		s.PrivacyURL = "/datenschutz"
	}
	return s
}

// Handler serves the tenant's home page and branding.
type Handler struct {
	views   *view.Renderer
	stats   *statsCache
	finder  *search.Service
	results fiber.Handler
}

// NewHandler returns the portal handlers; db feeds the key figures on the home page,
// finder the search form's list of providers, and results answers the start page once
// it carries a search.
func NewHandler(views *view.Renderer, db bun.IDB, finder *search.Service, results fiber.Handler) *Handler {
	return &Handler{views: views, finder: finder, results: results,
		stats: &statsCache{db: db, ttl: time.Minute, byTenant: map[uuid.UUID]statsEntry{}}}
}

// HomeData is what the home page shows: the search form, the city's rules in plain words
// and key figures.
type HomeData struct {
	Tenant *tenant.Tenant
	Rules  *tenant.Rules
	Stats  *Stats // nil while the database cannot be read
	Form   *search.Form
}

// Home is the city's start page: the search. Empty, it is the same for every anonymous
// visitor until the rules or the key figures change, so the rendered bytes are shared;
// with a search in the URL it shows the answers.
func (h *Handler) Home(c *fiber.Ctx) error {
	if h.results != nil && search.Asked(c) {
		return h.results(c)
	}
	t := tenant.FromFiber(c)
	stats, generation := h.stats.get(c.UserContext(), t.ID)
	var providers []search.ProviderChoice
	var listed int64
	if h.finder != nil {
		providers, listed, _ = h.finder.Providers(c.UserContext(), t) // without the list the form still works
	}
	key := "home|" + t.ID.String() + "|" + strconv.Itoa(t.RulesVersion) + "|" + strconv.FormatInt(generation, 36) + "|" + strconv.FormatInt(listed, 36)
	return h.views.RenderShared(c, key, "home", func(p *view.Page) {
		form := search.NewForm(t.Rules, nil, search.NewWords(h.views.Catalogue(), p.Lang)).WithProviders(providers)
		p.Data = HomeData{Tenant: t, Rules: t.Rules, Stats: stats, Form: form}
		p.Title = p.T("home.title")
	})
}

// Theme serves the tenant's brand colours as a stylesheet, so pages need no inline styles
// and the Content-Security-Policy can forbid them.
func (h *Handler) Theme(c *fiber.Ctx) error {
	b := tenant.FromFiber(c).Rules.Branding
	c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.SendString(fmt.Sprintf(":root{--brand:%s;--accent:%s}\n", b.PrimaryColor, b.AccentColor))
}

// Logo serves the tenant's SVG logo (checked at load: no scripts or external references).
func (h *Handler) Logo(c *fiber.Ctx) error {
	svg := tenant.FromFiber(c).Rules.Branding.LogoSVG
	if svg == "" {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'")
	return c.SendString(svg)
}

// LogoPNG serves the tenant's PNG logo (uploaded in the branding editor, re-encoded).
func (h *Handler) LogoPNG(c *fiber.Ctx) error {
	png := tenant.FromFiber(c).Rules.Branding.LogoPNG
	if len(png) == 0 {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, "image/png")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(png)
}

// Stats are the key figures of a city.
type Stats struct {
	Facilities  int
	Tagespflege int
	Places      int
}

// statsCache keeps the key figures for a minute: the home page is the most visited page
// and must not cost a query per visit.
type statsCache struct {
	db       bun.IDB
	ttl      time.Duration
	mu       sync.Mutex
	byTenant map[uuid.UUID]statsEntry
}

type statsEntry struct {
	stats *Stats
	at    time.Time
}

// get returns the figures and a generation number that changes whenever they were
// re-read; nil figures (database unreachable) have generation 0.
func (s *statsCache) get(ctx context.Context, tenantID uuid.UUID) (*Stats, int64) {
	s.mu.Lock()
	e, ok := s.byTenant[tenantID]
	s.mu.Unlock()
	if ok && time.Since(e.at) < s.ttl {
		return e.stats, e.at.UnixNano()
	}
	st := &Stats{}
	err := database.InTenantTx(ctx, s.db, tenantID, func(ctx context.Context, tx bun.Tx) error {
		f, err := provider.Figures(ctx, tx, tenantID)
		st.Facilities, st.Tagespflege, st.Places = f.Facilities, f.Tagespflege, f.Places
		return err
	})
	if err != nil {
		return nil, 0 // the page still works without figures
	}
	now := time.Now()
	s.mu.Lock()
	s.byTenant[tenantID] = statsEntry{stats: st, at: now}
	s.mu.Unlock()
	return st, now.UnixNano()
}
