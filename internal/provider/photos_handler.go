package provider

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
)

// AddPhoto takes an uploaded photo.
func (h *Handler) AddPhoto(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	alt := c.FormValue("alt")
	err = apperr.Invalid("photo", "required", nil)
	if fh, ferr := c.FormFile("photo"); ferr == nil {
		file, ferr := fh.Open()
		if ferr != nil {
			return ferr
		}
		defer file.Close()
		err = h.s.AddPhoto(c.UserContext(), auth.CallerOf(c), id, alt, file)
	}
	if err != nil {
		return h.profilePage(c, 0, nil, map[string]string{"alt": alt}, err)
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/profile?done=photo_added#photos", fiber.StatusSeeOther)
}

// RemovePhoto deletes a photo.
func (h *Handler) RemovePhoto(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	n, err := httpserver.PathNumber(c, "n", 1, 20)
	if err != nil {
		return err
	}
	if err := h.s.RemovePhoto(c.UserContext(), auth.CallerOf(c), id, n); err != nil {
		return err
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/profile?done=photo_removed#photos", fiber.StatusSeeOther)
}
