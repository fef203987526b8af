// Package availability computes the expected free places of a facility per age band, care
// scope and month, and keeps them materialised so search, profile and API read the very
// same numbers in real time.
//
// The model, per month (counted on its first day):
//
//   - capacity: places of the facility's groups of a band whose capacity period covers
//     the first day of the month (a group opening on 1 January counts from January);
//   - holders: contracts that overlap the month, and open or accepted offers that start
//     by its end. Each counts in the band the child is in on the first day it holds the
//     place that month (tenant.Calendar.BandAt), so children who move up to the next band
//     or leave for school free their place exactly then;
//   - care scope: a request for S weekly hours needs a group offering at least S hours;
//     a holder of H hours needs one offering at least H. Free places for S are therefore
//     the smallest surplus over every threshold T ≤ S of (places in groups offering ≥ T)
//     − (holders needing ≥ T).
//
// Free ≥ 1 is "free", anything less "not free" (negative: over capacity), and a facility
// without groups of the band has no figures at all: "unknown".
package availability

import (
	"slices"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// Status is the answer parents see: the blue house, the yellow house, or no house.
type Status string

// The three answers.
const (
	Free    Status = "free"
	NotFree Status = "not_free"
	Unknown Status = "unknown"
)

// StatusOf turns a number of free places into the answer; known is false when the
// facility has no figures for the band and month.
func StatusOf(free int, known bool) Status {
	switch {
	case !known:
		return Unknown
	case free >= 1:
		return Free
	default:
		return NotFree
	}
}

// Capacity is the number of places of a group from From until Until (exclusive; zero:
// open-ended).
type Capacity struct {
	From, Until date.Date
	Places      int
}

func (c Capacity) covers(d date.Date) bool {
	return !d.Before(c.From) && (c.Until.IsZero() || d.Before(c.Until))
}

// Group is a group of a facility with its capacity over time.
type Group struct {
	Band      string
	CareHours int // the longest weekly scope the group offers
	Capacity  []Capacity
}

// Holder is a child holding a place: a contract, or an open or accepted offer.
type Holder struct {
	Birth     date.Date
	From      date.Date // first day of care
	Until     date.Date // first day without care; zero: open-ended (offers)
	CareHours int
	// GroupBand is the band of the group the child is placed in, if known. It is used
	// only when the child fits none of the tenant's bands (rules changed, or a child
	// staying a little beyond its band), so the place is never counted as free.
	GroupBand string
	// Offer: an open or accepted offer, not a contract (the engine counts both alike;
	// the demand planning tells them apart).
	Offer bool
}

// Cell is the availability of one band and care scope in one month.
type Cell struct {
	Band      string
	CareHours int       // the scope asked for
	Month     date.Date // first day of the month
	Capacity  int       // places in groups of the band offering at least CareHours
	Free      int       // places left for one more child; negative when over capacity
}

// Status is the cell's answer.
func (c Cell) Status() Status { return StatusOf(c.Free, true) }

// Compute returns the cells of one facility for every month in months (first days, in
// order), every band the facility has groups of (in the order groups name them), and
// every scope in scopes. It is pure: the same inputs always give the same cells.
func Compute(cal tenant.Calendar, scopes []int, months []date.Date, groups []Group, holders []Holder) []Cell {
	var bands []string
	for _, g := range groups {
		if !slices.Contains(bands, g.Band) {
			bands = append(bands, g.Band)
		}
	}
	if len(bands) == 0 {
		return nil
	}
	cells := make([]Cell, 0, len(months)*len(bands)*len(scopes))
	var places []placeCount // reused per band and month
	var demand []placeCount
	for _, m := range months {
		next := m.AddMonths(1)
		demandByBand := map[string][]placeCount{}
		for _, h := range holders {
			if !next.After(h.From) || (!h.Until.IsZero() && !h.Until.After(m)) {
				continue // does not overlap the month
			}
			on := m
			if h.From.After(on) {
				on = h.From
			}
			band := h.GroupBand
			if b, ok := cal.BandAt(h.Birth, on); ok {
				band = b.Key
			}
			if band != "" {
				demandByBand[band] = append(demandByBand[band], placeCount{hours: h.CareHours, n: 1})
			}
		}
		for _, band := range bands {
			places = places[:0]
			for _, g := range groups {
				if g.Band != band {
					continue
				}
				for _, c := range g.Capacity {
					if c.covers(m) {
						places = append(places, placeCount{hours: g.CareHours, n: c.Places})
						break
					}
				}
			}
			demand = append(demand[:0], demandByBand[band]...)
			for _, s := range scopes {
				capacity, free := freeFor(s, places, demand)
				cells = append(cells, Cell{Band: band, CareHours: s, Month: m, Capacity: capacity, Free: free})
			}
		}
	}
	return cells
}

// placeCount is n places (or children) of a number of weekly hours.
type placeCount struct{ hours, n int }

// freeFor is how many more children needing scope hours fit: the smallest surplus of
// places over holders over every threshold T ≤ scope. The surplus only drops where the
// places of some group stop counting, so T = 1 and T = (each group's hours + 1) are the
// only thresholds to try. capacity is the number of places offering at least scope.
func freeFor(scope int, places, demand []placeCount) (capacity, free int) {
	atLeast := func(xs []placeCount, t int) int {
		n := 0
		for _, x := range xs {
			if x.hours >= t {
				n += x.n
			}
		}
		return n
	}
	capacity = atLeast(places, scope)
	free = capacity - atLeast(demand, scope)
	try := func(t int) {
		if t <= scope {
			free = min(free, atLeast(places, t)-atLeast(demand, t))
		}
	}
	try(1)
	for _, p := range places {
		try(p.hours + 1)
	}
	return capacity, free
}
