package facility

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/availability"
	"kitaportal/internal/care"
	"kitaportal/internal/favourite"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/search"
	"kitaportal/internal/tenant"
)

// Handler serves the profile page, photos, the Merkliste and the profile API.
type Handler struct {
	svc    *Service
	search *search.Service
	views  *view.Renderer
	lists  *favourite.Lists
}

// NewHandler returns the facility handlers.
func NewHandler(svc *Service, s *search.Service, views *view.Renderer, lists *favourite.Lists) *Handler {
	return &Handler{svc: svc, search: s, views: views, lists: lists}
}

// idParam reads the facility id of the path; anything else is simply not found.
func idParam(c *fiber.Ctx) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return uuid.Nil, ErrNotFound
	}
	return id, nil
}

// child reads the optional child of the query.
func (h *Handler) child(c *fiber.Ctx, t *tenant.Tenant) (*search.Child, error) {
	ch, ok, err := h.search.ParseChild(t, search.Values(c))
	if err != nil || !ok {
		return nil, err
	}
	return &ch, nil
}

// ProfilePage is what the profile page shows.
type ProfilePage struct {
	*Details
	Ages       string
	Days       []DayHours
	Places     []PlaceView
	Bands      []string // column headers of the month table
	Months     []MonthRow
	Scope      int
	Scopes     []int
	ChildText  string
	Status     availability.Status // for the child; "" without one
	StatusText string
	Fit        bool
	ChildError string
	Map        *search.MapView
	Favourite  bool
	SearchURL  string
	Query      string // the child's parameters, for links and the scope form
	BirthDate  string
	StartDate  string
}

// DayHours are the opening times of one weekday.
type DayHours struct {
	Day   string
	Times string // "" = closed
}

// PlaceView is the places of a band in words.
type PlaceView struct {
	Band      string
	Places    int
	CareHours int
}

// MonthRow is one month of the availability table.
type MonthRow struct {
	Label string
	Cells []CellView
}

// CellView is one band's availability in a month.
type CellView struct {
	Status availability.Status
	Text   string
	Free   int
}

// monthsShown is how far the profile looks ahead.
const monthsShown = 12

// Profile renders a facility's page. With a child in the query it says whether the age
// fits and what to expect at the start.
func (h *Handler) Profile(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	id, err := idParam(c)
	if err != nil {
		return err
	}
	p := h.views.NewPage(c, "", nil)
	words := search.NewWords(h.views.Catalogue(), p.Lang)
	data := &ProfilePage{}
	ch, err := h.child(c, t)
	if err != nil {
		e, ok := search.Problem(err)
		if !ok {
			return err
		}
		data.ChildError = search.Message(h.views.Catalogue(), p.Lang, e)
	}
	d, err := h.svc.Profile(c.UserContext(), t, id, ch)
	if err != nil {
		return err
	}
	data.Details = d
	data.Ages = words.AgeRange(d.AgeMinMonths, d.AgeMaxMonths)
	for _, day := range care.Weekdays {
		var times []string
		for _, iv := range d.OpeningHours[day] {
			times = append(times, iv[0]+"–"+iv[1])
		}
		if day == "sat" || day == "sun" {
			if len(times) == 0 {
				continue // weekends only when open
			}
		}
		data.Days = append(data.Days, DayHours{Day: words.Day(day), Times: strings.Join(times, ", ")})
	}
	for _, pl := range d.Places {
		data.Places = append(data.Places, PlaceView{Band: care.BandLabel(t.Rules, pl.AgeBand, p.Lang), Places: pl.Places, CareHours: pl.CareHoursMax})
	}

	data.Scopes = t.Rules.CareScopes
	data.Scope = t.Rules.CareScopes[0]
	if ch != nil {
		data.Scope = ch.Scope
		data.BirthDate, data.StartDate = ch.Birth.String(), ch.Start.String()
		data.Query = ch.Values().Encode()
		data.ChildText = words.T("profile.for_child", map[string]any{
			"birth": ch.Birth.Time().Format("02.01.2006"), "start": ch.From.Time().Format("02.01.2006"),
			"band": care.BandLabel(t.Rules, ch.Band.Key, p.Lang)})
		data.Status, data.Fit = *d.Availability, *d.AgeFit
		data.StatusText = words.StatusText(data.Status)
	} else if s, err := strconv.Atoi(c.Query(search.ParamCareHours)); err == nil {
		for _, x := range t.Rules.CareScopes {
			if x == s {
				data.Scope = s
			}
		}
	}
	data.Bands, data.Months = monthTable(words, t, p.Lang, d, data.Scope)
	data.Map = search.MapFor(t, &search.Point{Lat: d.Lat, Lon: d.Lon}, 0)
	if data.Map != nil {
		data.Map.Zoom = max(data.Map.Zoom, 15)
	}
	favs, err := h.lists.Get(c)
	if err != nil {
		return err
	}
	for _, f := range favs {
		data.Favourite = data.Favourite || f == d.ID
	}
	p.CSRF = h.lists.FormToken(c)
	data.SearchURL = backToResults(c, data.Query)
	p.Title = d.Name
	p.Data = data
	return h.views.RenderPage(c, fiber.StatusOK, "facility", p)
}

