package casework

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// Handler serves the case workers' pages and API: walk-in registration, duplicates and
// waitlist imports (bearer tokens of staff with their second factor for the API; the
// same services and scopes as the pages).
type Handler struct {
	s     *Service
	forms view.Forms
}

// NewHandler returns the case work handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// walkInData is the walk-in form.
type walkInData struct {
	*application.FormData
	Result *WalkInResult
}

// WalkInForm shows the form for a registration on site.
func (h *Handler) WalkInForm(c *fiber.Ctx) error {
	d, err := h.staffFormData(c)
	if err != nil {
		return err
	}
	v := map[string]string{"consent.given_at": time.Now().In(clock.Berlin).Format("2006-01-02T15:04"), "consent.method": "signed_form"}
	if f := c.Query("facility"); f != "" {
		v["choice.0"] = f
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_walkin", "walkin.title", view.NewForm(v), walkInData{FormData: d})
}

// staffFormData is the application form's data for staff: every facility of the city.
func (h *Handler) staffFormData(c *fiber.Ctx) (*application.FormData, error) {
	call := auth.CallerOf(c)
	facs, err := h.s.apps.CityFacilities(c.UserContext(), call)
	if err != nil {
		return nil, err
	}
	r := call.Tenant.Rules
	d := &application.FormData{Options: &application.FormOptions{Facilities: facs}, Rules: r, Criteria: r.Criteria.Catalogue}
	for i := 0; i < r.Registration.MaxChoices; i++ {
		d.KitaSlots = append(d.KitaSlots, i)
		if r.Registration.TagespflegeExtraChoice {
			d.ExtraSlots = append(d.ExtraSlots, r.Registration.MaxChoices+i)
		}
	}
	return d, nil
}

// WalkIn files the registration and shows the linking code to hand over.
func (h *Handler) WalkIn(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	in, _ := application.InputOf(c, call.Tenant.Rules)
	w := WalkIn{
		Family: family.Input{
			Address: family.AddressInput{Street: c.FormValue("street"), HouseNumber: c.FormValue("house_number"), PLZ: c.FormValue("plz"), City: c.FormValue("city")},
			Guardians: []family.GuardianInput{{FirstName: c.FormValue("guardians.0.first_name"), LastName: c.FormValue("guardians.0.last_name"),
				Email: c.FormValue("guardians.0.email"), Phone: c.FormValue("guardians.0.phone")}},
		},
		Child: family.ChildInput{FirstName: c.FormValue("first_name"), LastName: c.FormValue("last_name"), BirthDate: c.FormValue("birth_date"),
			SpecialNeeds: c.FormValue("special_needs"), SpecialNeedsConsent: c.FormValue("special_needs_consent") == "yes"},
		Request: in,
		Consent: ConsentInput{GivenBy: c.FormValue("consent.given_by"), GivenAt: c.FormValue("consent.given_at"),
			Method: c.FormValue("consent.method"), Note: c.FormValue("consent.note")},
	}
	res, err := h.s.WalkIn(c.UserContext(), call, w)
	d, derr := h.staffFormData(c)
	if derr != nil {
		return derr
	}
	if err != nil {
		return h.forms.Failed(c, err, "staff_walkin", "walkin.title", view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), walkInData{FormData: d})
	}
	return h.forms.Show(c, fiber.StatusCreated, "staff_walkin", "walkin.done.title", nil, walkInData{FormData: d, Result: res})
}

