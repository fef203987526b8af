package server_test

import (
	"io"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// Home-page throughput through the whole stack (request id, logging, metrics, tenant
// resolution, language, layout rendering) against a bare Fiber handler sending the same
// bytes, both over an in-memory connection so the network does not blur the difference.
//
//	go test ./internal/server -run '^$' -bench 'HomePage|BareFiber' -count 6 | benchstat -
//
// The tenant layer's cost is 1 - (bare ns/op ÷ home ns/op) of throughput.

func BenchmarkHomePage(b *testing.B) {
	bd := setupBench(b)
	body := fetch(b, bd.app, "kempten.localhost", "/")
	b.SetBytes(int64(len(body)))
	benchApp(b, bd.app, "kempten.localhost", "/")
}

func BenchmarkBareFiber(b *testing.B) {
	bd := setupBench(b)
	bare := bareTwin(b, bd)
	b.SetBytes(int64(len(fetch(b, bare, "kempten.localhost", "/"))))
	benchApp(b, bare, "kempten.localhost", "/")
}

// bareTwin is a bare Fiber handler that answers with exactly what the portal answers for
// Kempten's home page: the same body and the same headers, captured once.
func bareTwin(b *testing.B, bd *bundle) *fiber.App {
	b.Helper()
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "kempten.localhost"
	res, err := bd.app.Test(req, -1)
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("home: %v %v", res, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	bare := fiber.New(fiber.Config{DisableStartupMessage: true, WriteBufferSize: 32 << 10})
	bare.Get("/", func(c *fiber.Ctx) error {
		for k, vs := range res.Header {
			if k != "Date" && k != "Content-Length" {
				c.Set(k, vs[0])
			}
		}
		return c.Send(body)
	})
	return bare
}

func setupBench(b *testing.B) *bundle {
	b.Helper()
	return setup(b, nil)
}

func fetch(b *testing.B, app *fiber.App, host, path string) []byte {
	b.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Host = host
	res, err := app.Test(req, -1)
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("GET %s%s: %v %v", host, path, res, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return body
}

func benchApp(b *testing.B, app *fiber.App, host, path string) {
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.Shutdown() })
	c := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConnsPerHost: 256}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(res)
		req.SetRequestURI("http://" + host + path)
		for pb.Next() {
			if err := c.Do(req, res); err != nil || res.StatusCode() != 200 {
				b.Errorf("%d %v", res.StatusCode(), err)
				return
			}
		}
	})
}