// backToResults is the result page the parent came from, or a search for the child in
// the whole city.
func backToResults(c *fiber.Ctx, childQuery string) string {
	if ref, err := url.Parse(c.Get(fiber.HeaderReferer)); err == nil && ref.Host == string(c.Request().Host()) &&
		ref.Path == "/" && ref.RawQuery != "" {
		return ref.RequestURI()
	}
	if childQuery == "" {
		return "/"
	}
	return "/?" + childQuery
}

// monthTable lays the cells of scope out as months × bands for the next monthsShown months.
func monthTable(w search.Words, t *tenant.Tenant, lang string, d *Details, scope int) ([]string, []MonthRow) {
	var bands []string
	for _, pl := range d.Places {
		bands = append(bands, pl.AgeBand)
	}
	var headers []string
	for _, b := range bands {
		headers = append(headers, care.BandLabel(t.Rules, b, lang))
	}
	var rows []MonthRow
	for i := 0; i < monthsShown && i < d.Window.Months; i++ {
		m := d.Window.First.AddMonths(i)
		row := MonthRow{Label: MonthLabel(w, m)}
		for _, b := range bands {
			cv := CellView{Status: availability.Unknown}
			for _, c := range d.Cells {
				if c.Band == b && c.CareHours == scope && c.Month.Equal(m) {
					cv = CellView{Status: c.Status(), Free: c.Free}
				}
			}
			cv.Text = w.StatusText(cv.Status)
			row.Cells = append(row.Cells, cv)
		}
		rows = append(rows, row)
	}
	return headers, rows
}

// MonthLabel is "November 2026" in the page's language.
func MonthLabel(w search.Words, m date.Date) string {
	return w.T("month."+strconv.Itoa(int(m.Month())), nil) + " " + strconv.Itoa(m.Year())
}

// Photo serves one photo. SVG photos may not run scripts or load anything.
func (h *Handler) Photo(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	id, err := idParam(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil || n < 1 || n > 20 {
		return ErrNotFound
	}
	contentType, data, err := h.svc.Photo(c.UserContext(), t, id, n, c.Query("size") == "thumb")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	return c.Send(data)
}

// FavouritesPage is the Merkliste with its comparison.
type FavouritesPage struct {
	Items     []CompareView
	ChildText string
	Error     string
	BirthDate string
	StartDate string
	CareHours int
	Scopes    []int
	Query     string
}

// CompareView is one facility of the comparison.
type CompareView struct {
	*Profile
	Hours      []care.HoursLine
	Ages       string
	Status     availability.Status // for the child; "" without one
	StatusText string
	Fit        bool
	URL        string
}

// Favourites renders the Merkliste side by side; with a child in the query, with the
// expected availability for it.
func (h *Handler) Favourites(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	p := h.views.NewPage(c, "", nil)
	words := search.NewWords(h.views.Catalogue(), p.Lang)
	data := &FavouritesPage{Scopes: t.Rules.CareScopes}
	v := search.Values(c)
	data.BirthDate, data.StartDate = v.Get(search.ParamBirthDate), v.Get(search.ParamStartDate)
	status := fiber.StatusOK
	ch, err := h.child(c, t)
	if err != nil {
		e, ok := search.Problem(err)
		if !ok {
			return err
		}
		data.Error, status = search.Message(h.views.Catalogue(), p.Lang, e), fiber.StatusUnprocessableEntity
	}
	favs, err := h.lists.Get(c)
	if err != nil {
		return err
	}
	p.CSRF = h.lists.FormToken(c)
	profiles, err := h.svc.Compare(c.UserContext(), t, favs, ch)
	if err != nil {
		return err
	}
	if ch != nil {
		data.Query = ch.Values().Encode()
		data.CareHours = ch.CareHours
		data.ChildText = words.T("profile.for_child", map[string]any{
			"birth": ch.Birth.Time().Format("02.01.2006"), "start": ch.From.Time().Format("02.01.2006"),
			"band": care.BandLabel(t.Rules, ch.Band.Key, p.Lang)})
	}
	for _, pr := range profiles {
		cv := CompareView{Profile: pr, Hours: words.Hours(pr.OpeningHours), Ages: words.AgeRange(pr.AgeMinMonths, pr.AgeMaxMonths),
			URL: "/facilities/" + pr.ID.String()}
		if data.Query != "" {
			cv.URL += "?" + data.Query
		}
		if pr.Availability != nil {
			cv.Status, cv.Fit = *pr.Availability, *pr.AgeFit
			cv.StatusText = words.StatusText(cv.Status)
		}
		data.Items = append(data.Items, cv)
	}
	p.Title = p.T("favourites.title")
	p.Data = data
	return h.views.RenderPage(c, status, "favourites", p)
}

// ToggleFavourite adds a facility to the Merkliste or removes it (POST /favourites with
// id and action=add|remove). Without JavaScript it redirects back to next; asked for
// JSON it answers with the list.
func (h *Handler) ToggleFavourite(c *fiber.Ctx) error {
	// Another site must not edit the list behind the parent's back.
	if site := c.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return apperr.Forbidden("cross_site_request")
	}
	t := tenant.FromFiber(c)
	id, err := uuid.Parse(c.FormValue("id"))
	if err != nil {
		return apperr.Invalid("id", "invalid_id", nil)
	}
	var on bool
	switch c.FormValue("action") {
	case "add":
		if err := h.svc.Exists(c.UserContext(), t, id); err != nil {
			return err
		}
		on = true
	case "remove":
	default:
		return apperr.Invalid("action", "invalid_choice", map[string]any{"allowed": "add, remove"})
	}
	ids, err := h.lists.Set(c, id, on)
	if err != nil {
		return err
	}
	if strings.Contains(c.Get(fiber.HeaderAccept), fiber.MIMEApplicationJSON) {
		out := make([]string, len(ids))
		for i, x := range ids {
			out[i] = x.String()
		}
		return c.JSON(fiber.Map{"ids": out, "count": len(ids)})
	}
	return c.Redirect(localPath(c.FormValue("next")), fiber.StatusSeeOther)
}

