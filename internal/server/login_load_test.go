package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/testdb"
)

// BenchmarkPagesWhileLoginsRun measures whether sign-ins starve people who only read:
// the p99 latency of read-only requests at a steady rate, alone and while 50 sign-ins per
// second run, in alternating rounds over loopback, with medians and their ratio:
//
//	make bench-login    (or: go test ./internal/server -run '^$' -bench PagesWhileLogins -benchtime 1x -timeout 20m)
//
// The portal is the real binary (`kitaportal serve`) in a process of its own, as in
// production, so the load generator does not share the server's Go scheduler.
//
// Read-only requests are a city's home page and GET /api/v1/me with a bearer token (a
// session lookup in PostgreSQL per request). Load is open-loop: every request has a
// scheduled start and its latency counts from then, so queueing is not hidden. Each
// sign-in comes from its own client address (behind a trusted proxy) and rotates over
// 400 accounts, as real sign-ins would, so the rate limits do not cut the load short.
func BenchmarkPagesWhileLoginsRun(b *testing.B) {
	bd := setup(b, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"})
	const accounts = 400
	for i := range accounts {
		bd.parent(b, "kempten", fmt.Sprintf("last%03d@example.org", i))
	}
	bd.parent(b, "kempten", "reader@example.org")
	base := serveBinary(b, bd)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 10 * time.Second}
	token := loginToken(b, client, base, "reader@example.org")

	const rounds, seconds, pageRate, loginRate = 5, 10, 200, 50
	var alone, busy, loginP99, served, refused []float64
	var loginSeq atomic.Int64
	for r := 0; r < rounds; r++ {
		for _, withLogins := range []bool{false, true} {
			res := loadRound(b, client, base, token, time.Duration(seconds)*time.Second, pageRate, loginRate, withLogins, &loginSeq, accounts)
			if withLogins {
				busy = append(busy, res.pageP99)
				loginP99 = append(loginP99, res.loginP99)
				served = append(served, float64(res.loginsOK)/seconds)
				refused = append(refused, float64(res.loginsRefused)/seconds)
			} else {
				alone = append(alone, res.pageP99)
			}
			b.Logf("round %d logins=%v: page p50 %.1fms p99 %.1fms (%d pages, %d failed); logins ok %d, refused %d, p99 %.0fms",
				r, withLogins, res.pageP50, res.pageP99, res.pages, res.pageErrors, res.loginsOK, res.loginsRefused, res.loginP99)
		}
	}
	a, w := median(alone), median(busy)
	b.ReportMetric(a, "page_p99_alone_ms")
	b.ReportMetric(w, "page_p99_with_logins_ms")
	b.ReportMetric(w/a, "p99_ratio")
	b.ReportMetric(median(served), "logins_ok/s")
	b.ReportMetric(median(refused), "logins_busy/s")
	b.ReportMetric(median(loginP99), "login_p99_ms")
	b.Logf("argon2id m=%d KiB t=%d p=%d, %d hash at a time (PASSWORD_HASH_CONCURRENCY default)", auth.DefaultArgon2.MemoryKiB,
		auth.DefaultArgon2.Time, auth.DefaultArgon2.Threads, auth.NewHasher(auth.DefaultArgon2, 0).Concurrency())
}

type roundResult struct {
	pages, pageErrors       int
	pageP50, pageP99        float64
	loginsOK, loginsRefused int
	loginP99                float64
}

