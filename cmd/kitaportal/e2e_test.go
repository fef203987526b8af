package main_test

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"sync"

	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/testdb"
)

// These tests build the real binary and drive it as an operator would, against real
// PostgreSQL and Redis.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kitaportal-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "kitaportal")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("build: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type process struct {
	cmd    *exec.Cmd
	output *bytes.Buffer
}

// env is a complete environment for the binary: its own database and Redis database.
func env(t testing.TB, dbURL string, extra ...string) []string {
	t.Helper()
	redisURL := binaryRedis(t)
	e := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(),
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + redisURL.String(),
		"TENANTS_DIR=" + filepath.Join("..", "..", "tenants"),
		"BASE_DOMAIN=localhost", "LOG_FORMAT=json", "SHUTDOWN_TIMEOUT=5s", "TENANT_RELOAD_INTERVAL=1s",
	}
	return append(e, extra...)
}

// startPortal runs the binary as a city would: a fresh database, migrated, the cities'
// rules synced and the demo of cities seeded, then serve and worker, with mail to an
// SMTP sink. It answers the database, the HTTP address, the sink and the seed's output
// (the demo accounts' TOTP secrets are in it).
func startPortal(t *testing.T, cities ...string) (db *bun.DB, httpAddr string, sink *mail.Sink, seedOut string) {
	t.Helper()
	db, dbURL := testdb.Empty(t)
	httpAddr = freeAddr(t)
	sink, err := mail.StartSink("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	e := env(t, dbURL, "HTTP_ADDR="+httpAddr, "METRICS_ADDR=", "PUBLIC_URL=http://localhost:8080", "SMTP_URL="+sink.URL(),
		"STORAGE_DIR="+t.TempDir(), "APP_ENV=development")
	for _, step := range [][]string{{"migrate", "up"}, {"tenants", "sync"}, append([]string{"seed"}, cities...)} {
		out, err := runCmd(t, e, step...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", step, err, out)
		}
		seedOut = out
	}
	start(t, e, "serve")
	start(t, e, "worker")
	eventually(t, "the portal to be ready", 20*time.Second, func() bool {
		status, _, err := get(httpAddr, "localhost", "/readyz")
		return err == nil && status == 200
	})
	return db, httpAddr, sink, seedOut
}

// Each test that runs the binary gets a Redis database of its own (1 to 14; the tests'
// own is 15, development's 0): a worker takes every job it sees, so two tests' workers
// on one database would deliver each other's mails. It is emptied on first use.
var (
	redisMu  sync.Mutex
	redisDBs = map[string]int{}
)

func binaryRedis(t testing.TB) *url.URL {
	t.Helper()
	u, _ := url.Parse(testdb.RedisURL(t))
	redisMu.Lock()
	defer redisMu.Unlock()
	db, ok := redisDBs[t.Name()]
	if !ok {
		db = 1 + len(redisDBs)
		if db > 14 {
			t.Fatal("more binary tests than Redis databases 1-14: give the new test one")
		}
		redisDBs[t.Name()] = db
		u.Path = "/" + strconv.Itoa(db)
		opt, err := redis.ParseURL(u.String())
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		if err := rdb.FlushDB(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
	}
	u.Path = "/" + strconv.Itoa(db)
	return u
}

func runCmd(t testing.TB, environ []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = environ
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func start(t testing.TB, environ []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(binary, args...), output: &bytes.Buffer{}}
	p.cmd.Env = environ
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", args[0], p.output.String())
		}
	})
	return p
}

// stop sends SIGTERM and expects a clean exit.
func (p *process) stop(t testing.TB) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("did not exit cleanly on SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("did not stop within 15s of SIGTERM")
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(addr, host, path string) (int, string, error) {
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), nil
}

