package report

import (
	"bytes"
	"html/template"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/care"
	"kitaportal/internal/platform/csvfile"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// The actions of the demand planning (config/permissions.yaml) a page asks about.
const (
	PermRead     = "planning.read"
	PermExport   = "planning.export"
	PermUnserved = "planning.unserved"
)

// XLSXType is the Content-Type of an Excel workbook.
const XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Handler serves the demand planning's pages, exports and API. It parses, calls the
// service and renders; the route's guard has checked the action.
type Handler struct {
	s     *Service
	views *view.Renderer
	forms view.Forms
	authz *authz.Enforcer
}

// NewHandler returns the handlers; csrf gives a page's form token.
func NewHandler(s *Service, views *view.Renderer, csrf func(*fiber.Ctx) string, en *authz.Enforcer) *Handler {
	return &Handler{s: s, views: views, forms: view.Forms{Views: views, CSRF: csrf}, authz: en}
}

func lang(c *fiber.Ctx) string {
	l, _ := c.Locals(view.LocalLang).(string)
	return l
}

func (h *Handler) filter(c *fiber.Ctx) (Filter, error) {
	return ParseFilter(func(k string) string { return c.Query(k) }, tenant.FromFiber(c).Rules, h.s.Today())
}

// labels are the words of the exports in the request's language.
func (h *Handler) labels(c *fiber.Ctx) Labels {
	l, r, cat := lang(c), tenant.FromFiber(c).Rules, h.views.Catalogue()
	return Labels{
		T:        func(key string) string { return cat.T(l, key, nil) },
		Band:     func(key string) string { return care.BandLabel(r, key, l) },
		District: func(key string) string { return districtName(r, key, cat.T(l, "planning.district.none", nil)) },
		Type:     func(key string) string { return cat.T(l, "staff.type."+key, nil) },
	}
}

func districtName(r *tenant.Rules, key, none string) string {
	if d, ok := r.District(key); ok {
		return d.Name
	}
	return none
}

// ---- The page.

// pageData is the Bedarfsplanung page.
type pageData struct {
	Report        *Report
	Query         template.URL // the filter as a query, for the exports and the drill-down
	Districts     []tenant.District
	Bands         []option
	Scopes        []int
	ProviderKinds []option
	Months        []string // labels of the report's months
	Overview      template.HTML
	OverviewRows  []overviewRow
	Sections      []section
	Facilities    []facilityRow // the drill-down: each facility in the first month
	Facility      *FacilitySeries
	Total         []bandTable
	Waits         []waitRow
	Tickets       []ticketRow
	CanUnserved   bool
	CanExport     bool
	FirstMonth    string
}

// waitRow is a line of the waiting times' table, its values as the page prints them.
type waitRow struct {
	Label string
	WaitingTime
	Median, P90, Share string
}

// ticketRow is a line of the tickets' table.
type ticketRow struct {
	TicketQuota
	Year, BandLabel string
}

type option struct{ Value, Label string }

// overviewRow is a district in the overview chart's table.
type overviewRow struct {
	Key, Name string
	Figures
}

// section is one district: its chart and a table per band.
type section struct {
	Key, Name string
	ChartID   string
	Chart     template.HTML
	Tables    []bandTable
}

type bandTable struct {
	Band, Label string
	Months      []monthRow
}

type monthRow struct {
	Label string
	Month
}

type facilityRow struct {
	Link template.URL
	FacilitySeries
	First Figures
}

// CoverageText is the coverage as a percentage, "–" without need.
func (f Figures) CoverageText() string {
	if f.Coverage == nil {
		return "–"
	}
	return strconv.Itoa(int(*f.Coverage*100+0.5)) + " %"
}

// monthLabel is "Januar 2027"; short is "01/27" for a chart's axis.
func (h *Handler) monthLabel(l string, m date.Date, short bool) string {
	if short {
		return m.String()[5:7] + "/" + m.String()[2:4]
	}
	return h.views.Catalogue().T(l, "month."+strconv.Itoa(int(m.Month())), nil) + " " + strconv.Itoa(m.Year())
}

func (h *Handler) formData(c *fiber.Ctx) pageData {
	r, l := tenant.FromFiber(c).Rules, lang(c)
	d := pageData{Districts: r.Districts, Scopes: r.CareScopes, CanUnserved: provider.Can(h.authz, c, PermUnserved),
		CanExport: provider.Can(h.authz, c, PermExport)}
	for _, b := range r.AgeBands {
		d.Bands = append(d.Bands, option{b.Key, b.Label.In(l)})
	}
	for _, k := range care.ProviderKinds {
		d.ProviderKinds = append(d.ProviderKinds, option{k, h.views.Catalogue().T(l, "search.provider."+k, nil)})
	}
	return d
}

func formValues(c *fiber.Ctx) *view.Form {
	return view.NewForm(httpserver.FormValues(c, "from", "months", "district", "band", "hours", "provider_kind", "facility"))
}

// Page shows the demand planning: filters, the coverage of every district as a chart,
// each district's chart and tables, the drill-down to facilities, waiting times, tickets
// and how many children wait past their desired start.
func (h *Handler) Page(c *fiber.Ctx) error {
	form := formValues(c)
	d := h.formData(c)
	f, err := h.filter(c)
	if err != nil {
		return h.forms.Failed(c, err, "staff_planning", "planning.title", form, d)
	}
	rep, err := h.s.Report(c.UserContext(), auth.CallerOf(c), f, Options{})
	if err != nil {
		return h.forms.Failed(c, err, "staff_planning", "planning.title", form, d)
	}
	form.Values["from"] = f.From.String()[:7]
	form.Values["months"] = strconv.Itoa(f.Months)
	h.fill(c, &d, rep)
	return h.forms.Show(c, fiber.StatusOK, "staff_planning", "planning.title", form, d)
}

func (h *Handler) fill(c *fiber.Ctx, d *pageData, rep *Report) {
	l, r, cat := lang(c), tenant.FromFiber(c).Rules, h.views.Catalogue()
	t := func(key string, kv ...any) string {
		args := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			args[kv[i].(string)] = kv[i+1]
		}
		return cat.T(l, key, args)
	}
	d.Report, d.Query = rep, template.URL(rep.Filter.Query(rep.Today)) //nolint:gosec // built of escaped parts
	short := make([]string, len(rep.MonthList))
	for i, m := range rep.MonthList {
		d.Months = append(d.Months, h.monthLabel(l, m, false))
		short[i] = h.monthLabel(l, m, true)
	}
	d.FirstMonth = d.Months[0]
	none := t("planning.district.none")
	tables := func(bands []Series) []bandTable {
		var out []bandTable
		for _, s := range bands {
			bt := bandTable{Band: s.Band, Label: care.BandLabel(r, s.Band, l)}
			for i, m := range s.Months {
				bt.Months = append(bt.Months, monthRow{Label: d.Months[i], Month: m})
			}
			out = append(out, bt)
		}
		return out
	}
	d.Total = tables(rep.Total)
	var bars []Bar
	for _, dist := range rep.Districts {
		name := districtName(r, dist.Key, none)
		var first counts
		for _, s := range dist.Bands {
			m := s.Months[0].Figures
			first.add(counts{demand: m.Demand, waiting: m.Waiting, places: m.Places, contracted: m.Contracted, offered: m.Offered})
		}
		fig := first.figures()
		d.OverviewRows = append(d.OverviewRows, overviewRow{Key: dist.Key, Name: name, Figures: fig})
		v := 0.0
		if fig.Coverage != nil {
			v = *fig.Coverage * 100
		}
		bars = append(bars, Bar{Label: name, Value: v, Text: fig.CoverageText()})

		sec := section{Key: dist.Key, Name: name, ChartID: "chart-" + strconv.Itoa(len(d.Sections)+1), Tables: tables(dist.Bands)}
		var lines []Line
		for bi, s := range dist.Bands {
			label := care.BandLabel(r, s.Band, l)
			places, need := make([]float64, len(s.Months)), make([]float64, len(s.Months))
			for i, m := range s.Months {
				places[i], need[i] = float64(m.Places), float64(m.Need())
			}
			colour := bi * 2 // blue, green, orange: one per band
			lines = append(lines, Line{Name: t("planning.chart.places", "band", label), Values: places, Colour: colour},
				Line{Name: t("planning.chart.need", "band", label), Values: need, Dashed: true, Colour: colour})
		}
		sec.Chart = LineChart(sec.ChartID, t("planning.chart.district", "district", name),
			t("planning.chart.district.desc", "district", name, "from", d.Months[0], "to", d.Months[len(d.Months)-1]), short, lines)
		d.Sections = append(d.Sections, sec)
	}
	d.Overview = BarChart("chart-overview", t("planning.overview.title", "month", d.FirstMonth),
		t("planning.overview.desc", "month", d.FirstMonth), bars, 100, t("planning.overview.full"))
	days := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return t("planning.days", "n", strconv.FormatFloat(*p, 'f', -1, 64))
	}
	for _, w := range []struct {
		key string
		w   WaitingTime
	}{{"planning.care.all", rep.Waiting.All}, {"planning.care.kita", rep.Waiting.Kita}, {"planning.care.tagespflege", rep.Waiting.Tagespflege}} {
		row := waitRow{Label: t(w.key), WaitingTime: w.w, Median: days(w.w.MedianDays), P90: days(w.w.P90Days)}
		if w.w.FirstChoiceShare != nil {
			row.Share = strconv.Itoa(int(*w.w.FirstChoiceShare*100+0.5)) + " %"
		}
		d.Waits = append(d.Waits, row)
	}
	for _, q := range rep.Tickets {
		d.Tickets = append(d.Tickets, ticketRow{TicketQuota: q, Year: kitaYear(q.KitaYear), BandLabel: care.BandLabel(r, q.Band, l)})
	}
	for i := range rep.Facilities {
		fs := rep.Facilities[i]
		q := rep.Filter
		q.Facility, q.District = fs.ID, ""
		d.Facilities = append(d.Facilities, facilityRow{Link: template.URL("/staff/planning?" + q.Query(rep.Today)), //nolint:gosec // built of escaped parts
			FacilitySeries: fs, First: fs.Months[0].Figures})
		if rep.Filter.Facility == fs.ID {
			d.Facility = &rep.Facilities[i]
		}
	}
}

