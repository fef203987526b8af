package privacy

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/account"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// Handler serves the data rights to parents: the account deletion page
// (/account/delete) and its API (DELETE /api/v1/me).
type Handler struct {
	s     *Service
	views *view.Renderer
	authn *auth.Authenticator
	forms view.Forms
}

// NewHandler returns the data rights' handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, views: views, authn: authn, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// DeleteForm explains what deleting the account removes and keeps.
func (h *Handler) DeleteForm(c *fiber.Ctx) error {
	d, err := h.deleteData(c)
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "account_delete", "account.delete.title", nil, d)
}

// deleteData says how the parent confirms: with the password, or with the e-mail address
// when the account signs in only through the city's identity provider.
type deleteData struct{ NoPassword bool }

func (h *Handler) deleteData(c *fiber.Ctx) (deleteData, error) {
	has, err := h.s.accounts.HasPassword(c.UserContext(), auth.CallerOf(c))
	return deleteData{NoPassword: !has}, err
}

// Delete deletes the account after the password check.
func (h *Handler) Delete(c *fiber.Ctx) error {
	res, err := h.s.DeleteAccount(c.UserContext(), auth.CallerOf(c), c.FormValue("current_password"))
	if err != nil {
		d, derr := h.deleteData(c)
		if derr != nil {
			return derr
		}
		return h.forms.Failed(c, err, "account_delete", "account.delete.title", view.NewForm(nil), d)
	}
	h.authn.ClearSessionCookie(c)
	p := h.views.NewPage(c, "", nil)
	p.Title = p.T("account.deleted.title")
	p.Data = account.MessageData{Heading: p.Title, Text: p.T(deletedText(res)), LinkURL: "/", LinkLabel: p.T("error.page.home")}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.views.RenderPage(c, fiber.StatusOK, "message", p)
}

// APIDelete handles DELETE /api/v1/me (body: current_password).
func (h *Handler) APIDelete(c *fiber.Ctx) error {
	var b struct {
		CurrentPassword string `json:"current_password"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	call := auth.CallerOf(c)
	res, err := h.s.DeleteAccount(c.UserContext(), call, b.CurrentPassword)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "deleted", "families_deleted": res.FamiliesDeleted, "families_kept": res.FamiliesKept,
		"message": h.views.Catalogue().T(call.Lang, deletedText(res), nil)})
}

// deletedText is the message key of a deletion done: whether data was kept.
func deletedText(res Deletion) string {
	if res.FamiliesKept > 0 {
		return "account.deleted.text_kept"
	}
	return "account.deleted.text"
}
