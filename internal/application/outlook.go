package application

import (
	"slices"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// What a family waiting on a request wants to know, said from the city's rules on the
// status page: when a decision can come, and what its points mean.

// Outlook is the "what happens next" of a filed request still waiting.
type Outlook struct {
	Mode       string    // the city's allocation mode: the text of what happens
	Months     int       // offers go out this long before the start
	Days       int       // the family has this many days to answer
	OffersFrom date.Date // the first day an offer for this start can come
	OffersNow  bool      // …that day has come
	Points     []PointLine
	TieBreaks  []string // after points, in the city's order
}

// PointLine is one claimed criterion and what it counts.
type PointLine struct {
	Criterion tenant.Criterion
	Points    int
	AtOne     bool // a facility criterion: counts only at the facility named, once it confirms
}

// OutlookOf says it for a, or nil when a no longer waits.
func OutlookOf(r *tenant.Rules, a *Application, today date.Date) *Outlook {
	if !a.Status.In(Deciding) {
		return nil
	}
	o := &Outlook{Mode: r.Allocation.Mode, Months: r.Offers.LeadMonths, Days: r.Offers.ResponseDays}
	o.OffersFrom = a.StartDate.AddMonths(-r.Offers.LeadMonths)
	o.OffersNow = !o.OffersFrom.After(today)
	for _, c := range r.Criteria.Catalogue {
		if _, claimed := a.Criteria[c.Key]; claimed {
			o.Points = append(o.Points, PointLine{Criterion: c, Points: c.Points, AtOne: isFacilityCriterion(c)})
		}
	}
	for _, k := range r.Criteria.TieBreaks {
		if k != tenant.TieBreakPoints {
			o.TieBreaks = append(o.TieBreaks, k)
		}
	}
	o.TieBreaks = slices.Clip(o.TieBreaks)
	return o
}
