package operator

import (
	"sort"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// Handler serves the base domain.
type Handler struct {
	views     *view.Renderer
	registry  *tenant.Registry
	tenantURL func(slug string) string
	sink      *mail.Sink // nil unless the local mail sink is enabled
}

// NewHandler returns the vendor handlers. sink may be nil.
func NewHandler(views *view.Renderer, registry *tenant.Registry, tenantURL func(string) string, sink *mail.Sink) *Handler {
	return &Handler{views: views, registry: registry, tenantURL: tenantURL, sink: sink}
}

// City is one entry of the landing page.
type City struct {
	Name        string
	DisplayName string
	Claim       string
	URL         string
	State       string
}

// Landing lists the active cities.
func (h *Handler) Landing(c *fiber.Ctx) error {
	p := h.views.NewPage(c, "", nil)
	var cities []City
	for _, t := range h.registry.All() {
		if t.Status != tenant.StatusActive || t.Rules == nil {
			continue
		}
		cities = append(cities, City{
			Name:        t.Name,
			DisplayName: t.Rules.Branding.DisplayName,
			Claim:       t.Rules.Branding.Claim.In(p.Lang),
			URL:         h.tenantURL(t.Slug),
			State:       t.Rules.State,
		})
	}
	sort.Slice(cities, func(i, j int) bool { return cities[i].Name < cities[j].Name })
	p.Data = cities
	p.Title = p.T("vendor.title")
	return h.views.RenderPage(c, fiber.StatusOK, "vendor_home", p)
}

// DevMail lists the mails the local sink captured (development only).
func (h *Handler) DevMail(c *fiber.Ctx) error {
	if h.sink == nil {
		return fiber.ErrNotFound
	}
	msgs := h.sink.Messages()
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i] // newest first
	}
	p := h.views.NewPage(c, "", msgs)
	p.Title = p.T("devmail.title")
	return h.views.RenderPage(c, fiber.StatusOK, "dev_mail", p)
}

// DevMailJSON is DevMail for scripts and tests, with the decoded bodies.
func (h *Handler) DevMailJSON(c *fiber.Ctx) error {
	if h.sink == nil {
		return fiber.ErrNotFound
	}
	type item struct {
		mail.Captured
		Text string `json:"text"`
		HTML string `json:"html"`
	}
	msgs := h.sink.Messages()
	out := make([]item, len(msgs))
	for i, m := range msgs {
		out[i] = item{Captured: m, Text: m.Body("text/plain"), HTML: m.Body("text/html")}
	}
	return c.JSON(fiber.Map{"total": h.sink.Total(), "items": out})
}
