package retention

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/view"
)

// Handler serves the dry-run report and its confirmation (/staff/retention) and the
// records of processing (/staff/processing) to the tenant admin, each with its API twin.
type Handler struct {
	s     *Service
	forms view.Forms
}

// NewHandler returns the retention and processing-records handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	h := &Handler{s: s, forms: view.Forms{Views: views}}
	if authn != nil {
		h.forms.CSRF = authn.CSRFToken
	}
	return h
}

// Page shows what the next run would delete, and the confirm button until confirmed.
func (h *Handler) Page(c *fiber.Ctx) error {
	r, err := h.s.DryRun(c.UserContext(), auth.CallerOf(c).Tenant)
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_retention", "retention.title", view.NewForm(nil), r)
}

// Confirm enables the job after the admin saw the dry run.
func (h *Handler) Confirm(c *fiber.Ctx) error {
	if _, err := h.s.Enable(c.UserContext(), auth.CallerOf(c)); err != nil {
		return err
	}
	return c.Redirect("/staff/retention", fiber.StatusSeeOther)
}

// reportJSON is the API's dry-run report.
func reportJSON(r Report) fiber.Map {
	return fiber.Map{"enabled_at": r.EnabledAt, "last_run_at": r.LastRunAt, "periods": r.Periods, "counts": r.Counts}
}

// APIReport handles GET /api/v1/staff/retention.
func (h *Handler) APIReport(c *fiber.Ctx) error {
	r, err := h.s.DryRun(c.UserContext(), auth.CallerOf(c).Tenant)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(reportJSON(r))
}

// APIConfirm handles POST /api/v1/staff/retention/confirm.
func (h *Handler) APIConfirm(c *fiber.Ctx) error {
	r, err := h.s.Enable(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(reportJSON(r))
}

// Processing shows the city's records of processing (Art. 30) in the page's language.
func (h *Handler) Processing(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "staff_processing", "processing.title", view.NewForm(nil),
		RecordsFor(auth.CallerOf(c).Tenant, lang(c)))
}

// APIProcessing handles GET /api/v1/staff/processing (?lang=de|en).
func (h *Handler) APIProcessing(c *fiber.Ctx) error {
	lang := c.Query("lang", "de")
	if lang != "en" {
		lang = "de"
	}
	return c.JSON(RecordsFor(auth.CallerOf(c).Tenant, lang))
}

func lang(c *fiber.Ctx) string {
	l, _ := c.Locals(view.LocalLang).(string)
	return l
}
