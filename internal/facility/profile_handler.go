package facility

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/availability"
	"kitaportal/internal/care"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/search"
	"kitaportal/internal/tenant"
)

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
	id, err := httpserver.PathID(c, "id")
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
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	n, err := httpserver.PathNumber(c, "n", 1, 20)
	if err != nil {
		return err
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