// localPath allows only a path of this site as the place to return to.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/favourites"
	}
	return next
}

// APIProfile is GET /api/v1/facilities/{id}: the profile; with birth_date and start_date
// also age_fit and availability as the search answers them.
func (h *Handler) APIProfile(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ch, err := h.child(c, t)
	if err != nil {
		return err
	}
	d, err := h.svc.Profile(c.UserContext(), t, id, ch)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(d.Profile)
}

// AvailabilityResponse is the answer of GET /api/v1/facilities/{id}/availability.
type AvailabilityResponse struct {
	FacilityID uuid.UUID       `json:"facility_id"`
	From       string          `json:"from"`
	To         string          `json:"to"`
	Items      []MonthBandCell `json:"items"`
}

// MonthBandCell is the availability of one band and care scope in one month.
type MonthBandCell struct {
	Month     string              `json:"month"`
	AgeBand   string              `json:"age_band"`
	CareHours int                 `json:"care_hours"`
	Capacity  int                 `json:"capacity"`
	Free      int                 `json:"free"`
	Status    availability.Status `json:"status"`
}

var monthPattern = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// APIAvailability is GET /api/v1/facilities/{id}/availability?from=YYYY-MM&to=YYYY-MM:
// per month, age band and care scope, for at most the stored window (default: the next
// twelve months).
func (h *Handler) APIAvailability(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	id, err := idParam(c)
	if err != nil {
		return err
	}
	w := availability.WindowFor(t.Rules, h.search.Today())
	from, to := w.First, w.First.AddMonths(monthsShown-1)
	var errs apperr.List
	month := func(name string, def date.Date) date.Date {
		s := strings.TrimSpace(c.Query(name))
		if s == "" {
			return def
		}
		if !monthPattern.MatchString(s) {
			errs = append(errs, apperr.Invalid(name, "invalid_month", nil))
			return def
		}
		m, _ := date.Parse(s + "-01")
		if !w.Contains(m) {
			errs = append(errs, apperr.Invalid(name, "month_out_of_range", map[string]any{
				"first": w.First.Time().Format("2006-01"), "last": w.Last().Time().Format("2006-01")}))
			return def
		}
		return m
	}
	from, to = month("from", from), month("to", to)
	if len(errs) == 0 && to.Before(from) {
		errs = append(errs, apperr.Invalid("to", "month_before_from", nil))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	if len(errs) > 1 {
		return errs
	}
	cells, err := h.svc.Availability(c.UserContext(), t, id, from, to)
	if err != nil {
		return err
	}
	out := AvailabilityResponse{FacilityID: id, From: from.Time().Format("2006-01"), To: to.Time().Format("2006-01"), Items: []MonthBandCell{}}
	for _, cell := range cells {
		out.Items = append(out.Items, MonthBandCell{Month: cell.Month.Time().Format("2006-01"), AgeBand: cell.Band,
			CareHours: cell.CareHours, Capacity: cell.Capacity, Free: cell.Free, Status: cell.Status()})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}
