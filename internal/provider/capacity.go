package provider

import (
	"slices"
	"strconv"
	"strings"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// Limits of a group.
const (
	maxGroupNameLen = 100
	maxGroupPlaces  = 200 // the schema's limit; a real group has far fewer
	maxPeriods      = 20
)

// Period is a span of a group's places: from From until the day before Until (zero:
// open-ended). A new Kita year, or a group growing in January, is a new period.
type Period struct {
	From   date.Date `json:"valid_from"`
	Until  date.Date `json:"valid_until"`
	Places int       `json:"places"`
}

// covers tells whether the period holds on day d.
func (p Period) covers(d date.Date) bool {
	return !d.Before(p.From) && (p.Until.IsZero() || d.Before(p.Until))
}

// overlaps tells whether two periods share a day.
func (p Period) overlaps(o Period) bool {
	return (o.Until.IsZero() || p.From.Before(o.Until)) && (p.Until.IsZero() || o.From.Before(p.Until))
}

// GroupInput is a group as staff describe it: its age band, the longest weekly care scope
// it offers, and its places over time.
type GroupInput struct {
	Name      string
	AgeBand   string
	CareHours int
	Periods   []Period
}

// Validate checks a group against the tenant's rules; field names are those of the form.
func (g *GroupInput) Validate(r *tenant.Rules) error {
	var errs apperr.List
	g.Name = strings.Join(strings.Fields(g.Name), " ")
	if err := checkName("name", g.Name, maxGroupNameLen); err != nil {
		errs = append(errs, err)
	}
	if _, ok := r.AgeBand(g.AgeBand); !ok {
		keys := make([]string, len(r.AgeBands))
		for i, b := range r.AgeBands {
			keys[i] = b.Key
		}
		errs = append(errs, apperr.Invalid("age_band", "invalid_choice", map[string]any{"allowed": strings.Join(keys, ", ")}))
	}
	if !slices.Contains(r.CareScopes, g.CareHours) {
		errs = append(errs, apperr.Invalid("care_hours", "provider_care_hours", map[string]any{"allowed": tenant.ScopesText(r.CareScopes)}))
	}
	if err := CheckPeriods(g.Periods); err != nil {
		errs = append(errs, err.(apperr.List)...)
	}
	return errs.Err()
}

// CheckPeriods holds for at least one and at most maxPeriods periods, each starting
// before it ends with 0 to maxGroupPlaces places, none overlapping another. The field of
// an error is "periods.<index>" (of the list as given) so a form can mark the row.
func CheckPeriods(ps []Period) error {
	var errs apperr.List
	if len(ps) == 0 {
		return apperr.List{apperr.Invalid("periods.0.valid_from", "required", nil)}
	}
	if len(ps) > maxPeriods {
		return apperr.List{apperr.Invalid("periods", "provider_periods_too_many", map[string]any{"max": maxPeriods})}
	}
	for i, p := range ps {
		row := "periods." + strconv.Itoa(i) + "."
		switch {
		case p.From.IsZero():
			errs = append(errs, apperr.Invalid(row+"valid_from", "required", nil))
		case !p.Until.IsZero() && !p.Until.After(p.From):
			errs = append(errs, apperr.Invalid(row+"valid_until", "provider_period_order", nil))
		}
		if p.Places < 0 || p.Places > maxGroupPlaces {
			errs = append(errs, apperr.Invalid(row+"places", "provider_places_range", map[string]any{"max": maxGroupPlaces}))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	for i, p := range ps {
		for j := i + 1; j < len(ps); j++ {
			if p.overlaps(ps[j]) {
				return apperr.List{apperr.Invalid("periods."+strconv.Itoa(j)+".valid_from", "provider_periods_overlap",
					map[string]any{"first": i + 1, "second": j + 1})}
			}
		}
	}
	return nil
}

// SortPeriods orders periods by their start.
func SortPeriods(ps []Period) {
	slices.SortFunc(ps, func(a, b Period) int { return a.From.Compare(b.From) })
}

// PlacesLimit is the most places a facility of type typ may have in all its groups
// together on any day (Land law, in the tenant's rules); 0 means no limit.
func PlacesLimit(typ string, l tenant.FacilityLimits) int {
	switch typ {
	case "tagespflege":
		return l.TagespflegeMaxPlaces
	case "grosstagespflege":
		return l.GrosstagespflegeMaxPlaces
	}
	return 0
}

// CheckLimit holds when the groups of a facility of type typ never have more places
// together than the limit: checked on every day a period of any group begins, which is
// where a sum can grow.
func CheckLimit(typ string, l tenant.FacilityLimits, groups [][]Period) *apperr.Error {
	limit := PlacesLimit(typ, l)
	if limit == 0 {
		return nil
	}
	for _, g := range groups {
		for _, p := range g {
			sum := 0
			for _, other := range groups {
				for _, q := range other {
					if q.covers(p.From) {
						sum += q.Places
					}
				}
			}
			if sum > limit {
				return apperr.Invalid("places", "provider_places_limit", map[string]any{"max": limit, "places": sum, "from": p.From.String()})
			}
		}
	}
	return nil
}
