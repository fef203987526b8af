package main_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"kitaportal/internal/platform/testdb"
)

// A parent on Bochum's portal, in a real browser against the real binary: finds the Kitas
// around a postcode for a child born 2025-03-14 starting 2026-08-01, filters them, sees
// free and not free, opens a profile, keeps a Merkliste — and the API gives the same
// answers. The city's tile server is unreachable here, as it may be for any parent: the
// page must stay whole.
func TestParentFindsCareInABrowser(t *testing.T) {
	t.Parallel()
	_, dbURL := testdb.Empty(t)
	dir := t.TempDir()
	copyTenants(t, dir)
	bochum := filepath.Join(dir, "bochum.yaml")
	raw, _ := os.ReadFile(bochum)
	raw = []byte(strings.Replace(string(raw), "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://127.0.0.1:9/{z}/{x}/{y}.png", 1))
	if err := os.WriteFile(bochum, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	httpAddr := freeAddr(t)
	e := append(env(t, dbURL, "HTTP_ADDR="+httpAddr, "METRICS_ADDR=", "PUBLIC_URL=http://localhost:8080"), "TENANTS_DIR="+dir)
	for _, step := range [][]string{{"migrate", "up"}, {"tenants", "sync"}, {"seed", "bochum"}} {
		if out, err := runCmd(t, e, step...); err != nil {
			t.Fatalf("%v: %v\n%s", step, err, out)
		}
	}
	start(t, e, "serve")
	eventually(t, "the portal to be ready", 20*time.Second, func() bool {
		status, _, err := get(httpAddr, "localhost", "/readyz")
		return err == nil && status == 200
	})
	base := "http://bochum.localhost:" + strings.Split(httpAddr, ":")[1]
	ctx := browser(t)
	do, text := steps(t, ctx)
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	number := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The start page is the search.
	do(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#birth_date")),
		chromedp.SetValue(chromedp.CSS("#birth_date"), "2025-03-14"),
		chromedp.SetValue(chromedp.CSS("#start_date"), "2026-08-01"),
		chromedp.SendKeys(chromedp.CSS("#address"), "44787"),
		chromedp.Click(chromedp.CSS(".search-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#result-count")),
	)
	summary, url := text("#result-count"), location()
	if !strings.Contains(summary, "Angebote im Umkreis von 3 km um 44787 Bochum") {
		t.Fatalf("summary %q", summary)
	}
	for _, want := range []string{"birth_date=2025-03-14", "start_date=2026-08-01", "address=44787"} {
		if !strings.Contains(url, want) {
			t.Errorf("the URL does not hold the search: %s", url)
		}
	}
	// The map is drawn from the list, with a marker per result, though no tile loads.
	do(chromedp.WaitVisible(chromedp.CSS("#map.leaflet-container")), chromedp.WaitVisible(chromedp.CSS(".map-note")))
	results, markers := number(`document.querySelectorAll('li.result').length`), number(`document.querySelectorAll('.leaflet-marker-icon').length`)
	if results != 20 || markers != results {
		t.Errorf("%d results, %d markers", results, markers)
	}
	if note := text(".map-note"); !strings.Contains(note, "Die Liste enthält alle Ergebnisse") {
		t.Errorf("no note about the missing map tiles: %q", note)
	}
	if caption := text(".map-caption"); !strings.Contains(caption, "20 Angebote dieser Seite") {
		t.Errorf("the map does not say it shows this page only: %q", caption)
	}
	// The tiles were asked from the portal itself, never from the tile server.
	if tiles := number(`performance.getEntriesByType('resource').filter(e => e.name.includes('/tiles/') && e.name.startsWith(location.origin)).length`); tiles == 0 {
		t.Errorf("the map asked no tile from the portal")
	}
	if foreign := number(`performance.getEntriesByType('resource').filter(e => !e.name.startsWith(location.origin)).length`); foreign != 0 {
		t.Errorf("the page loaded %d resources from another host", foreign)
	}
	statuses := resultStatuses(t, ctx)
	if !slices.Contains(statuses, "free") || !slices.Contains(statuses, "not_free") {
		t.Errorf("the first page shows %v: want blue and yellow houses", statuses)
	}

	// On the phone the results come first: the search folded to one line above them.
	if top := number(`Math.round(document.getElementById('results').getBoundingClientRect().top)`); top > number(`window.innerHeight`)/2 {
		t.Errorf("the results start %d px down on a phone", top)
	}
	// Filter: Kitas only, expected free only (the folded search opens first).
	do(
		chromedp.Click(chromedp.CSS("#search-again > summary")),
		chromedp.Click(chromedp.CSS(".filters summary")),
		chromedp.Click(chromedp.CSS("input[name=type][value=kita]")),
		chromedp.Click(chromedp.CSS("#available_only")),
	)
	if ticked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('input[name=type][value=kita]').checked && document.getElementById('available_only').checked`)); err != nil || !ticked {
		t.Fatalf("the filters are not ticked: %v", err)
	}
	do(chromedp.Click(chromedp.CSS(".search-form button[type=submit]")))
	// The old result page stays until the new one arrives: wait for the new address.
	eventually(t, "the filtered results", 10*time.Second, func() bool { return strings.Contains(location(), "type=kita") })
	do(chromedp.WaitVisible(chromedp.CSS("#result-count")))
	filteredURL := location()
	filtered := resultStatuses(t, ctx)
	if len(filtered) == 0 || !strings.Contains(filteredURL, "type=kita") || !strings.Contains(filteredURL, "available_only=1") {
		t.Fatalf("filtered: %d results at %s", len(filtered), filteredURL)
	}
	for _, s := range filtered {
		if s != "free" {
			t.Errorf("filtered on expected free, got %s", s)
		}
	}
	types, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('li.result .meta')].map(e => e.textContent.split(' · ')[0])`))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range types {
		if typ != "Kita" {
			t.Errorf("filtered on Kitas, got %q", typ)
		}
	}

	// The API answers the same search with the same facilities in the same order.
	apiURL := "/api/v1/facilities?" + strings.SplitN(filteredURL, "?", 2)[1]
	status, body, err := get(httpAddr, "bochum.localhost", apiURL)
	if err != nil || status != 200 {
		t.Fatalf("API: %d %v", status, err)
	}
	var api struct {
		Items []struct{ ID, Name, Availability string }
	}
	if err := json.Unmarshal([]byte(body), &api); err != nil {
		t.Fatal(err)
	}
	ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('li.result')].map(e => e.id.slice(2))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(api.Items) != len(ids) {
		t.Fatalf("API %d items, page %d", len(api.Items), len(ids))
	}
	for i, it := range api.Items {
		if it.ID != ids[i] || it.Availability != filtered[i] {
			t.Errorf("item %d: API %s/%s, page %s/%s", i, it.ID, it.Availability, ids[i], filtered[i])
		}
	}

	// Save the first one on the Merkliste (with JavaScript: no page load).
	do(
		chromedp.Click(chromedp.CSS("li.result:first-child button.fav")),
		chromedp.WaitVisible(chromedp.CSS(`li.result:first-child button.fav[aria-pressed="true"]`)),
	)
	if link := text("#favourites-link"); link != "Merkliste (1)" {
		t.Errorf("Merkliste link %q", link)
	}

	// Open the profile: the same answer for this child, twelve months ahead, and the API agrees.
	do(chromedp.Click(chromedp.CSS("li.result:first-child h3 a")), chromedp.WaitVisible(chromedp.CSS("#facility-name")))
	name, answer := text("#facility-name"), text(".child-answer .house")
	if months := number(`document.querySelectorAll('table.months tbody tr').length`); name != api.Items[0].Name ||
		!strings.Contains(answer, "voraussichtlich frei") || months != 12 {
		t.Errorf("profile %q: %q, %d months", name, answer, months)
	}
	_, body, _ = get(httpAddr, "bochum.localhost", "/api/v1/facilities/"+api.Items[0].ID+"?birth_date=2025-03-14&start_date=2026-08-01")
	if !strings.Contains(body, `"availability":"free"`) || !strings.Contains(body, `"age_fit":true`) {
		t.Errorf("profile API: %.300s", body)
	}

	// Back to the results: the back button restores the search from the URL (the page may
	// come from the browser's back-forward cache, without a load event to wait for).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`history.back()`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the back button to return to the results", 10*time.Second, func() bool {
		return location() == filteredURL && number(`document.querySelectorAll('li.result').length`) > 0
	})
	if again := resultStatuses(t, ctx); !slices.Equal(again, filtered) {
		t.Errorf("back at the results: %v, before %v", again, filtered)
	}
	// The Merkliste compares what was saved, for the child of the search.
	do(chromedp.Navigate(base+"/favourites?birth_date=2025-03-14&start_date=2026-08-01"), chromedp.WaitVisible(chromedp.CSS("table.compare")))
	if compared := text("table.compare"); !strings.Contains(compared, name) || !strings.Contains(compared, "voraussichtlich frei") {
		t.Errorf("comparison: %.300s", compared)
	}

	// A refused registration opens on its error summary: focus is there, not on the body.
	do(
		chromedp.Navigate(base+"/register"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "not-an-address"),
		chromedp.Submit(chromedp.CSS("main form")),
		chromedp.WaitVisible(chromedp.CSS(".error-summary")),
	)
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.classList.contains('error-summary')`))
	if err != nil || !focused {
		t.Errorf("after a refused registration the focus is not on the error summary: %v %v", focused, err)
	}

	// Without JavaScript: the same search by plain form submission, the full list, no map.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	do(
		chromedp.Navigate(base+"/"),
		chromedp.SetValue(chromedp.CSS("#birth_date"), "2025-03-14"),
		chromedp.SetValue(chromedp.CSS("#start_date"), "2026-08-01"),
		chromedp.SendKeys(chromedp.CSS("#address"), "44787"),
		chromedp.Submit(chromedp.CSS(".search-form")),
		chromedp.WaitVisible(chromedp.CSS("#result-count")),
	)
	if plain := text("#result-count"); plain != summary {
		t.Errorf("without JavaScript: %q, with: %q", plain, summary)
	}
	if n := number(`document.querySelectorAll('li.result').length`); n != 20 {
		t.Errorf("without JavaScript: %d results", n)
	}
	if hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('map').hidden`)); err != nil || !hidden {
		t.Errorf("the map container must stay hidden without JavaScript: %v %v", hidden, err)
	}
}

func resultStatuses(t *testing.T, ctx context.Context) []string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('li.result')].map(e => e.dataset.status)`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// browser starts a headless Chromium with a fresh profile and no network chatter of its own.
// steps are the two things every browser scenario does: run actions, failing the test
// when one fails, and read the text of an element.
func steps(t *testing.T, ctx context.Context) (do func(...chromedp.Action[chromedp.Void]), text func(string) string) {
	do = func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text = func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return do, text
}

func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("no Chromium: run the tests through `make test` (cmd/devstack -browser installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "de-DE"),
		chromedp.WindowSize(412, 915), // a phone
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first call starts the browser; the German parent's browser asks for German.
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride,
		emulation.SetUserAgentOverrideParams{UserAgent: "Mozilla/5.0 (Kitaportal e2e)", AcceptLanguage: "de-DE,de"}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	// Only now may a deadline be set: on the first call it would have stopped the browser.
	ctx, cancelScenario := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelScenario)
	return ctx
}
