// Package search is how parents find care: a query parsed at the edge (child's birth date,
// desired start, place, radius, filters), the SQL that answers it with the expected
// availability for exactly that child and start, and the HTML and JSON faces over one
// service.
package search

import (
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// Limits of a query.
const (
	MinRadiusKm    = 0.5
	MaxRadiusKm    = 50
	DefaultPerPage = 20
	MaxPerPage     = 100
	MaxProviders   = 20 // named providers one search may filter by
	// A birth date may lie ahead (a search before birth) by at most this many months.
	maxMonthsBeforeBirth = 10
)

// Point is a position on the map.
type Point struct{ Lat, Lon float64 }

// Child is who the care is for and when it should start.
type Child struct {
	Birth date.Date
	Start date.Date // as asked
	// From is the start the answer is for: Start, or today when Start has passed
	// (a parent asking for last August wants a place as soon as possible).
	From      date.Date
	Band      tenant.AgeBand // the child's age band on From
	AgeMonths int            // completed months on From
	// CareHours is the weekly scope asked for; 0: any. Scope is what availability is
	// read for: CareHours, or the tenant's smallest scope.
	CareHours int
	Scope     int
}

// Month is the first day of the month the availability is read for.
func (c Child) Month() date.Date { return c.From.FirstOfMonth() }

// StartedEarlier tells whether the asked start lay in the past and From was moved to today.
func (c Child) StartedEarlier() bool { return c.From.After(c.Start) }

// Query is one search, checked against the tenant's rules.
type Query struct {
	Child

	// Where: a PLZ, an address typed by a parent, or a point; none means the whole city.
	PLZ      string
	Address  string
	Point    *Point
	RadiusKm float64

	Types, ProviderKinds, Concepts []string
	// Providers are named providers (Träger) by id: only their facilities. The service
	// checks that each is one of the tenant's.
	Providers            []uuid.UUID
	OpensBy, ClosesAfter string // HH:MM, "" = no filter
	BarrierFree, Lunch   bool
	AvailableOnly        bool // only expected free for this child (implies age fit)
	AgeFitOnly           bool

	Page, PerPage int
}

// HasPlace tells whether the query names a place.
func (q Query) HasPlace() bool { return q.PLZ != "" || q.Address != "" || q.Point != nil }

// Offset is the number of items before the page.
func (q Query) Offset() int { return (q.Page - 1) * q.PerPage }

// Parameter names, the same in the HTML form and the API.
const (
	ParamBirthDate     = "birth_date"
	ParamStartDate     = "start_date"
	ParamPLZ           = "plz"
	ParamAddress       = "address"
	ParamLat           = "lat"
	ParamLon           = "lon"
	ParamRadius        = "radius_km"
	ParamType          = "type"
	ParamProviderKind  = "provider_kind"
	ParamProvider      = "provider"
	ParamConcept       = "concept"
	ParamOpensBy       = "opens_by"
	ParamClosesAfter   = "closes_after"
	ParamCareHours     = "care_hours"
	ParamBarrierFree   = "barrier_free"
	ParamLunch         = "lunch"
	ParamAvailableOnly = "available_only"
	ParamAgeFitOnly    = "age_fit_only"
	ParamPage          = "page"
	ParamPerPage       = "per_page"
)

// Parse reads a search from query parameters, checks every one and reports all problems
// at once (apperr.List). today anchors "start in the past" and how far ahead one may
// look; window is the last month with availability figures.
func Parse(v url.Values, r *tenant.Rules, today, lastMonth date.Date) (Query, error) {
	var errs apperr.List
	q := Query{Page: 1, PerPage: DefaultPerPage, RadiusKm: r.Map.DefaultRadiusKm}
	child, childErrs := parseChild(v, r, today, lastMonth)
	q.Child = child
	errs = append(errs, childErrs...)

	q.PLZ = strings.TrimSpace(v.Get(ParamPLZ))
	if q.PLZ != "" && !plzPattern.MatchString(q.PLZ) {
		errs = append(errs, apperr.Invalid(ParamPLZ, "invalid_plz", nil))
	}
	q.Address = strings.Join(strings.Fields(v.Get(ParamAddress)), " ")
	if len([]rune(q.Address)) > 200 {
		errs = append(errs, apperr.Invalid(ParamAddress, "too_long", map[string]any{"max": 200}))
	}
	lat, lon := strings.TrimSpace(v.Get(ParamLat)), strings.TrimSpace(v.Get(ParamLon))
	switch {
	case lat == "" && lon == "":
	case lat == "" || lon == "":
		field := ParamLat
		if lat != "" {
			field = ParamLon
		}
		errs = append(errs, apperr.Invalid(field, "lat_lon_together", nil))
	default:
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		switch {
		case err1 != nil || math.IsNaN(la):
			errs = append(errs, apperr.Invalid(ParamLat, "invalid_number", nil))
		case err2 != nil || math.IsNaN(lo):
			errs = append(errs, apperr.Invalid(ParamLon, "invalid_number", nil))
		case la < 47 || la > 55.1 || lo < 5.8 || lo > 15.1:
			errs = append(errs, apperr.Invalid(ParamLat, "outside_germany", nil))
		default:
			q.Point = &Point{la, lo}
		}
	}
	if s := strings.TrimSpace(v.Get(ParamRadius)); s != "" {
		km, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
		switch {
		case err != nil || math.IsNaN(km) || math.IsInf(km, 0):
			errs = append(errs, apperr.Invalid(ParamRadius, "invalid_number", nil))
		case km < MinRadiusKm || km > MaxRadiusKm:
			errs = append(errs, apperr.Invalid(ParamRadius, "radius_out_of_range", map[string]any{"min": "0.5", "max": MaxRadiusKm}))
		default:
			q.RadiusKm = km
		}
	}

	var bad *apperr.Error
	if q.Types, bad = oneOf(v, ParamType, care.Types); bad != nil {
		errs = append(errs, bad)
	}
	if q.ProviderKinds, bad = oneOf(v, ParamProviderKind, care.ProviderKinds); bad != nil {
		errs = append(errs, bad)
	}
	if q.Concepts, bad = oneOf(v, ParamConcept, care.Concepts); bad != nil {
		errs = append(errs, bad)
	}
	if q.Providers, bad = ids(v, ParamProvider, MaxProviders); bad != nil {
		errs = append(errs, bad)
	}
	if q.OpensBy, bad = clockTime(v, ParamOpensBy); bad != nil {
		errs = append(errs, bad)
	}
	if q.ClosesAfter, bad = clockTime(v, ParamClosesAfter); bad != nil {
		errs = append(errs, bad)
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{ParamBarrierFree, &q.BarrierFree}, {ParamLunch, &q.Lunch}, {ParamAvailableOnly, &q.AvailableOnly}, {ParamAgeFitOnly, &q.AgeFitOnly}} {
		if *b.dst, bad = boolean(v, b.name); bad != nil {
			errs = append(errs, bad)
		}
	}
	if q.Page, bad = number(v, ParamPage, 1, 1, 10000); bad != nil {
		errs = append(errs, bad)
	}
	if q.PerPage, bad = number(v, ParamPerPage, DefaultPerPage, 1, MaxPerPage); bad != nil {
		errs = append(errs, bad)
	}
	return q, single(errs)
}

// ParseChild reads the optional child of a profile or comparison page: birth date, start
// and care scope. ok is false when no birth date and start were given.
func ParseChild(v url.Values, r *tenant.Rules, today, lastMonth date.Date) (c Child, ok bool, err error) {
	if strings.TrimSpace(v.Get(ParamBirthDate)) == "" && strings.TrimSpace(v.Get(ParamStartDate)) == "" {
		return Child{}, false, nil
	}
	c, errs := parseChild(v, r, today, lastMonth)
	if len(errs) > 0 {
		return Child{}, false, single(errs)
	}
	return c, true, nil
}

func parseChild(v url.Values, r *tenant.Rules, today, lastMonth date.Date) (Child, apperr.List) {
	var errs apperr.List
	var c Child
	var bad *apperr.Error
	if c.Birth, bad = parseDate(v, ParamBirthDate); bad != nil {
		errs = append(errs, bad)
	}
	if c.Start, bad = parseDate(v, ParamStartDate); bad != nil {
		errs = append(errs, bad)
	}
	if !c.Birth.IsZero() && c.Birth.After(today.AddMonths(maxMonthsBeforeBirth)) {
		errs = append(errs, apperr.Invalid(ParamBirthDate, "birth_date_too_far", map[string]any{"months": maxMonthsBeforeBirth}))
		c.Birth = date.Date{}
	}
	if !c.Start.IsZero() && c.Start.FirstOfMonth().After(lastMonth) {
		errs = append(errs, apperr.Invalid(ParamStartDate, "start_too_far",
			map[string]any{"month": lastMonth.Time().Format("01/2006")}))
		c.Start = date.Date{}
	}
	if !c.Birth.IsZero() && !c.Start.IsZero() {
		c.From = c.Start
		if c.From.Before(today) {
			c.From = today
		}
		if c.Start.Before(c.Birth) {
			errs = append(errs, apperr.Invalid(ParamStartDate, "start_before_birth", nil))
		} else if band, ok := r.Calendar().BandAt(c.Birth, c.From); !ok {
			code := "child_too_old"
			if youngest := slices.MinFunc(r.AgeBands, func(a, b tenant.AgeBand) int { return a.MinMonths - b.MinMonths }); c.Birth.MonthsUntil(c.From) < youngest.MinMonths {
				code = "child_too_young"
			}
			errs = append(errs, apperr.Invalid(ParamBirthDate, code, map[string]any{"date": c.From.Time().Format("02.01.2006")}))
		} else {
			c.Band, c.AgeMonths = band, c.Birth.MonthsUntil(c.From)
		}
	}
	if s := strings.TrimSpace(v.Get(ParamCareHours)); s != "" {
		h, err := strconv.Atoi(s)
		if err != nil || !slices.Contains(r.CareScopes, h) {
			errs = append(errs, apperr.Invalid(ParamCareHours, "care_hours_not_offered", map[string]any{"scopes": tenant.ScopesText(r.CareScopes)}))
		} else {
			c.CareHours = h
		}
	}
	c.Scope = c.CareHours
	if c.Scope == 0 && len(r.CareScopes) > 0 {
		c.Scope = r.CareScopes[0]
	}
	return c, errs
}

var (
	plzPattern   = regexp.MustCompile(`^[0-9]{5}$`)
	germanDate   = regexp.MustCompile(`^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$`)
	clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// parseDate accepts YYYY-MM-DD (what date inputs send) and the German DD.MM.YYYY that
// people type where a browser shows a plain text field; 31 February is refused.
func parseDate(v url.Values, name string) (date.Date, *apperr.Error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return date.Date{}, apperr.Invalid(name, "required", nil)
	}
	if m := germanDate.FindStringSubmatch(s); m != nil {
		s = m[3] + "-" + pad2(m[2]) + "-" + pad2(m[1])
	}
	d, err := date.Parse(s)
	if err != nil {
		return date.Date{}, apperr.Invalid(name, "invalid_date", nil)
	}
	return d, nil
}

func pad2(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}

// oneOf reads a repeatable parameter (also comma-separated) whose values must come from
// allowed; duplicates collapse.
func oneOf(v url.Values, name string, allowed []string) ([]string, *apperr.Error) {
	var out []string
	for _, raw := range v[name] {
		for _, s := range strings.Split(raw, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if !slices.Contains(allowed, s) {
				return nil, apperr.Invalid(name, "invalid_choice", map[string]any{"allowed": strings.Join(allowed, ", ")})
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// ids reads a repeatable (also comma-separated) parameter of ids, at most max distinct.
func ids(v url.Values, name string, max int) ([]uuid.UUID, *apperr.Error) {
	var out []uuid.UUID
	for _, raw := range v[name] {
		for _, s := range strings.Split(raw, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			id, err := uuid.Parse(s)
			if err != nil || len(s) != 36 {
				return nil, apperr.Invalid(name, "invalid_provider", nil)
			}
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	if len(out) > max {
		return nil, apperr.Invalid(name, "too_many_providers", map[string]any{"max": max})
	}
	return out, nil
}

func clockTime(v url.Values, name string) (string, *apperr.Error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return "", nil
	}
	if len(s) == 4 && s[1] == ':' { // 7:30
		s = "0" + s
	}
	if !clockPattern.MatchString(s) {
		return "", apperr.Invalid(name, "invalid_time", nil)
	}
	return s, nil
}

func boolean(v url.Values, name string) (bool, *apperr.Error) {
	switch strings.ToLower(strings.TrimSpace(v.Get(name))) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	default:
		return false, apperr.Invalid(name, "invalid_boolean", nil)
	}
}

func number(v url.Values, name string, def, lo, hi int) (int, *apperr.Error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return def, apperr.Invalid(name, "number_out_of_range", map[string]any{"min": lo, "max": hi})
	}
	return n, nil
}

// single returns nil, the one error, or the list: the API answers one problem with its
// field and rule, several with the list in details.
func single(errs apperr.List) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	default:
		return errs
	}
}

// Values writes q back as URL parameters: links to other pages of the result, to a
// profile, and the map keep the whole search.
func (q Query) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set(ParamBirthDate, q.Birth.String())
	set(ParamStartDate, q.Start.String())
	set(ParamPLZ, q.PLZ)
	set(ParamAddress, q.Address)
	if q.Point != nil {
		v.Set(ParamLat, strconv.FormatFloat(q.Point.Lat, 'f', -1, 64))
		v.Set(ParamLon, strconv.FormatFloat(q.Point.Lon, 'f', -1, 64))
	}
	if q.HasPlace() {
		v.Set(ParamRadius, strconv.FormatFloat(q.RadiusKm, 'f', -1, 64))
	}
	for _, t := range q.Types {
		v.Add(ParamType, t)
	}
	for _, k := range q.ProviderKinds {
		v.Add(ParamProviderKind, k)
	}
	for _, c := range q.Concepts {
		v.Add(ParamConcept, c)
	}
	for _, p := range q.Providers {
		v.Add(ParamProvider, p.String())
	}
	set(ParamOpensBy, q.OpensBy)
	set(ParamClosesAfter, q.ClosesAfter)
	if q.CareHours > 0 {
		v.Set(ParamCareHours, strconv.Itoa(q.CareHours))
	}
	for _, b := range []struct {
		name string
		on   bool
	}{{ParamBarrierFree, q.BarrierFree}, {ParamLunch, q.Lunch}, {ParamAvailableOnly, q.AvailableOnly}, {ParamAgeFitOnly, q.AgeFitOnly}} {
		if b.on {
			v.Set(b.name, "1")
		}
	}
	if q.PerPage != DefaultPerPage {
		v.Set(ParamPerPage, strconv.Itoa(q.PerPage))
	}
	return v
}

// ChildValues are the parameters that carry the child to a profile or the comparison.
func (c Child) Values() url.Values {
	v := url.Values{}
	if !c.Birth.IsZero() {
		v.Set(ParamBirthDate, c.Birth.String())
	}
	if !c.Start.IsZero() {
		v.Set(ParamStartDate, c.Start.String())
	}
	if c.CareHours > 0 {
		v.Set(ParamCareHours, strconv.Itoa(c.CareHours))
	}
	return v
}
