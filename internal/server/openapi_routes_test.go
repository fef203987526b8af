package server

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"kitaportal/internal/platform/clock"
	"kitaportal/web"
)

// The OpenAPI file and routes.go describe the same API: every /api/v1 route is
// documented with its method, and nothing is documented that does not exist.
func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	t.Parallel()
	raw, err := web.FS.ReadFile("openapi/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI 3: %v", err)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	var routed []string
	// Handlers are only listed here, never called: empty dependencies are enough.
	for _, r := range routes(Deps{Clock: clock.System{}}, &components{}) {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			routed = append(routed, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
		}
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(routed)
	slices.Sort(documented)
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("openapi.json documents %s, which routes.go does not serve", d)
		}
	}
	if len(routed) < 4 {
		t.Errorf("only %d API routes found: %v", len(routed), routed)
	}
}
