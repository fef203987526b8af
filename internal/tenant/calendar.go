package tenant

import (
	"kitaportal/internal/platform/date"
)

// Calendar answers the date questions of one tenant: when a Kita year starts, when a
// child enters school, and which age band a child is in on a given day. Search,
// availability, registration rules and the demo data all ask it, so they cannot drift.
type Calendar struct {
	start, cutoff MonthDay
	entryAge      int
	bands         []AgeBand
}

// Calendar returns the calendar of validated rules.
func (r *Rules) Calendar() Calendar {
	start, _ := ParseMonthDay(r.KitaYear.Start) // validated at load
	cutoff, _ := ParseMonthDay(r.KitaYear.SchoolCutoff)
	return Calendar{start: start, cutoff: cutoff, entryAge: r.KitaYear.SchoolEntryAge, bands: r.AgeBands}
}

// YearStart is the first day of the Kita year that contains d.
func (c Calendar) YearStart(d date.Date) date.Date {
	s := date.Of(d.Year(), c.start.Month, c.start.Day)
	if d.Before(s) {
		s = date.Of(d.Year()-1, c.start.Month, c.start.Day)
	}
	return s
}

// SchoolEntry is the Kita-year start at which a child born on birth enters school: the
// start of the school year whose cut-off day (in the same calendar year) is the first on
// which the child has reached the school entry age. Saxony (cut-off 30 June): born
// 2020-06-30 → 2026-08-01, born 2020-07-01 → 2027-08-01. NRW (cut-off 30 September,
// year from 1 August): born 2020-09-30 → 2026-08-01, weeks before the sixth birthday,
// as the law has it.
func (c Calendar) SchoolEntry(birth date.Date) date.Date {
	y := birth.Year() + c.entryAge
	if birth.Month() > c.cutoff.Month || (birth.Month() == c.cutoff.Month && birth.Day() > c.cutoff.Day) {
		y++
	}
	return date.Of(y, c.start.Month, c.start.Day)
}

// Fits tells whether a child born on birth belongs to band b on day on: born, old enough,
// not too old, and on the right side of school entry for bands that end or begin with it.
func (c Calendar) Fits(b AgeBand, birth, on date.Date) bool {
	if on.Before(birth) {
		return false
	}
	months := birth.MonthsUntil(on)
	if months < b.MinMonths || (b.MaxMonths > 0 && months >= b.MaxMonths) {
		return false
	}
	inSchool := !on.Before(c.SchoolEntry(birth))
	if b.UntilSchool && inSchool {
		return false
	}
	if b.SchoolAge && !inSchool {
		return false
	}
	return true
}

// BandAt is the first of the tenant's age bands the child fits on day on.
func (c Calendar) BandAt(birth, on date.Date) (AgeBand, bool) {
	for _, b := range c.bands {
		if c.Fits(b, birth, on) {
			return b, true
		}
	}
	return AgeBand{}, false
}
