package care

import (
	"fmt"
	"testing"
)

func TestParseHours(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want string
	}{
		{`{"fri": [["07:00", "15:30"]], "mon": [["07:00", "16:30"]]}`, "map[fri:[[07:00 15:30]] mon:[[07:00 16:30]]]"},
		{`{"mon": [["07:00", "12:00"], ["13:00", "17:00"]], "sat": []}`, "map[mon:[[07:00 12:00] [13:00 17:00]] sat:[]]"},
		{`{}`, "map[]"},
		{` {"tue":[["06:30","18:00"]]} `, "map[tue:[[06:30 18:00]]]"},
		{`{"wed": [["07:\u0030", "15:00"]]}`, "map[wed:[[07:0 15:00]]]"}, // escapes: encoding/json
	}
	for _, tt := range tests {
		h, err := ParseHours([]byte(tt.raw))
		if err != nil || fmt.Sprint(h) != tt.want {
			t.Errorf("ParseHours(%s) = %v, %v; want %s", tt.raw, h, err, tt.want)
		}
	}
	// The common shape never needs encoding/json.
	if _, ok := scanHours([]byte(`{"fri": [["07:00", "15:30"]], "mon": [["07:00", "12:00"], ["13:00", "16:30"]]}`)); !ok {
		t.Error("the scanner does not read what PostgreSQL writes")
	}
	for _, bad := range []string{`[`, `{"mon": [["07:00", "08:00"]]`, `nonsense`} {
		if _, err := ParseHours([]byte(bad)); err == nil {
			t.Errorf("ParseHours(%s) accepted garbage", bad)
		}
	}
}
