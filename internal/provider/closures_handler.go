package provider

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
)

// AddClosure records closing days.
func (h *Handler) AddClosure(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v := httpserver.FormValues(c, "first_day", "last_day", "reason")
	var errs apperr.List
	cl := Closure{Reason: v["reason"]}
	var e *apperr.Error
	if cl.FirstDay, e = ParseDay("first_day", v["first_day"], true); e != nil {
		errs = append(errs, e)
	}
	if cl.LastDay, e = ParseDay("last_day", v["last_day"], true); e != nil {
		errs = append(errs, e)
	}
	err = errs.Err()
	if err == nil {
		err = h.s.AddClosure(c.UserContext(), auth.CallerOf(c), id, cl)
	}
	if err != nil {
		return h.profilePage(c, 0, nil, v, err)
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/profile?done=closure_added#closures", fiber.StatusSeeOther)
}

// RemoveClosure deletes closing days.
func (h *Handler) RemoveClosure(c *fiber.Ctx) error {
	id, closure, err := httpserver.PathIDs(c, "id", "closure")
	if err != nil {
		return err
	}
	if err := h.s.RemoveClosure(c.UserContext(), auth.CallerOf(c), id, closure); err != nil {
		return err
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/profile?done=closure_removed#closures", fiber.StatusSeeOther)
}
