package webhook

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// Handler serves the tenant admin's webhook page and its JSON twins.
type Handler struct {
	s     *Service
	views *view.Renderer
	forms view.Forms
}

// NewHandler returns the webhook handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, views: views, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// logSize is how many deliveries per endpoint the page and the API show.
const logSize = 50

// TypeOption is one checkbox of the form.
type TypeOption struct {
	Name    string
	Checked bool
}

// EndpointView is an endpoint on the page, with its latest deliveries.
type EndpointView struct {
	Endpoint
	Deliveries []Delivery
}

type pageData struct {
	Endpoints []EndpointView
	Types     []TypeOption
	Issued    *Issued
	Rotated   bool
}

func (h *Handler) page(c *fiber.Ctx, status int, f *view.Form, checked []string, failure error) error {
	call := auth.CallerOf(c)
	items, err := h.s.List(c.UserContext(), call)
	if err != nil {
		return err
	}
	d := pageData{}
	for _, e := range items {
		_, ds, err := h.s.Get(c.UserContext(), call, e.ID, 10)
		if err != nil {
			return err
		}
		d.Endpoints = append(d.Endpoints, EndpointView{Endpoint: e, Deliveries: ds})
	}
	for _, t := range Types {
		o := TypeOption{Name: t}
		for _, n := range checked {
			o.Checked = o.Checked || n == t
		}
		d.Types = append(d.Types, o)
	}
	if failure != nil {
		return h.forms.Failed(c, failure, "staff_webhooks", "webhook.title", f, d)
	}
	return h.forms.Show(c, status, "staff_webhooks", "webhook.title", f, d)
}

// List shows the city's endpoints, their latest deliveries and the form for a new one.
func (h *Handler) List(c *fiber.Ctx) error { return h.page(c, fiber.StatusOK, nil, nil, nil) }

// Create registers an endpoint and shows its secret, once.
func (h *Handler) Create(c *fiber.Ctx) error {
	in := New{URL: c.FormValue("url"), Description: c.FormValue("description"), Events: httpserver.PostedList(c, "events")}
	is, err := h.s.Create(c.UserContext(), auth.CallerOf(c), in)
	if err != nil {
		return h.page(c, 0, view.NewForm(map[string]string{"url": in.URL, "description": in.Description}), in.Events, err)
	}
	return h.secret(c, is, false)
}

// Toggle enables or disables an endpoint (enabled=1 or 0).
func (h *Handler) Toggle(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	on := c.FormValue("enabled") == "1"
	if _, err := h.s.Update(c.UserContext(), auth.CallerOf(c), id, Change{Enabled: &on}); err != nil {
		return err
	}
	return c.Redirect("/staff/webhooks", fiber.StatusSeeOther)
}

// Rotate gives an endpoint a new secret (grace=1: the old one signs for a day more).
func (h *Handler) Rotate(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	is, err := h.s.Rotate(c.UserContext(), auth.CallerOf(c), id, c.FormValue("grace") == "1")
	if err != nil {
		return err
	}
	return h.secret(c, is, true)
}

// Replay sends a delivery again.
func (h *Handler) Replay(c *fiber.Ctx) error {
	id, did, err := httpserver.PathIDs(c, "id", "delivery")
	if err != nil {
		return err
	}
	if _, err := h.s.Replay(c.UserContext(), auth.CallerOf(c), id, did); err != nil {
		return err
	}
	return c.Redirect("/staff/webhooks?done=webhook_replayed", fiber.StatusSeeOther)
}

func (h *Handler) secret(c *fiber.Ctx, is *Issued, rotated bool) error {
	p := h.views.NewPage(c, "", pageData{Issued: is, Rotated: rotated})
	p.Title = p.T("webhook.secret.title")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.views.RenderPage(c, fiber.StatusOK, "staff_webhook_secret", p)
}

// API: the same operations for a tenant admin's bearer token.

type endpointBody struct {
	URL         *string  `json:"url"`
	Events      []string `json:"events"`
	Description *string  `json:"description"`
	Enabled     *bool    `json:"enabled"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// APIList handles GET /api/v1/staff/webhooks: the endpoints and the event types.
func (h *Handler) APIList(c *fiber.Ctx) error {
	items, err := h.s.List(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": httpserver.List(items), "event_types": Types})
}

// APICreate handles POST /api/v1/staff/webhooks {url, events, description} → 201 with the secret.
func (h *Handler) APICreate(c *fiber.Ctx) error {
	var b endpointBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	is, err := h.s.Create(c.UserContext(), auth.CallerOf(c), New{URL: str(b.URL), Events: b.Events, Description: str(b.Description)})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(is)
}

// APIGet handles GET /api/v1/staff/webhooks/{id}.
func (h *Handler) APIGet(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	e, _, err := h.s.Get(c.UserContext(), auth.CallerOf(c), id, 0)
	if err != nil {
		return err
	}
	return c.JSON(e)
}

// APIUpdate handles PATCH /api/v1/staff/webhooks/{id} {url?, events?, description?, enabled?}.
func (h *Handler) APIUpdate(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b endpointBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	e, err := h.s.Update(c.UserContext(), auth.CallerOf(c), id, Change{URL: b.URL, Events: b.Events, Description: b.Description, Enabled: b.Enabled})
	if err != nil {
		return err
	}
	return c.JSON(e)
}

// APIRotate handles POST /api/v1/staff/webhooks/{id}/rotate {"mode": "grace" | "immediate"}.
func (h *Handler) APIRotate(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Mode string `json:"mode"`
	}
	if len(c.Body()) > 0 {
		if err := httpserver.DecodeJSON(c, &b); err != nil {
			return err
		}
	}
	if b.Mode != "" && b.Mode != "grace" && b.Mode != "immediate" {
		return apperr.Invalid("mode", "webhook_rotate_mode", nil)
	}
	is, err := h.s.Rotate(c.UserContext(), auth.CallerOf(c), id, b.Mode != "immediate")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(is)
}

// APIDeliveries handles GET /api/v1/staff/webhooks/{id}/deliveries: the latest
// deliveries, newest first, each with its attempts.
func (h *Handler) APIDeliveries(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	_, ds, err := h.s.Get(c.UserContext(), auth.CallerOf(c), id, logSize)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": ds})
}

// APIReplay handles POST /api/v1/staff/webhooks/{id}/deliveries/{delivery}/replay → 202.
func (h *Handler) APIReplay(c *fiber.Ctx) error {
	id, did, err := httpserver.PathIDs(c, "id", "delivery")
	if err != nil {
		return err
	}
	d, err := h.s.Replay(c.UserContext(), auth.CallerOf(c), id, did)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(d)
}
