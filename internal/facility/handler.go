package facility

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/favourite"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/search"
	"kitaportal/internal/tenant"
)

// Handler serves the profile page, photos, the Merkliste and the profile API.
type Handler struct {
	svc    *Service
	search *search.Service
	views  *view.Renderer
	lists  *favourite.Lists
}

// NewHandler returns the facility handlers.
func NewHandler(svc *Service, s *search.Service, views *view.Renderer, lists *favourite.Lists) *Handler {
	return &Handler{svc: svc, search: s, views: views, lists: lists}
}

// child reads the optional child of the query.
func (h *Handler) child(c *fiber.Ctx, t *tenant.Tenant) (*search.Child, error) {
	ch, ok, err := h.search.ParseChild(t, search.Values(c))
	if err != nil || !ok {
		return nil, err
	}
	return &ch, nil
}
