package report

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// MaxMonths is the longest span a report covers: three years, the longest lead time a
// city allows.
const MaxMonths = 36

// Filter is what a report covers: MonthList from From, and the selection. Zero values
// select everything.
type Filter struct {
	From   date.Date `json:"from"` // first day of the first month
	Months int       `json:"months"`
	// District is a planning district key of the city.
	District string `json:"district,omitempty"`
	// Band is an age band key of the city.
	Band string `json:"band,omitempty"`
	// Hours: only places, holders and requests of at least this many weekly hours (one of
	// the city's care scopes).
	Hours int `json:"hours,omitempty"`
	// ProviderKind is one of care.ProviderKinds.
	ProviderKind string `json:"provider_kind,omitempty"`
	// Facility narrows the report to one facility (the drill-down).
	Facility uuid.UUID `json:"facility,omitempty"`
}

// MonthList lists the first days of the report's months.
func (f Filter) MonthList() []date.Date {
	out := make([]date.Date, f.Months)
	for i := range out {
		out[i] = f.From.AddMonths(i)
	}
	return out
}

// End is the first day after the report's last month.
func (f Filter) End() date.Date { return f.From.AddMonths(f.Months) }

// Errors of a filter. A district of another city is "not found", like any id of another
// city; the rest are field errors in the user's language.
var (
	ErrDistrict     = apperr.NotFound("planning_district_unknown").WithField("district")
	ErrFacility     = apperr.NotFound("planning_facility_unknown").WithField("facility")
	ErrFrom         = apperr.Invalid("from", "planning_from_invalid", nil)
	ErrFromRange    = apperr.Invalid("from", "planning_from_range", map[string]any{"months": MaxMonths})
	ErrMonths       = apperr.Invalid("months", "planning_months_range", map[string]any{"max": MaxMonths})
	ErrBand         = apperr.Invalid("band", "planning_band_unknown", nil)
	ErrHours        = apperr.Invalid("hours", "planning_hours_unknown", nil)
	ErrProviderKind = apperr.Invalid("provider_kind", "planning_provider_kind_unknown", nil)
)

// ParseFilter reads a filter from query parameters (from, months, district, band, hours,
// provider_kind, facility) for a city's rules on day today. from is a month (YYYY-MM) or a
// day (YYYY-MM-DD, its month is meant), at most MaxMonths months before or after the
// current one; months is 1 to MaxMonths (default MaxMonths). Unknown ids and keys of
// another city are ErrDistrict or ErrFacility; every other problem is listed at once.
func ParseFilter(get func(string) string, r *tenant.Rules, today date.Date) (Filter, error) {
	f := Filter{From: today.FirstOfMonth(), Months: MaxMonths}
	if v := strings.TrimSpace(get("district")); v != "" {
		if _, ok := r.District(v); !ok {
			return f, ErrDistrict
		}
		f.District = v
	}
	if v := strings.TrimSpace(get("facility")); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return f, ErrFacility
		}
		f.Facility = id
	}
	var errs apperr.List
	if v := strings.TrimSpace(get("from")); v != "" {
		d, err := parseMonth(v)
		switch {
		case err != nil:
			errs = append(errs, ErrFrom)
		case d.Before(today.FirstOfMonth().AddMonths(-MaxMonths)) || d.After(today.FirstOfMonth().AddMonths(MaxMonths)):
			errs = append(errs, ErrFromRange)
		default:
			f.From = d
		}
	}
	if v := strings.TrimSpace(get("months")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxMonths {
			errs = append(errs, ErrMonths)
		} else {
			f.Months = n
		}
	}
	if v := strings.TrimSpace(get("band")); v != "" {
		if _, ok := r.AgeBand(v); !ok {
			errs = append(errs, ErrBand)
		} else {
			f.Band = v
		}
	}
	if v := strings.TrimSpace(get("hours")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(r.CareScopes, n) {
			errs = append(errs, ErrHours.WithArgs(map[string]any{"scopes": tenant.ScopesText(r.CareScopes)}))
		} else {
			f.Hours = n
		}
	}
	if v := strings.TrimSpace(get("provider_kind")); v != "" {
		if !slices.Contains(care.ProviderKinds, v) {
			errs = append(errs, ErrProviderKind)
		} else {
			f.ProviderKind = v
		}
	}
	return f, errs.Err()
}

// parseMonth reads YYYY-MM or YYYY-MM-DD as the first day of that month.
func parseMonth(s string) (date.Date, error) {
	if len(s) == 7 {
		t, err := time.Parse("2006-01", s)
		if err != nil {
			return date.Date{}, err
		}
		s = t.Format(time.DateOnly)
	}
	d, err := date.Parse(s)
	if err != nil {
		return date.Date{}, err
	}
	return d.FirstOfMonth(), nil
}

// Query is the filter as URL query parameters (for links and exports), without the
// defaults.
func (f Filter) Query(today date.Date) string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+url.QueryEscape(v)) }
	if !f.From.Equal(today.FirstOfMonth()) {
		add("from", f.From.String()[:7])
	}
	if f.Months != MaxMonths {
		add("months", strconv.Itoa(f.Months))
	}
	if f.District != "" {
		add("district", f.District)
	}
	if f.Band != "" {
		add("band", f.Band)
	}
	if f.Hours > 0 {
		add("hours", strconv.Itoa(f.Hours))
	}
	if f.ProviderKind != "" {
		add("provider_kind", f.ProviderKind)
	}
	if f.Facility != uuid.Nil {
		add("facility", f.Facility.String())
	}
	return strings.Join(parts, "&")
}
