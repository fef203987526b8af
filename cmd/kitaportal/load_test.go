package main_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kitaportal/internal/platform/database"
)

// BenchmarkSearchLoadWrk puts the real binary under load over loopback: `kitaportal serve`
// on the bench database (make bench-data), wrk with 64 connections for 30 seconds walking
// a list of realistic, mixed searches on the synthetic Berlin (postcodes and streets,
// birth dates and starts, filters, pages; most as pages, some through the API). It
// reports searches per second, latency percentiles, errors and the server's memory.
//
//	make load-search
func BenchmarkSearchLoadWrk(b *testing.B) {
	dsn := os.Getenv("BENCH_DATABASE_URL")
	if dsn == "" {
		b.Fatal("BENCH_DATABASE_URL is not set: run `make load-search` (it builds the bench database first)")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Fatal("wrk is needed: apt-get install wrk (make load-search installs it)")
	}
	httpAddr := freeAddr(b)
	e := env(b, dsn, "HTTP_ADDR="+httpAddr, "METRICS_ADDR=", "PUBLIC_URL=http://localhost:8080", "LOG_LEVEL=warn")
	serve := start(b, e, "serve")
	eventually(b, "the portal to be ready", 30*time.Second, func() bool {
		status, _, err := get(httpAddr, "localhost", "/readyz")
		return err == nil && status == 200
	})

	paths := searches(b, dsn, 3000)
	// Keep what answers 200: a generated filter may leave no second page to ask for.
	var good []string
	for _, p := range paths {
		if status, _, err := get(httpAddr, "berlin.localhost", p); err == nil && status == 200 {
			good = append(good, p)
		}
	}
	if len(good) < len(paths)*9/10 {
		b.Fatalf("only %d of %d generated searches answer 200", len(good), len(paths))
	}
	list := filepath.Join(b.TempDir(), "searches.txt")
	if err := os.WriteFile(list, []byte(strings.Join(good, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "search.lua"))
	run := func(seconds int) map[string]float64 {
		out, err := exec.Command("wrk", "-t2", "-c64", fmt.Sprintf("-d%ds", seconds), "--timeout", "5s",
			"-H", "Host: berlin.localhost", "-s", script, "http://"+httpAddr+"/", "--", list).CombinedOutput()
		if err != nil {
			b.Fatalf("wrk: %v\n%s", err, out)
		}
		return wrkFigures(b, string(out))
	}
	run(5) // warm-up: caches, prepared statements, connection pool
	b.ResetTimer()
	m := run(30)
	b.StopTimer()
	rss, peak := memory(b, serve.cmd.Process.Pid)
	for k, v := range m {
		b.ReportMetric(v, k)
	}
	b.ReportMetric(rss, "rss_MiB")
	b.ReportMetric(peak, "peak_rss_MiB")
	b.Logf("%d distinct searches; %.0f searches/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %0.f errors; RSS %.0f MiB (peak %.0f MiB)",
		len(good), m["searches/s"], m["p50_ms"], m["p99_ms"], m["max_ms"], m["errors"], rss, peak)
	if m["errors"] > 0 {
		b.Errorf("%0.f errors under load", m["errors"])
	}
	serve.stop(b)
}

var (
	wrkRate   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkFigure = regexp.MustCompile(`(?m)^(p50_ms|p90_ms|p99_ms|max_ms|requests|errors) ([0-9.]+)$`)
)

func wrkFigures(b *testing.B, out string) map[string]float64 {
	m := map[string]float64{}
	rate := wrkRate.FindStringSubmatch(out)
	if rate == nil {
		b.Fatalf("no rate in wrk output:\n%s", out)
	}
	m["searches/s"], _ = strconv.ParseFloat(rate[1], 64)
	for _, f := range wrkFigure.FindAllStringSubmatch(out, -1) {
		m[f[1]], _ = strconv.ParseFloat(f[2], 64)
	}
	if len(m) < 7 {
		b.Fatalf("wrk output lacks figures:\n%s", out)
	}
	return m
}

// memory is the resident and the peak resident memory of a process, in MiB.
func memory(b *testing.B, pid int) (rss, peak float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && (fields[0] == "VmRSS:" || fields[0] == "VmHWM:") {
			kb, _ := strconv.ParseFloat(fields[1], 64)
			if fields[0] == "VmRSS:" {
				rss = kb / 1024
			} else {
				peak = kb / 1024
			}
		}
	}
	return rss, peak
}

// searches writes n searches as parents would send them to Berlin: Krippe and
// Kindergarten children, starts over the next year (many on 1 August), around a postcode
// or a street, with the form's defaults and now and then a filter or a second page; one
// in six through the API.
func searches(b *testing.B, dsn string, n int) []string {
	ctx := context.Background()
	db, err := database.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var plzs, streets []string
	rows, err := db.QueryContext(ctx, `SELECT s.plz, s.name FROM street s JOIN tenant t ON t.id = s.tenant_id WHERE t.slug = 'berlin' ORDER BY 1, 2`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var plz, name string
		if err := rows.Scan(&plz, &name); err != nil {
			b.Fatal(err)
		}
		if len(plzs) == 0 || plzs[len(plzs)-1] != plz {
			plzs = append(plzs, plz)
		}
		streets = append(streets, name+", "+plz)
	}
	rows.Close()
	if len(plzs) < 100 {
		b.Fatalf("berlin has %d postcodes: run `make bench-data`", len(plzs))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	today := time.Now()
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	chance := func(p float64) bool { return rng.Float64() < p }
	var out []string
	for len(out) < n {
		v := url.Values{}
		birth := today.AddDate(0, 0, -60-rng.IntN(1100)) // 2 months to 3 years old
		v.Set("birth_date", birth.Format(time.DateOnly))
		start := time.Date(today.Year(), today.Month()+time.Month(1+rng.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
		if chance(0.4) {
			start = time.Date(today.Year()+1, time.August, 1, 0, 0, 0, 0, time.UTC)
		}
		v.Set("start_date", start.Format(time.DateOnly))
		switch {
		case chance(0.85):
			v.Set("address", pick(plzs))
		default:
			v.Set("address", pick(streets))
		}
		if chance(0.35) {
			v.Set("radius_km", pick([]string{"1", "3", "5"}))
		}
		if chance(0.7) {
			v.Set("age_fit_only", "1")
		}
		if chance(0.25) {
			v.Set("available_only", "1")
		}
		if chance(0.3) {
			v.Set("care_hours", pick([]string{"25", "35", "45", "50"}))
		}
		if chance(0.3) {
			v.Add("type", pick([]string{"kita", "krippe", "tagespflege"}))
			if chance(0.5) {
				v.Add("type", "kita")
			}
		}
		if chance(0.15) {
			v.Set("opens_by", pick([]string{"06:30", "07:00", "07:30"}))
		}
		if chance(0.1) {
			v.Add("concept", pick([]string{"montessori", "situationsansatz", "naturpaedagogik", "bilingual"}))
		}
		if chance(0.05) {
			v.Set("barrier_free", "1")
		}
		if chance(0.08) {
			v.Set("page", "2")
		}
		path := "/?" + v.Encode()
		if chance(1.0 / 6) {
			path = "/api/v1/facilities?" + v.Encode()
		}
		out = append(out, path)
	}
	return out
}