func eventually(t testing.TB, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestBinaryServesEveryCityAndRunsJobs(t *testing.T) {
	t.Parallel()
	_, dbURL := testdb.Empty(t)
	httpAddr, metricsAddr := freeAddr(t), freeAddr(t)
	sink, err := mail.StartSink("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	e := env(t, dbURL, "HTTP_ADDR="+httpAddr, "METRICS_ADDR="+metricsAddr, "PUBLIC_URL=http://localhost:8080", "SMTP_URL="+sink.URL())

	for _, step := range [][]string{{"migrate", "up"}, {"tenants", "sync"}, {"seed", "herzberg", "kempten"}} {
		out, err := runCmd(t, e, step...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", step, err, out)
		}
	}
	// Seeding again changes nothing (idempotent) and is quick to say so.
	if out, err := runCmd(t, e, "seed", "herzberg"); err != nil || !strings.Contains(out, "7 facilities") {
		t.Fatalf("second seed: %v\n%s", err, out)
	}
	if out, _ := runCmd(t, e, "migrate", "status"); !strings.Contains(out, "applied") || strings.Contains(out, "pending") {
		t.Errorf("migrate status:\n%s", out)
	}

	serve := start(t, e, "serve")
	eventually(t, "the portal to be ready", 20*time.Second, func() bool {
		status, _, err := get(httpAddr, "localhost", "/readyz")
		return err == nil && status == 200
	})
	cities := map[string]string{
		"herzberg": "Kita-Portal Herzberg (Elster)", "leipzig": "Mein Kitaplatz Leipzig", "kempten": "Kinderbetreuung Kempten",
		"bochum": "Kita-Portal Bochum", "lueneburg": "Elternplaner Region Lüneburg",
	}
	for slug, name := range cities {
		status, body, err := get(httpAddr, slug+".localhost:8080", "/")
		if err != nil || status != 200 || !strings.Contains(body, "<title>Startseite – "+name+"</title>") {
			t.Errorf("%s: %d %v", slug, status, err)
		}
	}
	if _, body, _ := get(httpAddr, "herzberg.localhost", "/"); !strings.Contains(body, "<strong>7</strong> Einrichtungen") {
		t.Errorf("herzberg's key figures are missing: %.400s", body)
	}
	if status, _, _ := get(httpAddr, "unknown.localhost", "/"); status != 404 {
		t.Errorf("unknown city: %d", status)
	}
	res, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`kitaportal_http_requests_total{method="GET",route="/",status="200",tenant="kempten"}`,
		"kitaportal_http_request_duration_seconds_bucket", "kitaportal_outbox_pending", "process_resident_memory_bytes"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	worker := start(t, e, "worker")
	// A job recorded the way every feature records it: in a transaction, in the outbox.
	out, err := exec.Command("psql", dbURL, "-v", "ON_ERROR_STOP=1", "-c", `
		INSERT INTO outbox (task_type, payload, queue) VALUES ('mail:send',
		'{"kind":"e2e","message":{"ID":"e2e-1@kitaportal","To":"eltern@example.org","Subject":"E2E-Test","Text":"Hallo"}}', 'mail')`).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v %s", err, out)
	}
	// The seed's mails (the demo offers) go out too; ours is among them, once.
	eventually(t, "the worker to deliver the mail", 30*time.Second, func() bool {
		n := 0
		for _, m := range sink.Messages() {
			if m.Subject == "E2E-Test" {
				n++
			}
		}
		return n == 1
	})

	serve.stop(t)
	worker.stop(t)
	if !strings.Contains(serve.output.String(), `"msg":"shutting down: draining requests"`) {
		t.Errorf("serve did not drain on SIGTERM:\n%s", serve.output.String())
	}
}

func TestBinaryWaitsOutADatabaseOutage(t *testing.T) {
	t.Parallel()
	_, dbURL := testdb.Empty(t)
	if out, err := runCmd(t, env(t, dbURL), "migrate", "up"); err != nil {
		t.Fatal(out)
	}
	if out, err := runCmd(t, env(t, dbURL), "tenants", "sync"); err != nil {
		t.Fatal(out)
	}
	u, _ := url.Parse(dbURL)
	proxy := testdb.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	proxy.Down()

	httpAddr := freeAddr(t)
	serve := start(t, env(t, u.String(), "HTTP_ADDR="+httpAddr, "METRICS_ADDR="), "serve")
	eventually(t, "the portal to listen", 20*time.Second, func() bool {
		status, _, err := get(httpAddr, "localhost", "/healthz")
		return err == nil && status == 200
	})
	status, body, _ := get(httpAddr, "kempten.localhost", "/")
	if status != 503 || !strings.Contains(body, "startet gerade") {
		t.Errorf("while the database is down: %d %.300s", status, body)
	}
	if status, _, _ := get(httpAddr, "localhost", "/readyz"); status != 503 {
		t.Errorf("readyz while the database is down: %d", status)
	}
	proxy.Up()
	eventually(t, "recovery once the database is back", 30*time.Second, func() bool {
		status, _, _ := get(httpAddr, "kempten.localhost", "/")
		return status == 200
	})
	// The database goes away while serving, and comes back.
	proxy.Down()
	eventually(t, "readyz to notice the outage", 15*time.Second, func() bool {
		status, body, _ := get(httpAddr, "localhost", "/readyz")
		return status == 503 && strings.Contains(body, `"database":"unavailable"`)
	})
	if status, body, _ := get(httpAddr, "kempten.localhost", "/"); status != 200 || !strings.Contains(body, "Kinderbetreuung Kempten") {
		t.Errorf("the city page must still be served from memory during an outage: %d", status)
	}
	proxy.Up()
	eventually(t, "readyz after the second recovery", 30*time.Second, func() bool {
		status, _, _ := get(httpAddr, "localhost", "/readyz")
		return status == 200
	})
	if serve.cmd.ProcessState != nil {
		t.Fatal("serve exited during an outage")
	}
	serve.stop(t)
}

func TestOperatorMistakesGetClearMessages(t *testing.T) {
	t.Parallel()
	_, dbURL := testdb.Empty(t)
	out, err := runCmd(t, env(t, dbURL, "BASE_DOMAIN=-bad-", "HTTP_BODY_LIMIT=huge"), "serve")
	if err == nil || !strings.Contains(out, "BASE_DOMAIN: ") || !strings.Contains(out, "HTTP_BODY_LIMIT: ") {
		t.Errorf("bad configuration: %v\n%s", err, out)
	}
	out, err = runCmd(t, env(t, dbURL), "fly")
	if code := exitCode(err); code != 2 || !strings.Contains(out, "usage: kitaportal") {
		t.Errorf("unknown command: exit %d\n%s", code, out)
	}

	// A broken rules file: the others sync, the broken one is named with field and reason.
	dir := t.TempDir()
	copyTenants(t, dir)
	raw, _ := os.ReadFile(filepath.Join(dir, "leipzig.yaml"))
	_ = os.WriteFile(filepath.Join(dir, "leipzig.yaml"), bytes.Replace(raw, []byte("max_choices: 5"), []byte("max_choices: 99"), 1), 0o644)
	// A new city without imprint and privacy notice is created, but not live.
	herzberg, _ := os.ReadFile(filepath.Join(dir, "herzberg.yaml"))
	legal := regexp.MustCompile(`(?m)^  (imprint|privacy)_url: .*\n`)
	_ = os.WriteFile(filepath.Join(dir, "herzberg.yaml"), legal.ReplaceAll(herzberg, nil), 0o644)
	e := append(env(t, dbURL), "TENANTS_DIR="+dir)
	if out, err := runCmd(t, e, "migrate", "up"); err != nil {
		t.Fatal(out)
	}
	out, err = runCmd(t, e, "tenants", "sync")
	if err == nil || !strings.Contains(out, "leipzig.yaml: registration.max_choices: must be from 1 to 10 (got 99)") {
		t.Errorf("broken file: %v\n%s", err, out)
	}
	if !strings.Contains(out, "kempten      rules v1  created") {
		t.Errorf("the good files must still sync:\n%s", out)
	}
	if out, _ := runCmd(t, e, "seed", "leipzig"); !strings.Contains(out, `tenant "leipzig" is not synced`) {
		t.Errorf("seeding a tenant that is not synced:\n%s", out)
	}

	// Taking that city live is refused, naming what its rules lack …
	if !strings.Contains(out, "herzberg     rules v1  created, not live yet (onboarding); its rules lack:\n    branding.imprint_url: ") ||
		!strings.Contains(out, "\n    branding.privacy_url: ") {
		t.Errorf("a new city without imprint and privacy notice:\n%s", out)
	}
	out, err = runCmd(t, e, "tenants", "activate", "herzberg")
	if err == nil || !strings.Contains(out, "herzberg cannot go live: its rules lack branding.imprint_url, branding.privacy_url") {
		t.Errorf("activating a city without imprint: %v\n%s", err, out)
	}
	if out, _ := runCmd(t, e, "tenants", "list"); !regexp.MustCompile(`herzberg\s+onboarding`).MatchString(out) {
		t.Errorf("the refused city must stay in onboarding:\n%s", out)
	}
	// … until the file names both; a live city's file may not drop them again.
	_ = os.WriteFile(filepath.Join(dir, "herzberg.yaml"), herzberg, 0o644)
	_, _ = runCmd(t, e, "tenants", "sync")
	if out, err := runCmd(t, e, "tenants", "activate", "herzberg"); err != nil {
		t.Errorf("activating a complete city: %v\n%s", err, out)
	}
	if out, _ := runCmd(t, e, "tenants", "list"); !regexp.MustCompile(`herzberg\s+active`).MatchString(out) {
		t.Errorf("the complete city must be live:\n%s", out)
	}
	_ = os.WriteFile(filepath.Join(dir, "herzberg.yaml"), legal.ReplaceAll(herzberg, nil), 0o644)
	if out, _ := runCmd(t, e, "tenants", "sync"); !strings.Contains(out, "herzberg cannot go live: its rules lack branding.imprint_url, branding.privacy_url") {
		t.Errorf("a live city's file dropping its imprint must be refused:\n%s", out)
	}
}

func copyTenants(t *testing.T, dst string) {
	t.Helper()
	src := filepath.Join("..", "..", "tenants")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755)
		return os.WriteFile(filepath.Join(dst, rel), raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
