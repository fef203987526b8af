package server_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"kitaportal/internal/demo"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant/tenanttest"
)

// The search scenarios run on a fixed day with demo data seeded for that day.
var (
	seedDay = date.MustParse("2026-11-21")
	testNow = time.Date(2026, 11, 21, 10, 0, 0, 0, clock.Berlin)
)

func setupSeeded(t *testing.T, slugs ...string) *bundle {
	t.Helper()
	b := setupWith(t, nil, clock.NewManual(testNow))
	for _, slug := range slugs {
		if _, err := demo.Seed(context.Background(), b.db, tenanttest.Get(t, b.reg, slug), seedDay); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// apiItem is a search result as the API returns it.
type apiItem struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Provider struct {
		ID, Name, Kind string
	} `json:"provider"`
	Address struct {
		PLZ  string `json:"plz"`
		City string `json:"city"`
	} `json:"address"`
	DistanceKm   *float64               `json:"distance_km"`
	Concepts     []string               `json:"concepts"`
	OpeningHours map[string][][2]string `json:"opening_hours"`
	BarrierFree  bool                   `json:"barrier_free"`
	Lunch        bool                   `json:"lunch"`
	AgeFit       bool                   `json:"age_fit"`
	Availability string                 `json:"availability"`
}

type apiList struct {
	Items   []apiItem `json:"items"`
	Total   int       `json:"total"`
	Page    int       `json:"page"`
	PerPage int       `json:"per_page"`
	Search  struct {
		AgeBand   string `json:"age_band"`
		CareHours int    `json:"care_hours"`
		Month     string `json:"month"`
		From      string `json:"from"`
	} `json:"search"`
}

type apiError struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Field   string         `json:"field"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("status %d: not JSON: %v\n%.400s", r.status, err, r.body)
	}
	return v
}

var (
	resultIDs    = regexp.MustCompile(`<li class="result" id="f-([0-9a-f-]{36})"[^>]*data-status="([a-z_]+)"`)
	householdKey = "birth_date=2025-03-14&start_date=2027-08-01"
)

func TestSearchAroundAPostcodeInListMapAndAPI(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "kempten")
	query := householdKey + "&plz=87435&radius_km=3&per_page=100"

	page := b.get(t, "kempten.localhost", "/?"+query)
	if page.status != 200 {
		t.Fatalf("status %d\n%.800s", page.status, page.body)
	}
	mustContain(t, page, "Angebote im Umkreis von 3 km um 87435 Kempten", `role="status" aria-live="polite"`,
		`id="map"`, `data-tiles="/tiles/{z}/{x}/{y}.png"`, "© OpenStreetMap contributors",
		"Altersgruppe: Krippe (unter 3 Jahren)", "Aufnahmealter", "Merken")
	api := decode[apiList](t, b.get(t, "kempten.localhost", "/api/v1/facilities?"+query))
	if api.Total == 0 || len(api.Items) != api.Total || api.Search.AgeBand != "krippe" || api.Search.Month != "2027-08" {
		t.Fatalf("API: total %d items %d search %+v", api.Total, len(api.Items), api.Search)
	}

	// The page lists exactly what the API returns, in the same order, with the same answers.
	matches := resultIDs.FindAllStringSubmatch(page.body, -1)
	if len(matches) != len(api.Items) {
		t.Fatalf("page lists %d, API %d", len(matches), len(api.Items))
	}
	statuses := map[string]int{}
	last := -1.0
	for i, it := range api.Items {
		if matches[i][1] != it.ID || matches[i][2] != it.Availability {
			t.Errorf("item %d: page %s/%s, API %s/%s", i, matches[i][1], matches[i][2], it.ID, it.Availability)
		}
		if it.DistanceKm == nil || *it.DistanceKm > 3 || *it.DistanceKm < last {
			t.Errorf("%s: distance %v after %v (want ascending, within 3 km)", it.Name, it.DistanceKm, last)
		} else {
			last = *it.DistanceKm
		}
		statuses[it.Availability]++
	}
	// Blue and yellow houses, with their words.
	if statuses["free"] == 0 || statuses["not_free"] == 0 {
		t.Errorf("statuses %v: want free and not free places", statuses)
	}
	mustContain(t, page, "voraussichtlich frei", "voraussichtlich nicht frei", "house-free.svg", "house-not_free.svg")

	// English, and the same facilities.
	en := b.get(t, "kempten.localhost", "/?"+query, "Accept-Language", "en")
	mustContain(t, en, "offers within 3 km of 87435 Kempten", "expected to be free")
	if got := resultIDs.FindAllStringSubmatch(en.body, -1); len(got) != len(matches) {
		t.Errorf("English page lists %d, German %d", len(got), len(matches))
	}
}

func TestSearchByStreetAndForTheWholeCity(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "herzberg")
	// A street of Herzberg, typed with an abbreviation and a house number.
	r := b.get(t, "herzberg.localhost", "/?"+householdKey+"&address="+url.QueryEscape("Torgauer Str. 12"))
	mustContain(t, r, "um Torgauer Straße, 04916 Herzberg (Elster)")
	// No place: every facility of the city, by name.
	all := decode[apiList](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?"+householdKey))
	if all.Total != 7 || len(all.Items) != 7 {
		t.Fatalf("whole city: %d of %d", len(all.Items), all.Total)
	}
	for i, it := range all.Items {
		if it.DistanceKm != nil {
			t.Errorf("%s has a distance without a place", it.Name)
		}
		if i > 0 && all.Items[i-1].Name > it.Name {
			t.Errorf("not by name: %q before %q", all.Items[i-1].Name, it.Name)
		}
	}
	mustContain(t, b.get(t, "herzberg.localhost", "/?"+householdKey), "7 Angebote im Gebiet Stadt Herzberg (Elster)")
	// A start in the past: answers from today, and the page says so.
	past := b.get(t, "herzberg.localhost", "/?birth_date=2025-03-14&start_date=2026-08-01")
	mustContain(t, past, "Der gewünschte Beginn (01.08.2026) liegt in der Vergangenheit")
	if got := decode[apiList](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?birth_date=2025-03-14&start_date=2026-08-01")); got.Search.From != "2026-11-21" || got.Search.Month != "2026-11" {
		t.Errorf("past start: from %s month %s", got.Search.From, got.Search.Month)
	}
	// Pages: two per page, the last page, then beyond.
	p4 := decode[apiList](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?"+householdKey+"&per_page=2&page=4"))
	if len(p4.Items) != 1 || p4.Total != 7 {
		t.Errorf("last page: %d items of %d", len(p4.Items), p4.Total)
	}
	html := b.get(t, "herzberg.localhost", "/?"+householdKey+"&per_page=2&page=2")
	mustContain(t, html, "Seite 2 von 4", `rel="prev"`, `rel="next"`)
}

func TestFiltersCombine(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "kempten")
	all := decode[apiList](t, b.get(t, "kempten.localhost", "/api/v1/facilities?"+householdKey+"&per_page=100"))
	if all.Total < 50 {
		t.Fatalf("Kempten has %d facilities?", all.Total)
	}
	check := func(name, filter string, ok func(it apiItem) bool) int {
		t.Helper()
		got := decode[apiList](t, b.get(t, "kempten.localhost", "/api/v1/facilities?"+householdKey+"&per_page=100&"+filter))
		if got.Total > all.Total || len(got.Items) != got.Total {
			t.Errorf("%s: %d of %d (page %d)", name, got.Total, all.Total, len(got.Items))
		}
		for _, it := range got.Items {
			if !ok(it) {
				t.Errorf("%s: %s (%s) does not match", name, it.Name, it.Type)
			}
		}
		return got.Total
	}
	opensBy := func(limit string) func(apiItem) bool {
		return func(it apiItem) bool {
			for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
				if len(it.OpeningHours[d]) == 0 || it.OpeningHours[d][0][0] > limit {
					return false
				}
			}
			return true
		}
	}
	n := check("types", "type=kita&type=tagespflege", func(it apiItem) bool { return it.Type == "kita" || it.Type == "tagespflege" })
	if n == 0 {
		t.Error("no Kitas or Kindertagespflege in Kempten?")
	}
	check("provider kinds", "provider_kind=church,municipal", func(it apiItem) bool {
		return it.Provider.Kind == "church" || it.Provider.Kind == "municipal"
	})
	check("concept", "concept=montessori&concept=waldorf", func(it apiItem) bool {
		return slices.Contains(it.Concepts, "montessori") || slices.Contains(it.Concepts, "waldorf")
	})
	check("opens by", "opens_by=07:00", opensBy("07:00"))
	check("closes after", "closes_after=17:00", func(it apiItem) bool {
		for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
			h := it.OpeningHours[d]
			if len(h) == 0 || h[len(h)-1][1] < "17:00" {
				return false
			}
		}
		return true
	})
	check("features", "barrier_free=1&lunch=true", func(it apiItem) bool { return it.BarrierFree && it.Lunch })
	free := check("expected free", "available_only=1", func(it apiItem) bool { return it.Availability == "free" && it.AgeFit })
	fit := check("age fit", "age_fit_only=1", func(it apiItem) bool { return it.AgeFit })
	if free == 0 || fit == 0 || free > fit {
		t.Errorf("free %d, age fit %d", free, fit)
	}
	combined := check("everything at once", "type=kita&opens_by=07:30&barrier_free=1&available_only=1&care_hours=45",
		func(it apiItem) bool {
			return it.Type == "kita" && opensBy("07:30")(it) && it.BarrierFree && it.Availability == "free"
		})
	if combined > free {
		t.Errorf("combined filters found more (%d) than one of them (%d)", combined, free)
	}
	none := b.get(t, "kempten.localhost", "/?"+householdKey+"&type=hort&concept=waldkindergarten&opens_by=06:00")
	if none.status != 200 {
		t.Errorf("no hits is not an error: %d", none.status)
	}
	mustContain(t, none, "Keine passenden Angebote gefunden")
}

func TestSameAnswersInSearchProfileAndAPI(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "herzberg")
	for _, child := range []string{householdKey, "birth_date=2022-06-01&start_date=2027-02-01&care_hours=40"} {
		list := decode[apiList](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?"+child))
		for _, it := range list.Items {
			profile := decode[struct {
				Name         string `json:"name"`
				AgeFit       *bool  `json:"age_fit"`
				Availability string `json:"availability"`
				Places       []struct {
					AgeBand string `json:"age_band"`
					Places  int    `json:"places"`
				} `json:"places"`
			}](t, b.get(t, "herzberg.localhost", "/api/v1/facilities/"+it.ID+"?"+child))
			if profile.Name != it.Name || profile.AgeFit == nil || *profile.AgeFit != it.AgeFit || profile.Availability != it.Availability {
				t.Errorf("%s: search %v/%s, profile %v/%s", it.Name, it.AgeFit, it.Availability, profile.AgeFit, profile.Availability)
			}
			months := decode[struct {
				Items []struct {
					Month     string `json:"month"`
					AgeBand   string `json:"age_band"`
					CareHours int    `json:"care_hours"`
					Free      int    `json:"free"`
					Status    string `json:"status"`
				} `json:"items"`
			}](t, b.get(t, "herzberg.localhost", "/api/v1/facilities/"+it.ID+"/availability?from="+list.Search.Month+"&to="+list.Search.Month))
			status := "unknown"
			for _, c := range months.Items {
				if c.AgeBand == list.Search.AgeBand && c.CareHours == list.Search.CareHours {
					status = c.Status
				}
			}
			if status != it.Availability {
				t.Errorf("%s: availability API says %s, search %s", it.Name, status, it.Availability)
			}
			page := b.get(t, "herzberg.localhost", "/facilities/"+it.ID+"?"+child)
			if page.status != 200 || !strings.Contains(page.body, `class="house house-`+it.Availability+`"`) {
				t.Errorf("%s: profile page %d does not show %s", it.Name, page.status, it.Availability)
			}
		}
	}
}

func TestProfilePage(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "kempten")
	list := decode[apiList](t, b.get(t, "kempten.localhost", "/api/v1/facilities?"+householdKey+"&type=kita"))
	id := list.Items[0].ID
	page := b.get(t, "kempten.localhost", "/facilities/"+id)
	if page.status != 200 {
		t.Fatalf("profile: %d", page.status)
	}
	mustContain(t, page, "<h1 id=\"facility-name\">"+template(list.Items[0].Name)+"</h1>", "Über die Einrichtung", "Öffnungszeiten", "Montag", "Freitag",
		"Alter und Plätze", "Voraussichtlich freie Plätze", "/facilities/"+id+"/photos/1", `alt="Das Haus von der Straße aus"`,
		`id="map"`, "Std./Woche")
	// Twelve months of availability, from the current one.
	if n := strings.Count(page.body, `<tr><th scope="row">`) - 7; n < 12 { // minus the weekdays and bands
		t.Errorf("only %d rows in the month table", n)
	}
	mustContain(t, page, "November 2026", "Oktober 2027")
	// Every landmark has a name of its own (axe: landmark-unique).
	named := map[string]int{}
	for _, m := range regexp.MustCompile(`aria-labelledby="([^"]+)"|role="region" aria-label="([^"]+)"`).FindAllStringSubmatch(page.body, -1) {
		named[m[1]+m[2]]++
	}
	for name, n := range named {
		if n > 1 {
			t.Errorf("%d landmarks are named by %q", n, name)
		}
	}
	photo := b.get(t, "kempten.localhost", "/facilities/"+id+"/photos/1")
	if photo.status != 200 || photo.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(photo.header.Get("Content-Security-Policy"), "sandbox") ||
		!strings.HasPrefix(photo.body, "<svg") {
		t.Errorf("photo: %d %q", photo.status, photo.header.Get("Content-Type"))
	}
	if r := b.get(t, "kempten.localhost", "/facilities/"+id+"/photos/9"); r.status != 404 {
		t.Errorf("missing photo: %d", r.status)
	}
	// A bad child on the profile is named, the profile still shows.
	bad := b.get(t, "kempten.localhost", "/facilities/"+id+"?birth_date=2025-02-31&start_date=2027-08-01")
	if bad.status != 200 || !strings.Contains(bad.body, "Bitte ein gültiges Datum angeben") {
		t.Errorf("profile with a bad child: %d", bad.status)
	}
}

// template escapes like html/template does for the few characters names contain.
func template(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;").Replace(s)
}

func TestSearchRefusesBadInputClearly(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "kempten", "herzberg")
	tests := []struct {
		name, query, field, code string
	}{
		{"31 February", "birth_date=2025-02-31&start_date=2027-08-01", "birth_date", "invalid_date"},
		{"start before birth", "birth_date=2025-03-14&start_date=2024-08-01", "start_date", "start_before_birth"},
		{"too old for every band", "birth_date=2012-01-01&start_date=2027-08-01", "birth_date", "child_too_old"},
		{"unknown postcode", householdKey + "&plz=99999", "plz", "unknown_plz"},
		{"another city's postcode", householdKey + "&plz=04916", "plz", "unknown_plz"},
		{"unknown street", householdKey + "&address=Nirgendwoweg", "address", "unknown_address"},
		{"radius out of range", householdKey + "&plz=87435&radius_km=500", "radius_km", "radius_out_of_range"},
		{"garbage type", householdKey + "&type=%3Cscript%3E", "type", "invalid_choice"},
		{"garbage care hours", householdKey + "&care_hours=33", "care_hours", "care_hours_not_offered"},
		{"garbage time", householdKey + "&opens_by=7%20Uhr", "opens_by", "invalid_time"},
		{"garbage flag", householdKey + "&barrier_free=vielleicht", "barrier_free", "invalid_boolean"},
		{"page beyond the end", householdKey + "&page=99", "page", "page_out_of_range"},
		{"per_page garbage", householdKey + "&per_page=x", "per_page", "number_out_of_range"},
	}
	for _, tt := range tests {
		for _, lang := range []string{"de", "en"} {
			r := b.get(t, "kempten.localhost", "/api/v1/facilities?"+tt.query, "Accept-Language", lang)
			e := decode[apiError](t, r)
			if r.status != 422 || e.Error.Code != tt.code || e.Error.Field != tt.field || e.Error.Message == "" || e.Error.Details["rule"] != tt.code {
				t.Errorf("%s (%s): %d %+v", tt.name, lang, r.status, e.Error)
			}
			if lang == "en" && strings.ContainsAny(e.Error.Message, "äöüß") {
				t.Errorf("%s: English message looks German: %q", tt.name, e.Error.Message)
			}
		}
		// The page shows the form again with the problem named and linked to its field.
		page := b.get(t, "kempten.localhost", "/?"+tt.query)
		field := tt.field
		switch field {
		case "plz":
			field = "address"
		case "page", "per_page":
			field = "results"
		}
		if page.status != 422 || !strings.Contains(page.body, `class="error-summary"`) || !strings.Contains(page.body, `<a href="#`+field+`">`) {
			t.Errorf("%s: page %d lacks the linked error summary for #%s", tt.name, page.status, field)
		}
	}
	// Several problems at once: every one is listed.
	r := b.get(t, "kempten.localhost", "/api/v1/facilities?birth_date=2025-02-31&radius_km=0&type=ufo")
	e := decode[apiError](t, r)
	if errs, _ := e.Error.Details["errors"].([]any); r.status != 422 || e.Error.Code != "validation_failed" || len(errs) < 4 {
		t.Errorf("several problems: %d %+v", r.status, e.Error)
	}
	page := b.get(t, "kempten.localhost", "/?birth_date=2025-02-31&radius_km=0&type=ufo")
	for _, want := range []string{`href="#birth_date"`, `href="#start_date"`, `href="#radius_km"`, `href="#type"`, `aria-invalid="true"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("page with several problems lacks %s", want)
		}
	}
	// The date and the postcode are both wrong: the postcode, which only the city's data
	// can refuse, is named beside the date, on the page and in the API.
	both := decode[apiError](t, b.get(t, "kempten.localhost", "/api/v1/facilities?birth_date=2025-02-31&start_date=2027-08-01&plz=99999"))
	if !strings.Contains(jsonString(both.Error.Details), "unknown_plz") || !strings.Contains(jsonString(both.Error.Details), "invalid_date") {
		t.Errorf("31 February and an unknown postcode: %+v", both.Error)
	}
	if page := b.get(t, "kempten.localhost", "/?birth_date=2025-02-31&start_date=2027-08-01&plz=99999"); !strings.Contains(page.body, `href="#birth_date"`) ||
		!strings.Contains(page.body, `href="#address"`) {
		t.Errorf("the page names only one of the two problems")
	}
	// A misspelt street gets suggestions.
	typo := decode[apiError](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?"+householdKey+"&address=Torgauer%20Strase"))
	if s, _ := typo.Error.Details["suggestions"].([]any); len(s) == 0 || !strings.Contains(s[0].(string), "Torgauer Straße") {
		t.Errorf("suggestions: %+v", typo.Error)
	}
}

