// Package date is a calendar date without time of day or zone: birth dates, desired starts,
// contract periods. It is parsed strictly at the edge (no 31 February) and stored as a
// PostgreSQL date.
package date

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"kitaportal/internal/platform/clock"
)

// Date is a day in the proleptic Gregorian calendar. The zero value is "no date".
type Date struct {
	t time.Time // always midnight UTC
}

// ErrInvalid is returned for text that is not a real YYYY-MM-DD date.
var ErrInvalid = errors.New("date: not a valid YYYY-MM-DD date")

// Of builds a date; out-of-range parts are normalised like time.Date does.
func Of(year int, month time.Month, day int) Date {
	return Date{time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// Parse reads YYYY-MM-DD and refuses impossible days such as 2026-02-31.
func Parse(s string) (Date, error) {
	if len(s) != 10 {
		return Date{}, ErrInvalid
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, ErrInvalid
	}
	if t.Year() < 1900 || t.Year() > 2200 {
		return Date{}, ErrInvalid
	}
	return Date{t}, nil
}

// MustParse is Parse for literals in code and tests.
func MustParse(s string) Date {
	d, err := Parse(s)
	if err != nil {
		panic(fmt.Sprintf("date.MustParse(%q): %v", s, err))
	}
	return d
}

// In returns the calendar day of t in Germany.
func In(t time.Time) Date {
	t = t.In(clock.Berlin)
	return Of(t.Year(), t.Month(), t.Day())
}

// Today is the current day in Germany according to c.
func Today(c clock.Clock) Date { return In(c.Now()) }

func (d Date) IsZero() bool       { return d.t.IsZero() }
func (d Date) Year() int          { return d.t.Year() }
func (d Date) Month() time.Month  { return d.t.Month() }
func (d Date) Day() int           { return d.t.Day() }
func (d Date) Time() time.Time    { return d.t }
func (d Date) Before(o Date) bool { return d.t.Before(o.t) }
func (d Date) After(o Date) bool  { return d.t.After(o.t) }
func (d Date) Equal(o Date) bool  { return d.t.Equal(o.t) }
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }
func (d Date) FirstOfMonth() Date { return Of(d.Year(), d.Month(), 1) }
func (d Date) Compare(o Date) int { return d.t.Compare(o.t) }
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// AddMonths adds n calendar months and clamps to the month's last day
// (31 January + 1 month = 28/29 February), which is how lead times are counted.
func (d Date) AddMonths(n int) Date {
	y, m := d.Year(), int(d.Month())-1+n
	y += m / 12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	last := Of(y, time.Month(m+1)+1, 0).Day()
	day := min(d.Day(), last)
	return Of(y, time.Month(m+1), day)
}

// MonthsUntil counts the whole months from d to later (negative when later is earlier):
// 2025-03-14 → 2026-03-13 is 11, → 2026-03-14 is 12.
func (d Date) MonthsUntil(later Date) int {
	months := (later.Year()-d.Year())*12 + int(later.Month()) - int(d.Month())
	if months >= 0 && d.AddMonths(months).After(later) {
		months--
	} else if months < 0 && d.AddMonths(months).Before(later) {
		months++
	}
	return months
}

// Scan reads a PostgreSQL date.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
	case time.Time:
		*d = Of(v.Year(), v.Month(), v.Day())
	case string:
		p, err := Parse(v)
		if err != nil {
			return err
		}
		*d = p
	case []byte:
		p, err := Parse(string(v))
		if err != nil {
			return err
		}
		*d = p
	default:
		return fmt.Errorf("date: cannot scan %T", src)
	}
	return nil
}

// Value writes a PostgreSQL date; the zero date is NULL.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// FormatIn writes the day the way lang does: 04.03.2022 in German, 4 Mar 2022 otherwise
// (messages with a date argument use it).
func (d Date) FormatIn(lang string) string {
	if d.IsZero() {
		return ""
	}
	if lang == "de" {
		return d.t.Format("02.01.2006")
	}
	return d.t.Format("2 Jan 2006") // English readers: day, month in words, year; never ISO
}

func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}
