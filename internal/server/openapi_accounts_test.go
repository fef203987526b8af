package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kitaportal/internal/server"
)

var openAPIParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// Every route of the public JSON API (/api/v1, API.md) is described in an OpenAPI file of
// web/openapi.
func TestEveryAPIRouteIsInAnOpenAPIFile(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	routes, err := server.Routes(b.deps)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "web", "openapi", "*.json"))
	documented := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Paths map[string]map[string]any `json:"paths"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for p, ops := range doc.Paths {
			for m := range ops {
				documented[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	for _, r := range routes {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		key := r.Method + " " + openAPIParam.ReplaceAllString(r.Path, "{$1}")
		if !documented[key] {
			t.Errorf("%s is not in web/openapi/*.json", key)
		}
	}
}
