package provider

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/platform/view"
)

// Handler serves the provider portal's pages (and its API, api.go).
type Handler struct {
	s     *Service
	views *view.Renderer
	forms view.Forms
	authz *authz.Enforcer
}

// NewHandler returns the provider portal's handlers; csrf gives a page's form token.
func NewHandler(s *Service, views *view.Renderer, csrf func(*fiber.Ctx) string, enforcer *authz.Enforcer) *Handler {
	return &Handler{s: s, views: views, forms: view.Forms{Views: views, CSRF: csrf}, authz: enforcer}
}

// Can tells whether the caller holds action in the host's tenant (to show or hide a
// button; the route's guard decides).
func Can(en *authz.Enforcer, c *fiber.Ctx, action string) bool {
	call := auth.CallerOf(c)
	return en != nil && call.Tenant != nil && en.Allowed(call.Principal, call.Tenant.ID.String(), action)
}

// Done is the confirmation a redirect asked for (?done=<key>, text "<prefix>.done.<key>"),
// when keys lists it.
func Done(views *view.Renderer, c *fiber.Ctx, prefix string, keys ...string) string {
	d := c.Query("done")
	for _, k := range keys {
		if d == k {
			lang, _ := c.Locals(view.LocalLang).(string)
			return views.Catalogue().T(lang, prefix+".done."+k, nil)
		}
	}
	return ""
}

// Frame is what every page about one facility shows: the facility, its tabs, the
// confirmation of the last change and what the caller may do.
type Frame struct {
	Facility     *Ref
	Tab          string
	Done         string
	CanEdit      bool
	CanContracts bool
}

func (h *Handler) frame(c *fiber.Ctx, f *Ref, tab, editAction string) Frame {
	return Frame{Facility: f, Tab: tab, CanEdit: Can(h.authz, c, editAction), CanContracts: Can(h.authz, c, "contract.read"),
		Done: Done(h.views, c, "provider", "saved", "photo_added", "photo_removed", "closure_added", "closure_removed",
			"group_created", "group_saved", "group_removed", "created")}
}

// homeData is the provider portal's start page.
type homeData struct {
	Facilities     []Ref
	CanImport      bool
	CanExport      bool
	CanTagespflege bool
	CanContracts   bool
	Done           string
}

// Home lists the facilities in scope with what can be done with them.
func (h *Handler) Home(c *fiber.Ctx) error {
	fs, err := h.s.Facilities(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	d := homeData{Facilities: fs, CanImport: Can(h.authz, c, "provider.facility.import"), CanExport: Can(h.authz, c, "provider.facility.export"),
		CanTagespflege: Can(h.authz, c, "provider.tagespflege.create"), CanContracts: Can(h.authz, c, "contract.read"),
		Done: Done(h.views, c, "provider", "imported")}
	return h.forms.Show(c, fiber.StatusOK, "provider_home", "provider.home.title", nil, d)
}

// Choice is a checkbox or option with its state.
type Choice struct {
	Value, Label string
	Checked      bool
}
