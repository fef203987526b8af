package search

import (
	"strconv"
	"strings"

	"kitaportal/internal/availability"
	"kitaportal/internal/care"
	"kitaportal/internal/platform/i18n"
)

// Words formats figures and facility data in one language for the pages.
type Words struct {
	cat  *i18n.Catalogue
	lang string
}

// NewWords returns the formatter for lang.
func NewWords(cat *i18n.Catalogue, lang string) Words { return Words{cat: cat, lang: lang} }

// T translates a key.
func (w Words) T(key string, args map[string]any) string { return w.cat.T(w.lang, key, args) }

// Km writes a distance the language's way: "1,2 km" in German, "1.2 km" in English.
func (w Words) Km(km float64) string {
	s := strconv.FormatFloat(km, 'f', 1, 64)
	if km >= 10 || km == float64(int(km)) {
		s = strconv.FormatFloat(km, 'f', 0, 64)
	}
	if w.lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " km"
}

// Age writes an age in months as people say it: "8 Monate", "1 Jahr", "2½ Jahre".
func (w Words) Age(months int) string {
	switch {
	case months < 24 && months%12 != 0:
		return w.T("age.months", map[string]any{"n": months})
	case months == 12:
		return w.T("age.year", nil)
	case months%12 == 0:
		return w.T("age.years", map[string]any{"n": months / 12})
	case months%12 == 6:
		return w.T("age.years", map[string]any{"n": strconv.Itoa(months/12) + "½"})
	default:
		return w.T("age.months", map[string]any{"n": months})
	}
}

// AgeRange is the range of ages a facility takes: "8 Monate bis 7 Jahre".
func (w Words) AgeRange(minMonths, maxMonths int) string {
	return w.T("age.range", map[string]any{"min": w.Age(minMonths), "max": w.Age(maxMonths)})
}

// Hours groups the opening hours into runs of days with the same times, Monday first:
// "Mo–Do 07:00–16:30", "Fr 07:00–15:30".
func (w Words) Hours(h care.OpeningHours) []care.HoursLine {
	var out []care.HoursLine
	times := func(day string) string {
		var parts []string
		for _, iv := range h[day] {
			parts = append(parts, iv[0]+"–"+iv[1])
		}
		return strings.Join(parts, ", ")
	}
	for i := 0; i < len(care.Weekdays); {
		t := times(care.Weekdays[i])
		j := i + 1
		for j < len(care.Weekdays) && times(care.Weekdays[j]) == t {
			j++
		}
		if t != "" {
			days := w.T("day."+care.Weekdays[i], nil)
			if j-i > 1 {
				days += "–" + w.T("day."+care.Weekdays[j-1], nil)
			}
			out = append(out, care.HoursLine{Days: days, Times: t})
		}
		i = j
	}
	return out
}

// StatusText is the words for an availability answer.
func (w Words) StatusText(s availability.Status) string { return w.T("status."+string(s), nil) }

// Day is the full name of a weekday ("mon" → "Montag").
func (w Words) Day(day string) string { return w.T("day.long."+day, nil) }
