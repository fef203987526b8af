package provider

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
)

// Weekdays are the keys of opening hours, Monday first.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// maxIntervals per day: a morning and an afternoon, with room for an evening.
const maxIntervals = 3

var clockTime = regexp.MustCompile(`^([01]?[0-9]|2[0-4])[:.]([0-5][0-9])$`)

// parseClock reads "7:30", "07:30" or "7.30" as "07:30"; 24:00 is the end of the day.
func parseClock(s string) (string, bool) {
	m := clockTime.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", false
	}
	hour := m[1]
	if len(hour) == 1 {
		hour = "0" + hour
	}
	out := hour + ":" + m[2]
	if out > "24:00" {
		return "", false
	}
	return out, true
}

// ParseDayHours reads the opening times of one day as staff type them:
// "07:00-17:00", "7:30 – 12:00, 14:00 – 17:00"; empty means closed. field names the
// form field for errors.
func ParseDayHours(field, text string) ([][2]string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	var out [][2]string
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == '/' }) {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "–", "-"), "—", "-")
		from, until, ok := strings.Cut(part, "-")
		if !ok {
			return nil, apperr.Invalid(field, "provider_hours_format", nil)
		}
		f, okF := parseClock(from)
		u, okU := parseClock(until)
		if !okF || !okU {
			return nil, apperr.Invalid(field, "provider_hours_format", nil)
		}
		out = append(out, [2]string{f, u})
	}
	return out, checkDay(field, out)
}

// checkDay holds for intervals that open before they close, follow each other without
// overlapping, and are few.
func checkDay(field string, intervals [][2]string) error {
	if len(intervals) > maxIntervals {
		return apperr.Invalid(field, "provider_hours_too_many", map[string]any{"max": maxIntervals})
	}
	for i, iv := range intervals {
		if _, ok := parseClock(iv[0]); !ok {
			return apperr.Invalid(field, "provider_hours_format", nil)
		}
		if _, ok := parseClock(iv[1]); !ok {
			return apperr.Invalid(field, "provider_hours_format", nil)
		}
		if iv[0] >= iv[1] {
			return apperr.Invalid(field, "provider_hours_order", map[string]any{"from": iv[0], "until": iv[1]})
		}
		if i > 0 && iv[0] < intervals[i-1][1] {
			return apperr.Invalid(field, "provider_hours_overlap", nil)
		}
	}
	return nil
}

// CheckHours validates a whole week, as the API sends it.
func CheckHours(h care.OpeningHours) error {
	var errs apperr.List
	for day, intervals := range h {
		field := "opening_hours." + day
		if !slices.Contains(Weekdays, day) {
			errs = append(errs, apperr.Invalid(field, "provider_hours_day", nil))
			continue
		}
		if err := checkDay(field, intervals); err != nil {
			errs = append(errs, err.(*apperr.Error))
		}
	}
	slices.SortFunc(errs, func(a, b *apperr.Error) int { return strings.Compare(a.Field, b.Field) })
	return errs.Err()
}

// FormatDayHours writes one day the way ParseDayHours reads it.
func FormatDayHours(intervals [][2]string) string {
	parts := make([]string, len(intervals))
	for i, iv := range intervals {
		parts[i] = iv[0] + "-" + iv[1]
	}
	return strings.Join(parts, ", ")
}

// jsonHours is the stored form of opening hours.
func jsonHours(h care.OpeningHours) (string, error) {
	if h == nil {
		h = care.OpeningHours{}
	}
	raw, err := json.Marshal(h)
	return string(raw), err
}
