package demo

import (
	"math/rand/v2"
	"time"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// calendar is the tenant's calendar plus what only the demo needs: planned contract ends
// and plausible start dates.
type calendar struct {
	tenant.Calendar
	startMonth time.Month
	startDay   int
}

func newCalendar(r *tenant.Rules) calendar {
	start, _ := tenant.ParseMonthDay(r.KitaYear.Start) // validated at load
	return calendar{Calendar: r.Calendar(), startMonth: start.Month, startDay: start.Day}
}

// monthAfter is the first day of the month after d.
func monthAfter(d date.Date) date.Date { return date.Of(d.Year(), d.Month()+1, 1) }

// firstOnOrAfter is d when it is the first of a month, else the first of the next month.
func firstOnOrAfter(d date.Date) date.Date {
	if d.Day() == 1 {
		return d
	}
	return monthAfter(d)
}

// plannedEnd is the exclusive end of a contract as planned at signing: Krippe-only
// facilities and Kindertagespflege care until the end of the month of the third
// birthday, Kitas and Kindergärten until school entry, Horte for four school years.
func (c calendar) plannedEnd(facilityType string, birth date.Date) date.Date {
	switch facilityType {
	case typeKrippe, typeTagespflege, typeGrosstagespflege:
		return monthAfter(birth.AddMonths(36))
	case typeHort:
		return c.SchoolEntry(birth).AddMonths(48)
	default:
		return c.SchoolEntry(birth)
	}
}

// contractStart picks a plausible start between earliest and latest (both inclusive):
// most contracts begin at a Kita-year start, the others on the first of some month.
// When no first of a month lies in the range, the contract starts on earliest itself
// (the end of parental leave, say).
func (c calendar) contractStart(rng *rand.Rand, earliest, latest date.Date) date.Date {
	first := firstOnOrAfter(earliest)
	if first.After(latest) {
		return earliest
	}
	var months, yearStarts []date.Date
	for m := first; !m.After(latest); m = monthAfter(m) {
		months = append(months, m)
		if m.Month() == c.startMonth && c.startDay == 1 {
			yearStarts = append(yearStarts, m)
		}
	}
	if len(yearStarts) > 0 && rng.Float64() < 0.6 {
		return yearStarts[rng.IntN(len(yearStarts))]
	}
	return months[rng.IntN(len(months))]
}
