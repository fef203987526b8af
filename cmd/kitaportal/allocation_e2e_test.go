package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `kitaportal allocation run` on a market file: twins placed together, the output in
// the documented shape; a broken file is refused with the row.
func TestAllocationRunOnAMarketFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	market := filepath.Join(dir, "market.json")
	if err := os.WriteFile(market, []byte(`{
		"facilities": [{"id": "A", "seats": {"krippe/35": 2}}, {"id": "B", "seats": {"krippe/35": 2}}],
		"children": [
			{"id": "anna", "band": "krippe", "hours": 35, "prefs": ["A", "B"], "points": 9, "local": {}, "tiebreak": 0.1, "twin_of": null},
			{"id": "t1", "band": "krippe", "hours": 35, "prefs": ["A", "B"], "points": 5, "local": {}, "tiebreak": 0.2, "twin_of": "t2"},
			{"id": "t2", "band": "krippe", "hours": 35, "prefs": ["A", "B"], "points": 5, "local": {}, "tiebreak": 0.3, "twin_of": "t1"},
			{"id": "ben", "band": "krippe", "hours": 35, "prefs": ["A"], "points": 1, "local": {"A": 0}, "tiebreak": 0.4, "twin_of": null},
			{"id": "cem", "band": "kindergarten", "hours": 35, "prefs": ["A"], "points": 1, "local": {}, "tiebreak": 0.5, "twin_of": null}
		]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	out, err := runCmd(t, environ, "allocation", "run", "--market", market)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got struct {
		Assignments map[string]*string `json:"assignments"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]string{"anna": "A", "t1": "B", "t2": "B", "ben": "A", "cem": ""}
	for child, f := range want {
		a, ok := got.Assignments[child]
		if !ok || (f == "" && a != nil) || (f != "" && (a == nil || *a != f)) {
			t.Errorf("%s: got %v, want %q\n%s", child, a, f, out)
		}
	}
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"facilities":[{"id":"A","seats":{"krippe/35":-2}}],"children":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, environ, "allocation", "run", "--market", broken); err == nil || !strings.Contains(out, `facilities[0].seats["krippe/35"]: -2 seats`) {
		t.Errorf("broken market: %v\n%s", err, out)
	}
}
