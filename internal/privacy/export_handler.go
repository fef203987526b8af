package privacy

import (
	"io"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/storage"
)

// ExportHandler serves the parent's export: the page that asks for one and lists those
// that can be downloaded (/account/export), the downloads and the API (/api/v1/me/export…).
type ExportHandler struct {
	*Handler
	files storage.Storage
}

// NewExportHandler returns the export's handlers over h's service and views.
func NewExportHandler(h *Handler, files storage.Storage) *ExportHandler {
	return &ExportHandler{Handler: h, files: files}
}

// exportView is one export as the account page lists it.
type exportView struct {
	Export
	Ready   bool
	JSONURL string
	PDFURL  string
}

// exportData is what the export page shows.
type exportData struct{ Exports []exportView }

func (h *ExportHandler) views(c *fiber.Ctx) (exportData, error) {
	es, err := h.s.Exports(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return exportData{}, err
	}
	now := h.s.clock.Now()
	d := exportData{}
	for _, e := range es {
		v := exportView{Export: e, Ready: e.Ready(now)}
		if v.Ready {
			v.JSONURL = "/account/export/" + e.ID.String() + "/json"
			v.PDFURL = "/account/export/" + e.ID.String() + "/pdf"
		}
		d.Exports = append(d.Exports, v)
	}
	return d, nil
}

// Page explains the export and lists the account's exports.
func (h *ExportHandler) Page(c *fiber.Ctx) error {
	d, err := h.views(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.forms.Show(c, fiber.StatusOK, "account_export", "privacy.export.title", nil, d)
}

// Request asks for a new export and returns to the page.
func (h *ExportHandler) Request(c *fiber.Ctx) error {
	if _, err := h.s.RequestExport(c.UserContext(), auth.CallerOf(c)); err != nil {
		return err
	}
	return c.Redirect("/account/export", fiber.StatusSeeOther)
}

// Download sends one file of an export (:format json or pdf).
func (h *ExportHandler) Download(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	format := c.Params("format")
	key, name, err := h.s.Download(c.UserContext(), auth.CallerOf(c), id, format)
	if err != nil {
		return err
	}
	r, err := h.files.Open(c.UserContext(), key)
	if err != nil {
		return err
	}
	defer r.Close()
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ct := "application/json"
	if format == "pdf" {
		ct = "application/pdf"
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(body)
}

// APIRequest handles POST /api/v1/me/export: 202 with the export being made.
func (h *ExportHandler) APIRequest(c *fiber.Ctx) error {
	e, err := h.s.RequestExport(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(h.apiExport(e))
}

// APIList handles GET /api/v1/me/exports.
func (h *ExportHandler) APIList(c *fiber.Ctx) error {
	es, err := h.s.Exports(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	out := make([]fiber.Map, 0, len(es))
	for _, e := range es {
		out = append(out, h.apiExport(e))
	}
	return c.JSON(fiber.Map{"exports": out})
}

func (h *ExportHandler) apiExport(e Export) fiber.Map {
	m := fiber.Map{"id": e.ID, "status": e.Status, "created_at": e.CreatedAt, "expires_at": e.ExpiresAt}
	if e.Ready(h.s.clock.Now()) {
		base := "/api/v1/me/exports/" + e.ID.String()
		m["json_url"], m["pdf_url"] = base+"/json", base+"/pdf"
	}
	return m
}
