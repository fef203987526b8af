package childfile

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// Handler serves the records to staff: the pages (/staff/facilities/:id,
// /staff/children/:id) and the API (/api/v1/staff/facilities, …/children).
type Handler struct {
	s     *Service
	forms view.Forms
}

// NewHandler returns the records handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// Facility shows a facility in scope with its children (audited).
func (h *Handler) Facility(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v, err := h.s.Facility(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_facility", "staff.facility.title", nil, v)
}

// Child shows a child's record (audited).
func (h *Handler) Child(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v, err := h.s.Child(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_child", "staff.child.title", nil, v)
}

// APIFacilities handles GET /api/v1/staff/facilities.
func (h *Handler) APIFacilities(c *fiber.Ctx) error {
	items, err := h.s.Facilities(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": httpserver.List(items)})
}

// APIFacility handles GET /api/v1/staff/facilities/{id}: the facility with its children.
func (h *Handler) APIFacility(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v, err := h.s.Facility(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	v.Children = httpserver.List(v.Children)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}

// APIChild handles GET /api/v1/staff/children/{id}.
func (h *Handler) APIChild(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v, err := h.s.Child(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}