func TestFacilitiesStayInTheirCity(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "kempten", "herzberg")
	kempten := decode[apiList](t, b.get(t, "kempten.localhost", "/api/v1/facilities?"+householdKey))
	id := kempten.Items[0].ID
	for _, path := range []string{"/facilities/" + id, "/facilities/" + id + "/photos/1", "/api/v1/facilities/" + id,
		"/api/v1/facilities/" + id + "/availability", "/facilities/not-a-uuid", "/api/v1/facilities/not-a-uuid",
		"/api/v1/facilities/00000000-0000-0000-0000-000000000000"} {
		r := b.get(t, "herzberg.localhost", path, "Accept-Language", "en")
		if r.status != 404 || strings.Contains(r.body, kempten.Items[0].Name) {
			t.Errorf("herzberg%s: %d", path, r.status)
		}
		if strings.HasPrefix(path, "/api/") {
			if e := decode[apiError](t, r); e.Error.Code != "not_found" {
				t.Errorf("herzberg%s: %+v", path, e.Error)
			}
		}
	}
	// No search on one host ever lists another city's facilities.
	herzberg := decode[apiList](t, b.get(t, "herzberg.localhost", "/api/v1/facilities?"+householdKey+"&per_page=100"))
	for _, it := range herzberg.Items {
		if it.Address.PLZ != "04916" {
			t.Errorf("herzberg lists %s in %s", it.Name, it.Address.PLZ)
		}
	}
	// Bad months of the availability API.
	for _, q := range []string{"from=2026-13", "from=november", "from=2031-01", "to=2025-01", "from=2027-05&to=2027-01"} {
		r := b.get(t, "kempten.localhost", "/api/v1/facilities/"+id+"/availability?"+q)
		if e := decode[apiError](t, r); r.status != 422 || e.Error.Field == "" {
			t.Errorf("availability?%s: %d %+v", q, r.status, e.Error)
		}
	}
	ok := decode[struct {
		From  string `json:"from"`
		To    string `json:"to"`
		Items []any  `json:"items"`
	}](t, b.get(t, "kempten.localhost", "/api/v1/facilities/"+id+"/availability"))
	if ok.From != "2026-11" || ok.To != "2027-10" || len(ok.Items) == 0 {
		t.Errorf("default months: %s–%s, %d cells", ok.From, ok.To, len(ok.Items))
	}
}