// kitaYear names a Kita year by its first day: "2026/27".
func kitaYear(start date.Date) string {
	return strconv.Itoa(start.Year()) + "/" + strconv.Itoa(start.Year() + 1)[2:]
}

// ---- Exports.

// CSV downloads the district × band × month table of the filter.
func (h *Handler) CSV(c *fiber.Ctx) error {
	f, err := h.filter(c)
	if err != nil {
		return err
	}
	rep, err := h.s.Report(c.UserContext(), auth.CallerOf(c), f, Options{})
	if err != nil {
		return err
	}
	if err := h.s.RecordExport(c.UserContext(), auth.CallerOf(c), f, "csv"); err != nil {
		return err
	}
	return httpserver.SendCSV(c, "bedarfsplanung.csv", httpserver.CSVEncoding(c), func(w *csvfile.Writer) error { return WriteCSV(w, rep) })
}

// Excel downloads the workbook of the filter, with every facility month by month.
func (h *Handler) Excel(c *fiber.Ctx) error {
	f, err := h.filter(c)
	if err != nil {
		return err
	}
	rep, err := h.s.Report(c.UserContext(), auth.CallerOf(c), f, Options{Facilities: true})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := WriteWorkbook(&buf, rep, h.labels(c)); err != nil {
		return err
	}
	if err := h.s.RecordExport(c.UserContext(), auth.CallerOf(c), f, "xlsx"); err != nil {
		return err
	}
	return httpserver.SendAttachment(c, "bedarfsplanung.xlsx", XLSXType, buf.Bytes())
}

