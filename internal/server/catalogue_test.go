package server_test

import (
	"testing"

	"kitaportal/internal/server"
)

// Every route names a permission of config/permissions.yaml (or is public), and every
// action of the catalogue belongs to a route: one action per endpoint, none forgotten.
func TestEveryRouteHasAPermissionFromTheCatalogue(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	routes, err := server.Routes(b.deps)
	if err != nil {
		t.Fatal(err)
	}
	cat := b.authz.Catalogue()
	used := map[string]bool{}
	for _, r := range routes {
		used[r.Permission] = true
		if r.Permission != server.PermPublic && r.Permission != server.PermPublicNoCSRF && !cat.Has(r.Permission) {
			t.Errorf("%s %s: permission %q is not in config/permissions.yaml (the route is denied)", r.Method, r.Path, r.Permission)
		}
	}
	for _, a := range cat.ActionNames() {
		if !used[a] {
			t.Errorf("action %s of the catalogue has no route", a)
		}
	}
}
