package provider

import (
	"regexp"
	"strconv"
	"strings"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
)

// Reading typed values at the edge: forms, CSV cells and JSON all go through these, so a
// date or a number means the same wherever it is entered.

var germanDay = regexp.MustCompile(`^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$`)

// ParseDay reads YYYY-MM-DD or the German DD.MM.YYYY (what Excel writes); empty is the
// zero date, or "required" when required is set. 31 February is refused.
func ParseDay(field, s string, required bool) (date.Date, *apperr.Error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return date.Date{}, apperr.Invalid(field, "required", nil)
		}
		return date.Date{}, nil
	}
	if m := germanDay.FindStringSubmatch(s); m != nil {
		s = m[3] + "-" + pad2(m[2]) + "-" + pad2(m[1])
	}
	d, err := date.Parse(s)
	if err != nil {
		return date.Date{}, apperr.Invalid(field, "invalid_date", nil)
	}
	return d, nil
}

func pad2(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}

// ParseInt reads a whole number from min to max; empty is "required".
func ParseInt(field, s string, min, max int) (int, *apperr.Error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, apperr.Invalid(field, "required", nil)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, apperr.Invalid(field, "invalid_number", nil)
	}
	if n < min || n > max {
		return n, apperr.Invalid(field, "number_out_of_range", map[string]any{"min": min, "max": max})
	}
	return n, nil
}

// ParseBool reads the ways offices write yes and no; empty is no.
func ParseBool(field, s string) (bool, *apperr.Error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "nein", "no", "false", "n", "off":
		return false, nil
	case "1", "ja", "yes", "true", "j", "y", "x", "on":
		return true, nil
	}
	return false, apperr.Invalid(field, "invalid_boolean", nil)
}
