package provider

import (
	"bytes"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvimport"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// ExportFacilities downloads the facilities in scope as CSV.
func (h *Handler) ExportFacilities(c *fiber.Ctx) error {
	var buf bytes.Buffer
	if err := h.s.ExportFacilities(c.UserContext(), auth.CallerOf(c), &buf, httpserver.CSVEncoding(c)); err != nil {
		return err
	}
	// No charset here, unlike the other downloads: as this export always answered.
	return httpserver.SendAttachment(c, "einrichtungen.csv", "text/csv", buf.Bytes())
}

// ImportData is an import page: the form and the report of the last run.
type ImportData struct {
	Report  *csvimport.Report
	Columns []string
	Action  string
}

// ImportForm shows the facility import.
func (h *Handler) ImportForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "provider_import", "provider.import.title", view.NewForm(map[string]string{"dry_run": "1"}),
		ImportData{Columns: FacilityColumns})
}

// Import runs the facility import (or its dry run) and shows the report.
func (h *Handler) Import(c *fiber.Ctx) error {
	d := ImportData{Columns: FacilityColumns}
	var report *csvimport.Report
	up, err := httpserver.ReadUpload(c, ImportUpload)
	if err == nil {
		report, err = h.s.ImportFacilities(c.UserContext(), auth.CallerOf(c), bytes.NewReader(up.Content), httpserver.Checked(c, "dry_run"))
	}
	if err != nil {
		return h.forms.Failed(c, err, "provider_import", "provider.import.title", view.NewForm(nil), d)
	}
	d.Report = Translate(h.views, c, report)
	status := fiber.StatusOK
	if len(report.Problems) > 0 {
		status = fiber.StatusUnprocessableEntity
	}
	return h.forms.Show(c, status, "provider_import", "provider.import.title", view.NewForm(httpserver.FormValues(c, "dry_run")), d)
}

// ImportUpload is the file of the facility and contract import forms.
var ImportUpload = httpserver.UploadRules{Field: "file", MaxBytes: MaxImportBytes,
	Missing:  apperr.Invalid("file", "required", nil),
	TooLarge: apperr.Invalid("file", "csv_file_too_large", map[string]any{"max_mb": MaxImportBytes >> 20})}

// Translate fills the messages of a report's problems in the request's language.
func Translate(views *view.Renderer, c *fiber.Ctx, r *csvimport.Report) *csvimport.Report {
	lang, _ := c.Locals(view.LocalLang).(string)
	for i, p := range r.Problems {
		r.Problems[i].Message = views.Catalogue().T(lang, "error."+p.Code, p.Args)
	}
	return r
}
