package server_test

import (
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
)

type apiProviders struct {
	Items []struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Kind       string `json:"kind"`
		Facilities int    `json:"facilities"`
	} `json:"items"`
}

// Parents filter by a named provider (only the AWO's Kitas): the start page and the
// result page offer the city's providers, the page and the API answer only that
// provider's facilities, and an id that is no provider of the city is refused clearly.
func TestSearchByNamedProvider(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "herzberg")
	all := decode[apiList](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?"+householdKey+"&per_page=100"))
	byProvider := map[string][]string{}
	for _, it := range all.Items {
		byProvider[it.Provider.ID] = append(byProvider[it.Provider.ID], it.ID)
	}

	// The list names every provider of the city's facilities, once, with its count.
	providers := decode[apiProviders](t, b.get(t, "herzberg.localhost", "/api/v1/providers"))
	if len(providers.Items) == 0 || len(providers.Items) != len(byProvider) {
		t.Fatalf("providers %d, of the facilities %d", len(providers.Items), len(byProvider))
	}
	for _, p := range providers.Items {
		if p.Facilities != len(byProvider[p.ID]) || p.Name == "" || p.Kind == "childminder" {
			t.Errorf("provider %+v: facilities %d", p, len(byProvider[p.ID]))
		}
	}
	home := b.get(t, "herzberg.localhost", "/")
	mustContain(t, home, `<select id="provider" name="provider"><option value="" selected>Alle Träger</option>`)
	for _, p := range providers.Items {
		mustContain(t, home, `<option value="`+p.ID+`">`+html.EscapeString(p.Name)+`</option>`)
	}

	// Filtered, the API and the page list exactly that provider's facilities.
	chosen := providers.Items[len(providers.Items)-1]
	q := householdKey + "&per_page=100&provider=" + chosen.ID
	got := decode[apiList](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?"+q))
	if got.Total != len(byProvider[chosen.ID]) || len(got.Items) != got.Total {
		t.Fatalf("provider %s: %d items, want %d", chosen.Name, got.Total, len(byProvider[chosen.ID]))
	}
	for _, it := range got.Items {
		if it.Provider.ID != chosen.ID {
			t.Errorf("%s of %s in the search for %s", it.Name, it.Provider.Name, chosen.Name)
		}
	}
	page := b.get(t, "herzberg.localhost", "/?"+q)
	if page.status != 200 {
		t.Fatalf("page: %d", page.status)
	}
	if ids := resultIDs.FindAllStringSubmatch(page.body, -1); len(ids) != got.Total {
		t.Errorf("page lists %d, API %d", len(ids), got.Total)
	}
	mustContain(t, page, `<option value="`+chosen.ID+`" selected>`, `<details class="filters" open>`)
	// The links to the next page and the profiles keep the filter.
	if u := "provider=" + url.QueryEscape(chosen.ID); !strings.Contains(page.body, html.EscapeString(u)) && !strings.Contains(page.body, u) {
		t.Error("the page's links drop the provider")
	}
	// Combined with the other filters (existing parameters unchanged): all must hold.
	if r := decode[apiList](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?"+q+"&provider_kind=company")); r.Total != 0 && chosen.Kind != "company" {
		t.Errorf("provider and another kind: %d", r.Total)
	}
	if r := decode[apiList](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?"+q+"&provider_kind="+chosen.Kind)); r.Total != got.Total {
		t.Errorf("provider and its own kind: %d, want %d", r.Total, got.Total)
	}
	// Two providers: either.
	first := providers.Items[0]
	if r := decode[apiList](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?"+q+","+first.ID)); len(providers.Items) > 1 && r.Total != got.Total+len(byProvider[first.ID]) {
		t.Errorf("two providers: %d", r.Total)
	}

	// Another city's provider, an unknown id and garbage: refused, naming the field.
	other := uuid.New()
	b.exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'AWO Kempten', 'welfare')`, b.tenant(t, "kempten").ID, other)
	for _, tc := range []struct{ value, code, message string }{
		{other.String(), "unknown_provider", "Diesen Träger gibt es in diesem Portal nicht."},
		{uuid.NewString(), "unknown_provider", "Diesen Träger gibt es in diesem Portal nicht."},
		{"AWO", "invalid_provider", "Bitte wählen Sie einen Träger aus der Liste."},
		{chosen.ID + "%27%20OR%201=1", "invalid_provider", "Bitte wählen Sie einen Träger aus der Liste."},
	} {
		r := b.get(t, "herzberg.localhost", "/api/v1/facilities?"+householdKey+"&provider="+tc.value)
		if e := decode[apiError](t, r); r.status != 422 || e.Error.Code != tc.code || e.Error.Field != "provider" || !strings.HasPrefix(e.Error.Message, tc.message) {
			t.Errorf("API provider=%s: %d %+v", tc.value, r.status, e.Error)
		}
		page := b.get(t, "herzberg.localhost", "/?"+householdKey+"&provider="+tc.value)
		if page.status != 422 {
			t.Errorf("page provider=%s: %d", tc.value, page.status)
		}
		mustContain(t, page, tc.message, `<a href="#provider">`)
		if strings.Contains(page.body, "AWO Kempten") {
			t.Error("herzberg's page names kempten's provider")
		}
	}
	// Kempten's list holds only its own; Herzberg's never Kempten's.
	if strings.Contains(b.get(t, "herzberg.localhost", "/api/v1/providers").body, "AWO Kempten") {
		t.Error("herzberg lists kempten's provider")
	}
	if r := decode[apiProviders](t, b.get(t, "kempten.localhost", "/api/v1/providers")); len(r.Items) != 0 {
		t.Errorf("kempten without facilities lists %+v", r.Items)
	}
	// English labels.
	mustContain(t, b.get(t, "herzberg.localhost", "/?"+householdKey, "Accept-Language", "en"), `<option value="" selected>Any provider</option>`)
}