// Duplicates lists the open duplicate flags.
func (h *Handler) Duplicates(c *fiber.Ctx) error {
	ds, err := h.s.Duplicates(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_duplicates", "duplicates.title", nil, ds)
}

// ResolveDuplicate merges or dismisses a flag.
func (h *Handler) ResolveDuplicate(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	keep, _ := uuid.Parse(c.FormValue("keep"))
	call := auth.CallerOf(c)
	if err := h.s.ResolveDuplicate(c.UserContext(), call, id, c.FormValue("decision") == "merge", keep); err != nil {
		ds, lerr := h.s.Duplicates(c.UserContext(), call)
		if lerr != nil {
			return err
		}
		return h.forms.Failed(c, err, "staff_duplicates", "duplicates.title", view.NewForm(nil), ds)
	}
	return c.Redirect("/staff/duplicates?done=duplicate_resolved", fiber.StatusSeeOther)
}

// importsData is the import page.
type importsData struct {
	Jobs []ImportJob
	Job  *ImportJob
}

// Imports shows the upload form and recent imports.
func (h *Handler) Imports(c *fiber.Ctx) error {
	jobs, err := h.s.Imports(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_imports", "imports.title", view.NewForm(map[string]string{"dry_run": "yes"}), importsData{Jobs: jobs})
}

// Upload starts an import from the uploaded file.
func (h *Handler) Upload(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	job, err := h.upload(c, call)
	if err != nil {
		jobs, lerr := h.s.Imports(c.UserContext(), call)
		if lerr != nil {
			return err
		}
		return h.forms.Failed(c, err, "staff_imports", "imports.title", view.NewForm(map[string]string{"dry_run": c.FormValue("dry_run")}), importsData{Jobs: jobs})
	}
	return c.Redirect("/staff/imports/"+job.ID.String(), fiber.StatusSeeOther)
}

func (h *Handler) upload(c *fiber.Ctx, call auth.Caller) (*ImportJob, error) {
	up, err := httpserver.ReadUpload(c, waitlistUpload)
	if err != nil {
		return nil, err
	}
	return h.s.StartImport(c.UserContext(), call, up.Filename, up.Content, c.FormValue("dry_run") == "yes")
}

// waitlistUpload is the file of the waitlist import form.
var waitlistUpload = httpserver.UploadRules{Field: "file", MaxBytes: MaxImportBytes,
	Missing:  apperr.Invalid("file", "file_required", nil),
	TooLarge: apperr.New(apperr.KindTooLarge, "file_too_large").WithArgs(map[string]any{"max_mb": MaxImportBytes >> 20}).WithField("file")}

// ImportStatus shows an import's progress (the page reloads itself while it runs) and
// its refused rows.
func (h *Handler) ImportStatus(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	job, err := h.s.Import(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_import", "imports.job.title", nil, importsData{Job: job})
}

// RunImport imports a dry run's file for real.
func (h *Handler) RunImport(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	job, err := h.s.RunAgain(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return c.Redirect("/staff/imports/"+job.ID.String(), fiber.StatusSeeOther)
}

// walkInBody is a walk-in registration in JSON.
type walkInBody struct {
	Family      family.Input      `json:"family"`
	Child       family.ChildInput `json:"child"`
	Application application.Body  `json:"application"`
	Consent     struct {
		GivenBy string `json:"given_by"`
		GivenAt string `json:"given_at"`
		Method  string `json:"method"`
		Note    string `json:"note"`
	} `json:"consent"`
}

// APIWalkIn answers POST /api/v1/staff/walk-ins: 201 with reference and linking code.
func (h *Handler) APIWalkIn(c *fiber.Ctx) error {
	var b walkInBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	res, err := h.s.WalkIn(c.UserContext(), auth.CallerOf(c), WalkIn{Family: b.Family, Child: b.Child, Request: b.Application.Input(),
		Consent: ConsentInput(b.Consent)})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(res)
}

// APIDuplicates answers GET /api/v1/staff/duplicates.
func (h *Handler) APIDuplicates(c *fiber.Ctx) error {
	ds, err := h.s.Duplicates(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": ds})
}

// APIResolveDuplicate answers POST /api/v1/staff/duplicates/{id} {decision, keep}.
func (h *Handler) APIResolveDuplicate(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Decision string    `json:"decision"` // merge | dismiss
		Keep     uuid.UUID `json:"keep"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.ResolveDuplicate(c.UserContext(), auth.CallerOf(c), id, b.Decision == "merge", b.Keep); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "resolved"})
}

// APIImport answers POST /api/v1/staff/imports/waitlist?dry_run=true&name=…: the body
// is the CSV file; 202 with the job.
func (h *Handler) APIImport(c *fiber.Ctx) error {
	name := c.Query("name", "waitlist.csv")
	job, err := h.s.StartImport(c.UserContext(), auth.CallerOf(c), name, c.Body(), c.QueryBool("dry_run"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(job)
}

// APIImportStatus answers GET /api/v1/staff/imports/{id}.
func (h *Handler) APIImportStatus(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	job, err := h.s.Import(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(job)
}
