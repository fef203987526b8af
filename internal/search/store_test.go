package search

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// The search measures straight lines through the earth between the cube points the
// facility table keeps; kilometres along the surface come back exactly.
func TestEarthCircle(t *testing.T) {
	t.Parallel()
	for _, metres := range []float64{500, 2000, 50000} {
		centre, box, chord := earthCircle(Point{52.5104, 13.3947}, metres)
		if got := surfaceKm(chord) * 1000; math.Abs(got-metres) > 1e-6 {
			t.Errorf("%.0f m: back to %.9f m", metres, got)
		}
		if chord >= metres || metres-chord > metres*1e-5 {
			t.Errorf("%.0f m: chord %.6f", metres, chord)
		}
		if !strings.HasPrefix(centre, "(3776266.97") || strings.Count(box, ",") != 5 {
			t.Errorf("centre %s box %s (ll_to_earth(52.5104, 13.3947) is (3776266.97…, 899264.56…, 5060845.58…))", centre, box)
		}
	}
	if km := surfaceKm(2 * earthRadius * 2); km > math.Pi*earthRadius/1000+1e-9 {
		t.Errorf("beyond the antipode: %f", km)
	}
}

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