func TestMerklisteWithoutAccount(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "kempten", "herzberg")
	list := decode[apiList](t, b.get(t, "kempten.localhost", "/api/v1/facilities?"+householdKey+"&type=kita"))
	first, second := list.Items[0], list.Items[1]
	post := func(host, form string, headers ...string) response {
		t.Helper()
		req := httptest.NewRequest("POST", "/favourites", strings.NewReader(form))
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return b.do(t, req)
	}
	r := post("kempten.localhost", "action=add&id="+first.ID+"&next=/%3Fplz%3D87435")
	cookie := r.header.Get("Set-Cookie")
	if r.status != 303 || r.header.Get("Location") != "/?plz=87435" || !strings.Contains(cookie, "merkliste="+first.ID) || !strings.Contains(cookie, "HttpOnly") {
		t.Fatalf("add: %d %q %q", r.status, r.header.Get("Location"), cookie)
	}
	// With JavaScript the answer is JSON.
	r = post("kempten.localhost", "action=add&id="+second.ID, "Cookie", "merkliste="+first.ID, "Accept", "application/json")
	if r.status != 200 || !strings.Contains(r.body, `"count":2`) {
		t.Errorf("add with JSON: %d %s", r.status, r.body)
	}
	both := "merkliste=" + first.ID + "," + second.ID
	page := b.get(t, "kempten.localhost", "/favourites?"+householdKey, "Cookie", both)
	mustContain(t, page, template(first.Name), template(second.Name), "im Vergleich", "Voraussichtlich")
	if !strings.Contains(page.body, "voraussichtlich frei") && !strings.Contains(page.body, "voraussichtlich nicht frei") {
		t.Error("the comparison shows no availability for the child")
	}
	// The result list marks what is saved.
	if res := b.get(t, "kempten.localhost", "/?"+householdKey+"&type=kita", "Cookie", both); !strings.Contains(res.body, `aria-pressed="true"`) ||
		!strings.Contains(res.body, "Merkliste (2)") {
		t.Error("the result list does not mark saved facilities")
	}
	// Cross-site posts, unknown and foreign ids, garbage in the cookie.
	if r := post("kempten.localhost", "action=add&id="+first.ID, "Sec-Fetch-Site", "cross-site"); r.status != 403 {
		t.Errorf("cross-site add: %d", r.status)
	}
	if r := post("herzberg.localhost", "action=add&id="+first.ID); r.status != 404 {
		t.Errorf("another city's facility: %d", r.status)
	}
	if r := post("kempten.localhost", "action=steal&id="+first.ID); r.status != 422 {
		t.Errorf("unknown action: %d", r.status)
	}
	if r := post("kempten.localhost", "action=add&id=<script>"); r.status != 422 {
		t.Errorf("garbage id: %d", r.status)
	}
	garbage := "merkliste=" + strings.Repeat("nonsense,", 30) + first.ID
	if r := b.get(t, "kempten.localhost", "/favourites", "Cookie", garbage); r.status != 200 || !strings.Contains(r.body, template(first.Name)) {
		t.Errorf("garbage cookie: %d", r.status)
	}
	if r := b.get(t, "herzberg.localhost", "/favourites", "Cookie", both); r.status != 200 || strings.Contains(r.body, template(first.Name)) {
		t.Errorf("another city's Merkliste shows Kempten's facility: %d", r.status)
	}
	// Removing the last one deletes the cookie.
	r = post("kempten.localhost", "action=remove&id="+first.ID, "Cookie", "merkliste="+first.ID)
	if r.status != 303 || !strings.Contains(r.header.Get("Set-Cookie"), "merkliste=;") {
		t.Errorf("remove: %d %q", r.status, r.header.Get("Set-Cookie"))
	}
	mustContain(t, b.get(t, "kempten.localhost", "/favourites"), "Ihre Merkliste ist noch leer")
}

