package application

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// DecideClaim confirms or rejects a facility criterion claimed for the caller's
// facility (form: decision, note).
func (h *Handler) DecideClaim(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	if _, err := h.s.DecideClaim(c.UserContext(), call, id, c.Params("criterion"), c.FormValue("decision"), c.FormValue("note")); err != nil {
		v, verr := h.s.Request(c.UserContext(), call, id)
		if verr != nil {
			return err
		}
		return h.forms.Failed(c, err, "staff_request", "requests.show.title", view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), v)
	}
	return c.Redirect("/staff/requests/"+id.String()+"?done=claim", fiber.StatusSeeOther)
}

// APIDecideClaim answers POST /api/v1/staff/requests/{id}/claims/{criterion}
// {decision: confirm|reject, note}.
func (h *Handler) APIDecideClaim(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Decision string `json:"decision"`
		Note     string `json:"note"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	v, err := h.s.DecideClaim(c.UserContext(), auth.CallerOf(c), id, c.Params("criterion"), b.Decision, b.Note)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}
