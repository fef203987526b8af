package server_test

import (
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// BenchmarkHomeOverLoopbackWrk drives the real stack and a bare Fiber handler sending the
// same page over loopback with wrk (the C load generator, so the client costs little),
// alternating rounds, and reports the medians and their ratio:
//
//	make bench-home     (or: go test ./internal/server -run '^$' -bench Wrk -benchtime 1x)
//
// The bare handler sends the very same bytes (body and headers), so the difference is the
// work of our layers, not the size of the answer. home_per_bare is the share of the bare handler's throughput the whole portal keeps;
// 1 - home_per_bare is what tenant resolution, language, security headers, metrics,
// logging and the page itself cost.
func BenchmarkHomeOverLoopbackWrk(b *testing.B) {
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Fatal("wrk is needed: apt-get install wrk (make bench-home installs it)")
	}
	bd := setupBench(b)
	bare := bareTwin(b, bd)
	homeURL, bareURL := serveOn(b, bd.app), serveOn(b, bare)

	const rounds, seconds, conns = 5, 10, 64
	var home, plain []float64
	for i := 0; i < rounds; i++ {
		plain = append(plain, wrk(b, bareURL, "kempten.localhost", seconds, conns))
		home = append(home, wrk(b, homeURL, "kempten.localhost", seconds, conns))
	}
	h, p := median(home), median(plain)
	b.ReportMetric(h, "home_req/s")
	b.ReportMetric(p, "bare_req/s")
	b.ReportMetric(h/p, "home_per_bare")
	b.Logf("home %v req/s, bare %v req/s (rounds of %ds, %d connections)", home, plain, seconds, conns)
}

func serveOn(b *testing.B, app *fiber.App) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.Shutdown() })
	return "http://" + ln.Addr().String() + "/"
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
var wrkErrors = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)`)

func wrk(b *testing.B, url, host string, seconds, conns int) float64 {
	out, err := exec.Command("wrk", "-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", seconds),
		"-H", "Host: "+host, "--timeout", "5s", url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	if m := wrkErrors.Find(out); m != nil {
		b.Fatalf("wrk saw errors: %s\n%s", m, out)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		b.Fatalf("no rate in wrk output:\n%s", out)
	}
	rate, _ := strconv.ParseFloat(string(m[1]), 64)
	time.Sleep(time.Second) // let sockets in TIME_WAIT settle between rounds
	return rate
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
