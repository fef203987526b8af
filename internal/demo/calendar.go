package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// calendar answers the date questions of one tenant's Kita year: when a year starts and
// when a child enters school.
type calendar struct {
	startMonth  time.Month
	startDay    int
	cutoffMonth time.Month
	cutoffDay   int
	entryAge    int
}

func newCalendar(ky tenant.KitaYear) (calendar, error) {
	sm, sd, err := parseMonthDay(ky.Start)
	if err != nil {
		return calendar{}, fmt.Errorf("kita_year.start: %w", err)
	}
	cm, cd, err := parseMonthDay(ky.SchoolCutoff)
	if err != nil {
		return calendar{}, fmt.Errorf("kita_year.school_cutoff: %w", err)
	}
	if ky.SchoolEntryAge <= 0 {
		return calendar{}, fmt.Errorf("kita_year.school_entry_age: %d", ky.SchoolEntryAge)
	}
	return calendar{startMonth: sm, startDay: sd, cutoffMonth: cm, cutoffDay: cd, entryAge: ky.SchoolEntryAge}, nil
}

func parseMonthDay(s string) (time.Month, int, error) {
	t, err := time.Parse("01-02", s)
	if err != nil {
		return 0, 0, fmt.Errorf("%q is not MM-DD", s)
	}
	return t.Month(), t.Day(), nil
}

// yearStart is the first day of the Kita year that contains d.
func (c calendar) yearStart(d date.Date) date.Date {
	s := date.Of(d.Year(), c.startMonth, c.startDay)
	if d.Before(s) {
		s = date.Of(d.Year()-1, c.startMonth, c.startDay)
	}
	return s
}

// schoolEntry is the Kita-year start at which a child born on birth enters school: the
// start of the school year whose cutoff day (in the same calendar year) is the first on
// which the child is old enough. Saxony (cutoff 30 June): born 2020-06-30 → 2026-08-01,
// born 2020-07-01 → 2027-08-01. NRW (cutoff 30 September, year starts 1 August): born
// 2020-09-30 → 2026-08-01, a few weeks before the sixth birthday, as the law has it.
func (c calendar) schoolEntry(birth date.Date) date.Date {
	y := birth.Year() + c.entryAge
	if birth.Month() > c.cutoffMonth || (birth.Month() == c.cutoffMonth && birth.Day() > c.cutoffDay) {
		y++
	}
	return date.Of(y, c.startMonth, c.startDay)
}

// ageMonths is the age in whole months on day on.
func ageMonths(birth, on date.Date) int { return birth.MonthsUntil(on) }

// fits tells whether a child born on birth belongs to band b on day on: old enough, not
// too old, and on the right side of school entry for bands that end or begin with it.
func (c calendar) fits(b tenant.AgeBand, birth, on date.Date) bool {
	if on.Before(birth) {
		return false // MonthsUntil rounds toward zero: not yet born would count as 0 months
	}
	a := ageMonths(birth, on)
	if a < b.MinMonths || (b.MaxMonths > 0 && a >= b.MaxMonths) {
		return false
	}
	inSchool := !on.Before(c.schoolEntry(birth))
	if b.UntilSchool && inSchool {
		return false
	}
	if b.SchoolAge && !inSchool {
		return false
	}
	return true
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
		return c.schoolEntry(birth).AddMonths(48)
	default:
		return c.schoolEntry(birth)
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
