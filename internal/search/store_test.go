package search

import (
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
