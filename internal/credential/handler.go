package credential

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// Handler serves the tenant admin's credential pages and their JSON twins.
type Handler struct {
	s     *Service
	views *view.Renderer
	forms view.Forms
}

// NewHandler returns the credential handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, views: views, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// ScopeOption is one checkbox of the form.
type ScopeOption struct {
	Name    string
	Checked bool
}

// pageData is the credentials page; Issued is set on the page that shows a secret once.
type pageData struct {
	Credentials []Credential
	Scopes      []ScopeOption
	Issued      *Issued
	Rotated     bool
	Host        string // the city's host, for the example call
}

func (h *Handler) page(c *fiber.Ctx, status int, f *view.Form, checked []string, failure error) error {
	call := auth.CallerOf(c)
	items, err := h.s.List(c.UserContext(), call)
	if err != nil {
		return err
	}
	d := pageData{Credentials: items}
	for _, s := range h.s.Available(call) {
		o := ScopeOption{Name: s.Name}
		for _, n := range checked {
			o.Checked = o.Checked || n == s.Name
		}
		d.Scopes = append(d.Scopes, o)
	}
	if failure != nil {
		return h.forms.Failed(c, failure, "staff_credentials", "credential.title", f, d)
	}
	return h.forms.Show(c, status, "staff_credentials", "credential.title", f, d)
}

// List shows the city's machine credentials and the form for a new one.
func (h *Handler) List(c *fiber.Ctx) error { return h.page(c, fiber.StatusOK, nil, nil, nil) }

// Create makes a key and shows its secret, once (the answer is never cached).
func (h *Handler) Create(c *fiber.Ctx) error {
	in := New{Name: c.FormValue("name"), Scopes: httpserver.PostedList(c, "scopes")}
	is, err := h.s.Create(c.UserContext(), auth.CallerOf(c), in)
	if err != nil {
		return h.page(c, 0, view.NewForm(map[string]string{"name": in.Name}), in.Scopes, err)
	}
	return h.secret(c, is, false)
}

// Rotate gives a key a new secret and shows it, once.
func (h *Handler) Rotate(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	is, err := h.s.Rotate(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return h.changeFailed(c, err)
	}
	return h.secret(c, is, true)
}

// Revoke ends a key.
func (h *Handler) Revoke(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.s.Revoke(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return h.changeFailed(c, err)
	}
	return c.Redirect("/staff/credentials?done=credential_revoked", fiber.StatusSeeOther)
}

// changeFailed shows the list with the problem (a key revoked meanwhile); unknown ids
// and the rest go to the error handler.
func (h *Handler) changeFailed(c *fiber.Ctx, err error) error {
	if errors.Is(err, ErrRevoked) {
		return h.page(c, 0, view.NewForm(nil), nil, err)
	}
	return err
}

func (h *Handler) secret(c *fiber.Ctx, is *Issued, rotated bool) error {
	p := h.views.NewPage(c, "", pageData{Issued: is, Rotated: rotated, Host: hostOf(c)})
	p.Title = p.T("credential.secret.title")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.views.RenderPage(c, fiber.StatusOK, "staff_credential_secret", p)
}

// API: the same operations for a tenant admin's bearer token.

type createBody struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// scopeInfo describes a scope in the API's answers.
type scopeInfo struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

// APIList handles GET /api/v1/staff/credentials: the keys (never secrets) and the
// scopes the caller may hand out.
func (h *Handler) APIList(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	items, err := h.s.List(c.UserContext(), call)
	if err != nil {
		return err
	}
	scopes := []scopeInfo{}
	for _, s := range h.s.Available(call) {
		scopes = append(scopes, scopeInfo{s.Name, s.Permissions})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": httpserver.List(items), "scopes": scopes})
}

// APICreate handles POST /api/v1/staff/credentials {name, scopes} → 201 with the secret.
func (h *Handler) APICreate(c *fiber.Ctx) error {
	var b createBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	is, err := h.s.Create(c.UserContext(), auth.CallerOf(c), New{Name: b.Name, Scopes: b.Scopes})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(is)
}

// APIRotate handles POST /api/v1/staff/credentials/{id}/rotate → the new secret.
func (h *Handler) APIRotate(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	is, err := h.s.Rotate(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(is)
}

// APIRevoke handles POST /api/v1/staff/credentials/{id}/revoke.
func (h *Handler) APIRevoke(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	cr, err := h.s.Revoke(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(cr)
}

// hostOf is the host the request came to (the city's; tenant resolution has checked it).
func hostOf(c *fiber.Ctx) string {
	if t := auth.CallerOf(c).Tenant; t != nil {
		return string(c.Request().Host())
	}
	return ""
}
