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
	body := fetch(b, bd.app, "kempten.localhost", "/") // the same page, pre-rendered
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(body)
	})
	b.SetBytes(int64(len(body)))
	benchApp(b, bare, "kempten.localhost", "/")
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