// loadRound sends pages (alternately the home page and /api/v1/me) at pageRate and, if
// withLogins, sign-ins at loginRate, each at its scheduled time, for d.
func loadRound(b *testing.B, client *http.Client, base, token string, d time.Duration, pageRate, loginRate int, withLogins bool,
	seq *atomic.Int64, accounts int) roundResult {
	var mu sync.Mutex
	var pageLat, loginLat []float64
	var res roundResult
	var wg sync.WaitGroup
	start := time.Now().Add(50 * time.Millisecond)
	schedule := func(rate int, fire func(at time.Time, i int)) {
		interval := time.Second / time.Duration(rate)
		for i := 0; ; i++ {
			at := start.Add(time.Duration(i) * interval)
			if at.Sub(start) >= d {
				return
			}
			time.Sleep(time.Until(at))
			wg.Add(1)
			go func() { defer wg.Done(); fire(at, i) }()
		}
	}
	var gens sync.WaitGroup
	gens.Add(1)
	go func() {
		defer gens.Done()
		schedule(pageRate, func(at time.Time, i int) {
			req, _ := http.NewRequest("GET", base, nil)
			req.Host = "kempten.localhost"
			if i%2 == 1 {
				req, _ = http.NewRequest("GET", strings.TrimSuffix(base, "/")+"/api/v1/me", nil)
				req.Host = "kempten.localhost"
				req.Header.Set("Authorization", "Bearer "+token)
			}
			status := send(client, req)
			ms := float64(time.Since(at).Microseconds()) / 1000
			mu.Lock()
			defer mu.Unlock()
			res.pages++
			if status != 200 {
				res.pageErrors++
			}
			pageLat = append(pageLat, ms)
		})
	}()
	if withLogins {
		gens.Add(1)
		go func() {
			defer gens.Done()
			schedule(loginRate, func(at time.Time, _ int) {
				n := seq.Add(1)
				body := fmt.Sprintf(`{"email":"last%03d@example.org","password":%q}`, n%int64(accounts), goodPassword)
				req, _ := http.NewRequest("POST", strings.TrimSuffix(base, "/")+"/api/v1/auth/login", bytes.NewBufferString(body))
				req.Host = "kempten.localhost"
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
				status := send(client, req)
				ms := float64(time.Since(at).Microseconds()) / 1000
				mu.Lock()
				defer mu.Unlock()
				if status == 200 {
					res.loginsOK++
					loginLat = append(loginLat, ms)
				} else {
					res.loginsRefused++
				}
			})
		}()
	}
	gens.Wait()
	wg.Wait()
	res.pageP50, res.pageP99 = percentile(pageLat, 0.50), percentile(pageLat, 0.99)
	res.loginP99 = percentile(loginLat, 0.99)
	time.Sleep(time.Second) // let the hasher queue drain between rounds
	return res
}

func send(client *http.Client, req *http.Request) int {
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func loginToken(b *testing.B, client *http.Client, base, email string) string {
	req, _ := http.NewRequestWithContext(context.Background(), "POST", strings.TrimSuffix(base, "/")+"/api/v1/auth/login",
		bytes.NewBufferString(fmt.Sprintf(`{"email":%q,"password":%q}`, email, goodPassword)))
	req.Host = "kempten.localhost"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "192.0.2.1")
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	i := bytes.Index(raw, []byte(`"token":"`))
	if res.StatusCode != 200 || i < 0 {
		b.Fatalf("login: %d %s", res.StatusCode, raw)
	}
	rest := raw[i+9:]
	return string(rest[:bytes.IndexByte(rest, '"')])
}

// serveBinary builds cmd/kitaportal and runs `serve` against the bundle's database;
// it returns the portal's base URL.
func serveBinary(b *testing.B, bd *bundle) string {
	dir := b.TempDir()
	bin := filepath.Join(dir, "kitaportal")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kitaportal").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	redisURL, _ := url.Parse(testdb.RedisURL(b))
	redisURL.Path = "/13" // a database of its own, emptied: rate-limit counters of this run only
	if opt, err := redis.ParseURL(redisURL.String()); err == nil {
		rdb := redis.NewClient(opt)
		_ = rdb.FlushDB(context.Background()).Err()
		rdb.Close()
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "DATABASE_URL=" + bd.dbURL, "REDIS_URL=" + redisURL.String(),
		"HTTP_ADDR=" + addr, "METRICS_ADDR=", "BASE_DOMAIN=localhost", "PUBLIC_URL=http://localhost:8080", "TRUSTED_PROXIES=127.0.0.1/32",
		"LOG_LEVEL=warn", "AUTH_SECRET=" + bd.deps.Config.AuthSecret.Value()}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if b.Failed() {
			b.Logf("serve output:\n%s", out.String())
		}
	})
	base := "http://" + addr + "/"
	for deadline := time.Now().Add(20 * time.Second); ; {
		req, _ := http.NewRequest("GET", base+"api/v1/me", nil)
		req.Host = "kempten.localhost"
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == 401 { // tenants and permission rules loaded
				return base
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("the portal did not come up:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
