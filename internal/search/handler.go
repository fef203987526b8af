package search

import (
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/care"
	"kitaportal/internal/favourite"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// Handler serves the result page and the search API. Both parse the same parameters and
// call the same service.
type Handler struct {
	svc   *Service
	views *view.Renderer
	lists *favourite.Lists
}

// NewHandler returns the search handlers.
func NewHandler(svc *Service, views *view.Renderer, lists *favourite.Lists) *Handler {
	return &Handler{svc: svc, views: views, lists: lists}
}

// ResultsPage is what the result page shows.
type ResultsPage struct {
	Form       *Form
	Result     *Result // nil when the search could not run
	Items      []ItemView
	Summary    string
	Child      string // the child and start the answers are for
	Notice     string // e.g. a start in the past was moved to today
	Map        *MapView
	Prev, Next string
	PageText   string
	// Suggestions are addresses that look like an unknown one; Others are the same
	// street in other postcodes.
	Suggestions []Link
	Others      []Link
	Favourites  Link
	List        template.HTML // the items, rendered by renderItems
	// Request carries the search to the request form: the ticked facilities go along
	// with the child's birth date, start, scope and the search's place.
	Request []Param
}

// Param is a hidden field of a form.
type Param struct{ Name, Value string }

// ItemView is a result as the page shows it, every word already in the visitor's
// language; renderItems writes it.
type ItemView struct {
	ID           string
	Name         string
	Lat, Lon     string
	Availability string
	AgeFit       bool
	Address      string
	TypeLabel    string
	Provider     string // "name (kind)"; empty for a childminder named like the facility
	Distance     string
	Fit          string
	Hours        string
	Concepts     []string
	URL          string // the profile, carrying the child
	HouseURL     string
	StatusText   string
	Favourite    bool
	FavLabel     string
	PickLabel    string // the checkbox that takes it to the request form
}

// Link is a labelled URL.
type Link struct {
	Label string
	URL   string
}

// MapView is the map's configuration; nil when the city has no tile server.
type MapView struct {
	TileURL     string
	Attribution string
	Lat, Lon    string
	Zoom        int
	RadiusKm    string
}

// MapFor is the map of tenant t centred on p (nil: the city's centre).
func MapFor(t *tenant.Tenant, p *Point, radiusKm float64) *MapView {
	m := t.Rules.Map
	if m.TileURL == "" {
		return nil
	}
	lat, lon := m.CenterLat, m.CenterLon
	if p != nil {
		lat, lon = p.Lat, p.Lon
	}
	mv := &MapView{TileURL: TileURL, Attribution: m.TileAttribution, Zoom: m.Zoom, // through our host (tiles.go)
		Lat: strconv.FormatFloat(lat, 'f', 6, 64), Lon: strconv.FormatFloat(lon, 'f', 6, 64)}
	if p != nil {
		mv.RadiusKm = strconv.FormatFloat(radiusKm, 'f', -1, 64)
	}
	return mv
}

// Results renders the answers to the search in the URL. Bad input shows the form again
// with every problem named and linked (422), never an error page.
func (h *Handler) Results(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	p := h.views.NewPage(c, "", nil)
	words := NewWords(h.views.Catalogue(), p.Lang)
	v := Values(c)
	data := &ResultsPage{Form: NewForm(t.Rules, v, words), Map: MapFor(t, nil, 0)}
	if providers, _, err := h.svc.Providers(c.UserContext(), t); err == nil { // without the list the form still works
		data.Form.WithProviders(providers)
	}
	favs, err := h.lists.Get(c)
	if err != nil {
		return err
	}
	token := h.lists.FormToken(c)
	data.Favourites = Link{Label: words.T("favourites.link", map[string]any{"count": len(favs)}), URL: "/favourites"}
	p.Data = data

	q, err := h.svc.Parse(t, v)
	if err == nil {
		data.Result, err = h.svc.Search(c.UserContext(), t, q)
	} else {
		err = h.svc.AllProblems(c.UserContext(), t, q, err)
	}
	if err != nil {
		if !invalid(err) {
			return err
		}
		data.Form.Invalid(h.views.Catalogue(), p.Lang, err)
		data.Suggestions = suggestionLinks(err, v)
		p.Title = p.T("search.title.invalid")
		return h.views.RenderPage(c, fiber.StatusUnprocessableEntity, "search", p)
	}

	res := data.Result
	child := q.Child.Values()
	if len(favs) > 0 {
		data.Favourites.URL += "?" + child.Encode()
	}
	if data.Items, err = itemViews(words, p, res.Items, favs, child.Encode()); err != nil {
		return err
	}
	data.Request = requestParams(q.Child, res.Origin)
	data.List = renderItems(data.Items, p.Path, token, words.T("search.hours", nil), words.T("search.concepts", nil))
	data.Summary = summary(words, t, res)
	data.Child = words.T("search.for_child", map[string]any{
		"birth": res.Query.Birth.Time().Format("02.01.2006"), "start": res.Query.From.Time().Format("02.01.2006"),
		"band": care.BandLabel(t.Rules, res.Query.Band.Key, p.Lang)})
	if res.Query.StartedEarlier() {
		data.Notice = words.T("search.started_earlier", map[string]any{"start": res.Query.Start.Time().Format("02.01.2006")})
	}
	if res.Origin != nil {
		data.Map = MapFor(t, &res.Origin.Point, q.RadiusKm)
		for _, o := range res.Origin.Others {
			u := q.Values()
			u.Del(ParamPLZ)
			u.Set(ParamAddress, o.Street+", "+o.PLZ)
			data.Others = append(data.Others, Link{Label: o.Label(), URL: "/?" + u.Encode()})
		}
	}
	pageURL := func(n int) string {
		u := q.Values()
		if n > 1 {
			u.Set(ParamPage, strconv.Itoa(n))
		}
		return "/?" + u.Encode()
	}
	if q.Page > 1 {
		data.Prev = pageURL(q.Page - 1)
	}
	if q.Page < res.Pages() {
		data.Next = pageURL(q.Page + 1)
	}
	data.PageText = words.T("search.page", map[string]any{"page": q.Page, "pages": res.Pages()})
	p.Title = p.T("search.results.title")
	return h.views.RenderPage(c, fiber.StatusOK, "search", p)
}

// itemViews puts the results into words; childQuery carries the child to the profiles.
func itemViews(words Words, p *view.Page, items []Item, favs []uuid.UUID, childQuery string) ([]ItemView, error) {
	ages := map[[2]int]string{} // few distinct ranges: look each up once
	add, remove := words.T("favourites.add", nil), words.T("favourites.remove", nil)
	pick := words.T("search.request.pick", nil)
	out := make([]ItemView, 0, len(items))
	for _, it := range items {
		iv := ItemView{ID: it.ID.String(), Name: it.Name, Availability: string(it.Availability), AgeFit: it.AgeFit,
			Lat: strconv.FormatFloat(it.Lat, 'f', 6, 64), Lon: strconv.FormatFloat(it.Lon, 'f', 6, 64),
			Address:    it.Address.Street + " " + it.Address.HouseNumber + ", " + it.Address.PLZ + " " + it.Address.City,
			TypeLabel:  words.T("search.type."+it.Type, nil),
			URL:        "/facilities/" + it.ID.String() + "?" + childQuery,
			StatusText: words.StatusText(it.Availability),
			HouseURL:   p.Asset("img/house-" + string(it.Availability) + ".svg"),
			FavLabel:   add,
			PickLabel:  pick,
		}
		if it.Provider.Name != it.Name {
			iv.Provider = it.Provider.Name + " (" + words.T("search.provider."+it.Provider.Kind, nil) + ")"
		}
		if it.DistanceKm != nil {
			iv.Distance = words.T("search.distance", map[string]any{"km": words.Km(*it.DistanceKm)})
		}
		key := [2]int{it.AgeMinMonths, it.AgeMaxMonths}
		if ages[key] == "" {
			ages[key] = words.T("search.ages", map[string]any{"range": words.AgeRange(it.AgeMinMonths, it.AgeMaxMonths)})
		}
		fit := "search.age_fit.no"
		if it.AgeFit {
			fit = "search.age_fit.yes"
		}
		iv.Fit = words.T(fit, nil) + " · " + ages[key]
		week, err := care.ParseHours(it.OpeningHours)
		if err != nil {
			return nil, fmt.Errorf("search: %s: %w", it.ID, err)
		}
		var hours []string
		for _, h := range words.Hours(week) {
			hours = append(hours, h.Days+" "+h.Times)
		}
		iv.Hours = strings.Join(hours, " · ")
		for _, c := range it.Concepts {
			iv.Concepts = append(iv.Concepts, words.T("search.concept."+c, nil))
		}
		for _, f := range favs {
			if f == it.ID {
				iv.Favourite, iv.FavLabel = true, remove
			}
		}
		out = append(out, iv)
	}
	return out, nil
}

// requestParams are the hidden fields of the results' "request these facilities" form:
// the child of the search and, where the search had one, its place (the request form
// measures distances from it when the family's address has none).
func requestParams(c Child, origin *Origin) []Param {
	var out []Param
	v := c.Values()
	for _, k := range []string{ParamBirthDate, ParamStartDate, ParamCareHours} {
		if s := v.Get(k); s != "" {
			out = append(out, Param{k, s})
		}
	}
	if origin != nil {
		out = append(out, Param{ParamLat, strconv.FormatFloat(origin.Lat, 'f', 6, 64)}, Param{ParamLon, strconv.FormatFloat(origin.Lon, 'f', 6, 64)})
	}
	return out
}

func summary(w Words, t *tenant.Tenant, res *Result) string {
	n := "other"
	if res.Total == 1 {
		n = "one"
	}
	args := map[string]any{"count": res.Total, "city": t.Name}
	if res.Total == 0 {
		return w.T("search.summary.none", nil)
	}
	if res.Origin == nil {
		return w.T("search.summary.city."+n, args)
	}
	args["km"] = w.Km(res.Query.RadiusKm)
	args["place"] = res.Origin.Label()
	if res.Origin.Label() == "" {
		args["place"] = w.T("search.your_position", nil)
	}
	return w.T("search.summary."+n, args)
}

func suggestionLinks(err error, v url.Values) []Link {
	e, ok := apperr.As(err)
	if !ok || e.Code != "unknown_address" {
		return nil
	}
	list, _ := e.Details["suggestions"].([]string)
	var out []Link
	for _, s := range list {
		u := url.Values{}
		for k, vs := range v {
			u[k] = vs
		}
		u.Del(ParamPLZ)
		u.Set(ParamAddress, s)
		out = append(out, Link{Label: s, URL: "/?" + u.Encode()})
	}
	return out
}

// invalid tells whether err is about the input (shown in the form) rather than a failure.
func invalid(err error) bool {
	_, ok := Problem(err)
	return ok
}

// Problem returns the (first) input problem err reports; ok is false when err is not
// about the input but a failure.
func Problem(err error) (e *apperr.Error, ok bool) {
	var list apperr.List
	if errors.As(err, &list) && len(list) > 0 {
		return list[0], true
	}
	e, ok = apperr.As(err)
	return e, ok && e.Kind == apperr.KindInvalid
}

// ListResponse is the answer of GET /api/v1/facilities.
type ListResponse struct {
	Items   []Item     `json:"items"`
	Total   int        `json:"total"`
	Page    int        `json:"page"`
	PerPage int        `json:"per_page"`
	Search  SearchEcho `json:"search"`
}

// SearchEcho is how the API understood the search.
type SearchEcho struct {
	BirthDate string      `json:"birth_date"`
	StartDate string      `json:"start_date"`
	From      string      `json:"from"` // the start the answers are for (today when start_date has passed)
	AgeBand   string      `json:"age_band"`
	CareHours int         `json:"care_hours"` // the scope availability was read for
	Month     string      `json:"month"`
	Origin    *OriginEcho `json:"origin"`
	RadiusKm  *float64    `json:"radius_km"`
}

// OriginEcho is the resolved place.
type OriginEcho struct {
	Lat   float64 `json:"lat"`
	Lon   float64 `json:"lon"`
	Label string  `json:"label"`
}

// List is GET /api/v1/facilities.
func (h *Handler) List(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	q, err := h.svc.Parse(t, Values(c))
	if err != nil {
		return h.svc.AllProblems(c.UserContext(), t, q, err)
	}
	res, err := h.svc.Search(c.UserContext(), t, q)
	if err != nil {
		return err
	}
	out := ListResponse{Items: res.Items, Total: res.Total, Page: q.Page, PerPage: q.PerPage, Search: SearchEcho{
		BirthDate: q.Birth.String(), StartDate: q.Start.String(), From: q.From.String(), AgeBand: q.Band.Key,
		CareHours: q.Scope, Month: q.Month().Time().Format("2006-01"),
	}}
	if out.Items == nil {
		out.Items = []Item{}
	}
	if res.Origin != nil {
		out.Search.Origin = &OriginEcho{Lat: res.Origin.Lat, Lon: res.Origin.Lon, Label: res.Origin.Label()}
		r := q.RadiusKm
		out.Search.RadiusKm = &r
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// ProvidersResponse is the answer of GET /api/v1/providers.
type ProvidersResponse struct {
	Items []ProviderChoice `json:"items"`
}

// APIProviders is GET /api/v1/providers: the named providers of the city's active
// facilities, the values of the search's provider parameter.
func (h *Handler) APIProviders(c *fiber.Ctx) error {
	list, _, err := h.svc.Providers(c.UserContext(), tenant.FromFiber(c))
	if err != nil {
		return err
	}
	if list == nil {
		list = []ProviderChoice{}
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.JSON(ProvidersResponse{Items: list})
}
