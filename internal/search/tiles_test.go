package search

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/tenant"
)

// The proxy asks the city's upstream once per tile, answers repeats from memory, keeps
// to its budget, and never hands on what the upstream did not deliver.
func TestTileProxyCachesTheCitysTiles(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	fail := atomic.Bool{}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if fail.Load() {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if got := r.Header.Get("User-Agent"); got != "test proxy" {
			t.Errorf("user agent %q", got)
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("PNG" + r.URL.Path + strings.Repeat(".", 100)))
	}))
	defer upstream.Close()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p := NewTileProxy(upstream.Client(), "test proxy", 400) // room for three tiles
	p.now = func() time.Time { return now }
	city := &tenant.Tenant{Rules: &tenant.Rules{Map: tenant.Map{TileURL: upstream.URL + "/{z}/{x}/{y}.png"}}}
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		if e, ok := err.(interface{ Error() string }); ok && strings.Contains(e.Error(), "not_found") {
			return c.SendStatus(404)
		}
		return c.SendStatus(503)
	}})
	app.Use(func(c *fiber.Ctx) error { tenant.SetFiber(c, city); return c.Next() })
	app.Get("/tiles/:z/:x/:y", p.Tile)
	get := func(path string) (int, string) {
		t.Helper()
		res, err := app.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		body := make([]byte, 1024)
		n, _ := res.Body.Read(body)
		return res.StatusCode, string(body[:n])
	}
	if status, body := get("/tiles/13/4270/2734.png"); status != 200 || !strings.HasPrefix(body, "PNG/13/4270/2734.png") {
		t.Fatalf("first tile: %d %q", status, body)
	}
	if status, _ := get("/tiles/13/4270/2734.png"); status != 200 || hits.Load() != 1 {
		t.Errorf("a repeat went upstream: %d hits", hits.Load())
	}
	for _, bad := range []string{"/tiles/20/0/0.png", "/tiles/2/4/0.png", "/tiles/2/-1/0.png", "/tiles/x/0/0.png", "/tiles/1/0/0.jpg", "/tiles/1/0/0"} {
		if status, _ := get(bad); status != 404 {
			t.Errorf("%s: %d, want 404", bad, status)
		}
	}
	if hits.Load() != 1 {
		t.Errorf("bad coordinates went upstream: %d hits", hits.Load())
	}
	// Four more tiles: the budget keeps three, the first one is gone.
	for _, y := range []string{"1", "2", "3", "0"} {
		get("/tiles/2/1/" + y + ".png")
	}
	before := hits.Load()
	get("/tiles/13/4270/2734.png")
	if hits.Load() != before+1 {
		t.Errorf("the least recently used tile stayed beyond the budget")
	}
	// Upstream down: a fresh miss is 503 and not cached; a stale tile is still served.
	fail.Store(true)
	if status, _ := get("/tiles/5/1/1.png"); status != 503 {
		t.Errorf("upstream failure: %d", status)
	}
	now = now.Add(8 * 24 * time.Hour)
	if status, body := get("/tiles/13/4270/2734.png"); status != 200 || !strings.HasPrefix(body, "PNG") {
		t.Errorf("a stale tile while upstream is down: %d", status)
	}
	fail.Store(false)
	if status, _ := get("/tiles/5/1/1.png"); status != 200 {
		t.Errorf("after the upstream is back: %d", status)
	}
}
