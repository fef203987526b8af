package application

import (
	"bytes"
	"io"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/csvfile"
	"kitaportal/internal/platform/view"
)

// The staff pages of requests: lists per facility and city, one request with the
// facility's decisions, CSV export, walk-in registration, tickets, duplicates, imports.

// requestsData is the request list page.
type requestsData struct {
	Rows       []RequestRow
	Query      string // the filter as a query string, for the export link
	Facilities []FacilityOption
	CareScopes []int
	Limited    bool // the list hit MaxRequestRows
}

// Requests lists the requests in the caller's scope.
func (h *Handler) Requests(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	form := view.NewForm(map[string]string{"facility": c.Query("facility"), "status": c.Query("status"), "start_from": c.Query("start_from"),
		"start_to": c.Query("start_to"), "care_hours": c.Query("care_hours"), "sort": c.Query("sort")})
	d := requestsData{Query: string(c.Request().URI().QueryString()), CareScopes: call.Tenant.Rules.CareScopes}
	facs, err := h.s.StaffFacilities(c.UserContext(), call)
	if err != nil {
		return err
	}
	d.Facilities = facs
	f, err := ParseFilter(func(k string) string { return c.Query(k) })
	if err != nil {
		return h.forms.Failed(c, err, "staff_requests", "requests.title", form, d)
	}
	if d.Rows, err = h.s.Requests(c.UserContext(), call, f); err != nil {
		return err
	}
	d.Limited = len(d.Rows) >= MaxRequestRows
	return h.forms.Show(c, fiber.StatusOK, "staff_requests", "requests.title", form, d)
}

// ExportCSV downloads the list as CSV (UTF-8 with BOM and semicolons: Excel in Germany
// opens it as it is).
func (h *Handler) ExportCSV(c *fiber.Ctx) error {
	f, err := ParseFilter(func(k string) string { return c.Query(k) })
	if err != nil {
		return err
	}
	rows, err := h.s.Export(c.UserContext(), auth.CallerOf(c), f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w, err := csvfile.NewWriter(&buf, csvfile.UTF8)
	if err != nil {
		return err
	}
	_ = w.Write("aktenzeichen", "kind_vorname", "kind_nachname", "geburtsdatum", "beginn", "betreuungsumfang", "rang",
		"einrichtung", "status_wunsch", "status", "punkte", "eingegangen", "quelle", "moegliches_duplikat")
	for _, r := range rows {
		submitted := ""
		if r.SubmittedAt != nil {
			submitted = r.SubmittedAt.In(clock.Berlin).Format("2006-01-02 15:04")
		}
		_ = w.Write(r.Reference, r.FirstName, r.LastName, r.BirthDate.String(), r.StartDate.String(),
			strconv.Itoa(r.CareHours), strconv.Itoa(r.Rank), r.Facility, r.ChoiceStatus, r.Status, strconv.Itoa(r.Points),
			submitted, r.Source, strconv.FormatBool(r.Duplicate))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="vormerkungen.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// Request shows one request to staff.
func (h *Handler) Request(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	v, err := h.s.Request(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_request", "requests.show.title", nil, v)
}

// Decide records a facility's decision on one choice.
func (h *Handler) Decide(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	rank, _ := strconv.Atoi(c.FormValue("rank"))
	call := auth.CallerOf(c)
	if _, err := h.s.Decide(c.UserContext(), call, id, rank, c.FormValue("action"), c.FormValue("note")); err != nil {
		v, verr := h.s.Request(c.UserContext(), call, id)
		if verr != nil {
			return err
		}
		return h.forms.Failed(c, err, "staff_request", "requests.show.title", formValuesOf(c), v)
	}
	return c.Redirect("/staff/requests/"+id.String()+"?done=decided", fiber.StatusSeeOther)
}

// walkInData is the walk-in form.
type walkInData struct {
	*formData
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
	return h.forms.Show(c, fiber.StatusOK, "staff_walkin", "walkin.title", view.NewForm(v), walkInData{formData: d})
}

// staffFormData is the application form's data for staff: every facility of the city.
func (h *Handler) staffFormData(c *fiber.Ctx) (*formData, error) {
	call := auth.CallerOf(c)
	facs, err := h.s.CityFacilities(c.UserContext(), call)
	if err != nil {
		return nil, err
	}
	r := call.Tenant.Rules
	d := &formData{Options: &FormOptions{Facilities: facs}, Rules: r, Criteria: r.Criteria.Catalogue}
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
	in, _ := inputOf(c, call.Tenant.Rules)
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
		return h.forms.Failed(c, err, "staff_walkin", "walkin.title", formValuesOf(c), walkInData{formData: d})
	}
	return h.forms.Show(c, fiber.StatusCreated, "staff_walkin", "walkin.done.title", nil, walkInData{formData: d, Result: res})
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
	id, err := pathID(c)
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
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, apperr.Invalid("file", "file_required", nil)
	}
	if fh.Size > MaxImportBytes {
		return nil, apperr.New(apperr.KindTooLarge, "file_too_large").WithArgs(map[string]any{"max_mb": MaxImportBytes >> 20}).WithField("file")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, MaxImportBytes+1))
	if err != nil {
		return nil, err
	}
	return h.s.StartImport(c.UserContext(), call, fh.Filename, content, c.FormValue("dry_run") == "yes")
}

// ImportStatus shows an import's progress (the page reloads itself while it runs) and
// its refused rows.
func (h *Handler) ImportStatus(c *fiber.Ctx) error {
	id, err := pathID(c)
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
	id, err := pathID(c)
	if err != nil {
		return err
	}
	job, err := h.s.RunAgain(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return c.Redirect("/staff/imports/"+job.ID.String(), fiber.StatusSeeOther)
}