func TestStartPageIsTheSearchAndShared(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "herzberg")
	first := b.get(t, "herzberg.localhost", "/")
	mustContain(t, first, `<form class="search-form" method="get" action="/"`, `id="birth_date"`, `id="start_date"`, `id="address"`,
		`id="radius_km"`, `name="type" value="tagespflege"`, `name="age_fit_only" value="1" checked`, "<strong>7</strong> Einrichtungen")
	if second := b.get(t, "herzberg.localhost", "/"); second.body != first.body {
		t.Error("the empty start page is not the same for every visitor")
	}
	// Parameters that are no search keep the start page.
	mustContain(t, b.get(t, "herzberg.localhost", "/?utm_source=flyer"), `id="birth_date"`, "<strong>7</strong> Einrichtungen")
}

// The parent's browser talks only to the city's host: the policy allows no other
// origin, the pages load nothing from elsewhere, and the map's tiles come through the
// portal (search.TileProxy; its caching is tested there).
func TestPagesLoadNothingFromAThirdParty(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	home := b.get(t, "bochum.localhost", "/")
	city := home.header.Get("Content-Security-Policy")
	if !strings.Contains(city, "img-src 'self' data:;") || !strings.Contains(city, "script-src 'self'") || strings.Contains(city, "openstreetmap") {
		t.Errorf("city CSP: %s", city)
	}
	if loads := regexp.MustCompile(`(src|data-tiles)="(https?:)?//`).FindAllString(home.body, -1); len(loads) > 0 {
		t.Errorf("the start page loads from another host: %v", loads)
	}
	if r := b.get(t, "bochum.localhost", "/tiles/20/0/0.png"); r.status != 404 {
		t.Errorf("a tile beyond zoom 19: %d", r.status)
	}
	if r := b.get(t, "localhost", "/tiles/1/0/0.png"); r.status != 404 {
		t.Errorf("tiles on the vendor host: %d", r.status)
	}
}