// ---- The children without a place.

type unservedData struct {
	Items []unservedRow
	Query template.URL
}

type unservedRow struct {
	Unserved
	BandLabel, DistrictName string
}

func (h *Handler) unserved(c *fiber.Ctx) ([]Unserved, Filter, error) {
	f, err := h.filter(c)
	if err != nil {
		return nil, f, err
	}
	list, err := h.s.UnservedList(c.UserContext(), auth.CallerOf(c), f, true)
	return list, f, err
}

// UnservedPage lists the children whose desired start has passed without a place, with
// their names (audited).
func (h *Handler) UnservedPage(c *fiber.Ctx) error {
	list, f, err := h.unserved(c)
	if err != nil {
		return err
	}
	r, l := tenant.FromFiber(c).Rules, lang(c)
	none := h.views.Catalogue().T(l, "planning.district.none", nil)
	d := unservedData{Query: template.URL(f.Query(h.s.Today()))} //nolint:gosec // built of escaped parts
	for _, u := range list {
		d.Items = append(d.Items, unservedRow{Unserved: u, BandLabel: care.BandLabel(r, u.Band, l), DistrictName: districtName(r, u.District, none)})
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_planning_unserved", "planning.unserved.title", nil, d)
}

// UnservedCSV downloads that list.
func (h *Handler) UnservedCSV(c *fiber.Ctx) error {
	list, _, err := h.unserved(c)
	if err != nil {
		return err
	}
	return httpserver.SendCSV(c, "ohne-platz.csv", httpserver.CSVEncoding(c), func(w *csvfile.Writer) error { return WriteUnservedCSV(w, list) })
}

// ---- JSON API.

// bandLabel is an age band with its name in the request's language.
type bandLabel struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

type apiReport struct {
	*Report
	Bands []bandLabel `json:"bands"`
}

// API answers GET /api/v1/staff/planning.
func (h *Handler) API(c *fiber.Ctx) error {
	f, err := h.filter(c)
	if err != nil {
		return err
	}
	rep, err := h.s.Report(c.UserContext(), auth.CallerOf(c), f, Options{})
	if err != nil {
		return err
	}
	out := apiReport{Report: rep, Bands: []bandLabel{}}
	for _, b := range tenant.FromFiber(c).Rules.AgeBands {
		if f.Band == "" || f.Band == b.Key {
			out.Bands = append(out.Bands, bandLabel{b.Key, b.Label.In(lang(c))})
		}
	}
	return c.JSON(out)
}

// APIUnserved answers GET /api/v1/staff/planning/unserved.
func (h *Handler) APIUnserved(c *fiber.Ctx) error {
	list, _, err := h.unserved(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": list, "today": h.s.Today()})
}
