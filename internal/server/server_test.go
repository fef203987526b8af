package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/config"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/platform/queue"
	"kitaportal/internal/platform/testdb"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/server"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
	"kitaportal/web"
)

type bundle struct {
	app  *fiber.App
	reg  *tenant.Registry
	db   *bun.DB
	exec func(query string, args ...any)
}

// setup builds the real router over a fresh database with the seed cities. env adds or
// overrides configuration variables.
func setup(t testing.TB, env map[string]string) *bundle {
	t.Helper()
	return setupWith(t, env, nil)
}

// setupWith is setup with a clock for the pages that depend on today (nil: the system's).
func setupWith(t testing.TB, env map[string]string, clk clock.Clock) *bundle {
	t.Helper()
	db, _ := tenanttest.DB(t)
	vars := map[string]string{"BASE_DOMAIN": "localhost", "PUBLIC_URL": "http://localhost:8080", "METRICS_ADDR": ""}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	views, err := view.New(web.FS, cat)
	if err != nil {
		t.Fatal(err)
	}
	_, rdb, err := queue.Connect(testdb.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	reg := tenanttest.Registry(t, db)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	app := server.New(server.Deps{Config: cfg, DB: db, Redis: rdb, Registry: reg, Views: views, Log: log, Clock: clk})
	return &bundle{app: app, reg: reg, db: db, exec: func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatal(err)
		}
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *bundle) do(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := b.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(raw)}
}

func (b *bundle) get(t *testing.T, host, path string, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Host = host
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(t, req)
}

func mustContain(t *testing.T, r response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.body, p) {
			t.Errorf("status %d: body lacks %q\n%.600s", r.status, p, r.body)
		}
	}
}

func TestEachCityHasItsOwnBrandedHomePage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	cities := map[string]string{
		"herzberg":  "Kita-Portal Herzberg (Elster)",
		"leipzig":   "Mein Kitaplatz Leipzig",
		"kempten":   "Kinderbetreuung Kempten",
		"bochum":    "Kita-Portal Bochum",
		"lueneburg": "Elternplaner Region Lüneburg",
	}
	for slug, name := range cities {
		r := b.get(t, slug+".localhost:8080", "/")
		if r.status != 200 {
			t.Fatalf("%s: status %d", slug, r.status)
		}
		mustContain(t, r, "<title>Startseite – "+name+"</title>", `<html lang="de">`, `href="#main"`, `<main id="main"`,
			"/branding/theme.css?v=1", "/branding/logo.svg?v=1")
		for other, otherName := range cities {
			if other != slug && strings.Contains(r.body, otherName) {
				t.Errorf("%s's page shows %s", slug, otherName)
			}
		}
	}
	// The rules in plain words come from each city's file.
	mustContain(t, b.get(t, "kempten.localhost", "/"), "bis zu 3 Einrichtungen", "frühestens 36 Monate")
	mustContain(t, b.get(t, "bochum.localhost", "/"), "bis zu 5 Einrichtungen", "Zusätzlich können Sie Kindertagespflege wählen")
	mustContain(t, b.get(t, "leipzig.localhost", "/"), "Zugangsberechtigung (Ticket)")
}

func TestTenantResolution(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	cases := []struct {
		host   string
		status int
		want   string
	}{
		{"kempten.localhost", 200, "Kinderbetreuung Kempten"},
		{"kempten.localhost:8080", 200, "Kinderbetreuung Kempten"},
		{"KEMPTEN.LocalHost", 200, "Kinderbetreuung Kempten"},
		{"kempten.localhost.", 200, "Kinderbetreuung Kempten"},
		{"localhost:8080", 200, "Kita-Portal Bochum"}, // the vendor landing lists the cities
		{"unknown.localhost", 404, "kein Kita-Portal"},
		{"evil.example", 404, "kein Kita-Portal"},
		{"kempten.localhost.evil.example", 404, "kein Kita-Portal"},
		{"a.kempten.localhost", 404, "kein Kita-Portal"},
		{"xlocalhost", 404, "kein Kita-Portal"},
	}
	for _, tc := range cases {
		r := b.get(t, tc.host, "/")
		if r.status != tc.status {
			t.Errorf("%q: status %d, want %d", tc.host, r.status, tc.status)
		}
		if !strings.Contains(r.body, tc.want) {
			t.Errorf("%q: body lacks %q", tc.host, tc.want)
		}
	}
}

func TestForwardedHostCountsOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	untrusted := setup(t, nil)
	r := untrusted.get(t, "kempten.localhost", "/", "X-Forwarded-Host", "bochum.localhost")
	mustContain(t, r, "Kinderbetreuung Kempten")
	if strings.Contains(r.body, "Kita-Portal Bochum") {
		t.Error("a client picked another tenant with X-Forwarded-Host")
	}
	// Fiber's test connection comes from 0.0.0.0; trusting it makes the header count.
	trusted := setup(t, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/32"})
	mustContain(t, trusted.get(t, "internal-lb:8080", "/", "X-Forwarded-Host", "bochum.localhost, proxy.internal"), "Kita-Portal Bochum")
}

func TestSuspendedPortalShowsPausedPageAndKeepsData(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.exec(`UPDATE tenant SET status = 'suspended', status_note = 'Wartungsarbeiten bis Montag' WHERE slug = 'kempten'`)
	if err := b.reg.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := b.get(t, "kempten.localhost", "/")
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("status %d retry-after %q", r.status, r.header.Get("Retry-After"))
	}
	mustContain(t, r, "Stadt Kempten (Allgäu) ist vorübergehend pausiert", "Wartungsarbeiten bis Montag", "Kinderbetreuung Kempten")
	// Other cities are untouched, and the paused one is gone from the landing page.
	if b.get(t, "bochum.localhost", "/").status != 200 {
		t.Error("bochum must stay open")
	}
	if strings.Contains(b.get(t, "localhost", "/").body, "Kinderbetreuung Kempten") {
		t.Error("a paused portal is still listed on the landing page")
	}
	api := b.get(t, "kempten.localhost", "/api/v1/facilities", "Accept-Language", "en")
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(api.body), &body); err != nil || api.status != 503 || body.Error.Code != "portal_paused" || !strings.Contains(body.Error.Message, "paused") {
		t.Errorf("API of a paused portal: %d %s", api.status, api.body)
	}
}

func TestLanguageFromHeaderCookieAndSwitch(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	mustContain(t, b.get(t, "bochum.localhost", "/", "Accept-Language", "en-GB,en;q=0.9,de;q=0.5"), `<html lang="en">`, "Childcare in Stadt Bochum")
	mustContain(t, b.get(t, "bochum.localhost", "/", "Accept-Language", "fr-FR"), `<html lang="de">`)
	mustContain(t, b.get(t, "bochum.localhost", "/", "Cookie", "lang=en"), `<html lang="en">`)
	mustContain(t, b.get(t, "bochum.localhost", "/", "Cookie", "lang=xx"), `<html lang="de">`)

	r := b.get(t, "bochum.localhost", "/language?lang=en&next=/foo?a=1")
	if r.status != 303 || r.header.Get("Location") != "/foo?a=1" || !strings.Contains(r.header.Get("Set-Cookie"), "lang=en") {
		t.Errorf("switch: %d %q %q", r.status, r.header.Get("Location"), r.header.Get("Set-Cookie"))
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		r := b.get(t, "bochum.localhost", "/language?lang=en&next="+next)
		if r.header.Get("Location") != "/" {
			t.Errorf("next=%s redirected to %q", next, r.header.Get("Location"))
		}
	}
	if r := b.get(t, "bochum.localhost", "/language?lang=tlh&next=/"); strings.Contains(r.header.Get("Set-Cookie"), "lang=tlh") {
		t.Error("an unsupported language was stored")
	}
}

func TestErrorsInTheUsersLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r := b.get(t, "kempten.localhost", "/no/such/page")
	if r.status != 404 {
		t.Fatalf("status %d", r.status)
	}
	mustContain(t, r, "Seite nicht gefunden", "Kinderbetreuung Kempten", "Zur Startseite")

	api := b.get(t, "kempten.localhost", "/api/v1/nothing", "Accept-Language", "en")
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(api.body), &body); err != nil {
		t.Fatalf("API error is not JSON: %s", api.body)
	}
	if api.status != 404 || body.Error.Code != "not_found" || body.Error.Message != "The page or record does not exist." {
		t.Errorf("API 404: %d %+v", api.status, body)
	}
	if r := b.get(t, "unknown.localhost", "/", "Accept-Language", "en"); !strings.Contains(r.body, "There is no daycare portal at this address") {
		t.Errorf("unknown host page not in English: %.300s", r.body)
	}
}

// listen serves the app on a real loopback socket, for limits that only the HTTP server
// itself enforces (body and header size).
func (b *bundle) listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.app.Listener(ln) }()
	t.Cleanup(func() { _ = b.app.Shutdown() })
	return "http://" + ln.Addr().String()
}

func TestLimitsAndHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"HTTP_BODY_LIMIT": "2048", "HTTP_HEADER_LIMIT": "4096"})
	base := b.listen(t)
	send := func(req *http.Request) (int, string) {
		req.Host = "kempten.localhost"
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/applications", strings.NewReader(strings.Repeat("x", 10000)))
	req.Header.Set("Content-Type", "application/json")
	if status, body := send(req); status != 413 || !strings.Contains(body, "body_too_large") {
		t.Errorf("oversized body: %d %s", status, body)
	}
	req, _ = http.NewRequest("GET", base+"/", nil)
	req.Header.Set("X-Padding", strings.Repeat("y", 6000))
	if status, _ := send(req); status != 431 && status != 400 {
		t.Errorf("oversized headers: %d", status)
	}
	req, _ = http.NewRequest("GET", base+"/", nil)
	if status, body := send(req); status != 200 || !strings.Contains(body, "Kinderbetreuung Kempten") {
		t.Errorf("the server must keep serving after refusing: %d", status)
	}

	r := b.get(t, "kempten.localhost", "/")
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "X-Request-Id"} {
		if r.header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Error("CSP allows foreign scripts")
	}
	// A sane incoming request id is kept, garbage is replaced.
	if got := b.get(t, "kempten.localhost", "/", "X-Request-ID", "abc-123-def-456").header.Get("X-Request-Id"); got != "abc-123-def-456" {
		t.Errorf("request id %q", got)
	}
	if got := b.get(t, "kempten.localhost", "/", "X-Request-ID", "<script>").header.Get("X-Request-Id"); got == "<script>" {
		t.Error("garbage request id echoed")
	}
}

func TestBrandingAssets(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	css := b.get(t, "bochum.localhost", "/branding/theme.css")
	if css.status != 200 || !strings.Contains(css.body, "--brand:#004b87") || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("theme: %d %q %s", css.status, css.header.Get("Content-Type"), css.body)
	}
	logo := b.get(t, "leipzig.localhost", "/branding/logo.svg")
	if logo.status != 200 || logo.header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(logo.body, "<svg") ||
		!strings.Contains(logo.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("logo: %d %q", logo.status, logo.header.Get("Content-Type"))
	}
	if r := b.get(t, "localhost", "/branding/theme.css"); r.status != 404 {
		t.Errorf("tenant route on the vendor host: %d", r.status)
	}
	if r := b.get(t, "kempten.localhost", "/static/css/app.css"); r.status != 200 || !strings.Contains(r.body, "--brand") {
		t.Errorf("static css: %d", r.status)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	if r := b.get(t, "10.0.0.5:8080", "/healthz"); r.status != 200 {
		t.Errorf("healthz: %d", r.status)
	}
	r := b.get(t, "anything", "/readyz")
	if r.status != 200 || !strings.Contains(r.body, `"database":"ok"`) || !strings.Contains(r.body, `"redis":"ok"`) {
		t.Errorf("readyz: %d %s", r.status, r.body)
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
