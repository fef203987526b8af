package application

import (
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/csvfile"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// The staff pages of requests: lists per facility and city, one request with the
// facility's decisions, CSV export.

// requestsData is the request list page.
type requestsData struct {
	Rows       []RequestRow
	Query      string // the filter as a query string, for the export link
	Facilities []FacilityOption
	CareScopes []int
	Limited    bool     // the list hit MaxRequestRows
	TieBreaks  []string // the city's order of precedence, said above the list
	Lottery    bool     // …ending in a lottery, drawn only in a round
}

// Requests lists the requests in the caller's scope.
func (h *Handler) Requests(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	form := view.NewForm(map[string]string{"facility": c.Query("facility"), "status": c.Query("status"), "start_from": c.Query("start_from"),
		"start_to": c.Query("start_to"), "care_hours": c.Query("care_hours"), "sort": c.Query("sort")})
	d := requestsData{Query: string(c.Request().URI().QueryString()), CareScopes: call.Tenant.Rules.CareScopes,
		TieBreaks: call.Tenant.Rules.Criteria.TieBreaks, Lottery: slices.Contains(call.Tenant.Rules.Criteria.TieBreaks, tenant.TieBreakLottery)}
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
	return httpserver.SendCSV(c, "vormerkungen.csv", csvfile.UTF8, func(w *csvfile.Writer) error {
		return writeExport(w, rows)
	})
}

// writeExport writes the requests of Export, one line each.
func writeExport(w *csvfile.Writer, rows []RequestRow) error {
	_ = w.Write("aktenzeichen", "kind_vorname", "kind_nachname", "geburtsdatum", "beginn", "betreuungsumfang", "rang",
		"einrichtung", "status_wunsch", "status", "punkte", "eingegangen", "quelle", "moegliches_duplikat")
	for _, r := range rows {
		submitted := ""
		if r.SubmittedAt != nil {
			submitted = r.SubmittedAt.In(clock.Berlin).Format("2006-01-02 15:04")
		}
		_ = w.Write(r.Reference, r.FirstName, r.LastName, r.BirthDate.String(), r.StartDate.String(),
			strconv.Itoa(r.CareHours), strconv.Itoa(r.Rank), r.Facility, string(r.ChoiceStatus), string(r.Status), strconv.Itoa(r.Points),
			submitted, r.Source, strconv.FormatBool(r.Duplicate))
	}
	return w.Flush()
}

// Request shows one request to staff.
func (h *Handler) Request(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
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
	id, err := httpserver.PathID(c, "id")
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
		return h.forms.Failed(c, err, "staff_request", "requests.show.title", view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), v)
	}
	return c.Redirect("/staff/requests/"+id.String()+"?done=decided", fiber.StatusSeeOther)
}
