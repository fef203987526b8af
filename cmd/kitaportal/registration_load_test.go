package main_test

import (
	"bytes"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/testdb"
)

// BenchmarkRegistrationWindow opens Bochum's registration window: distinct parents file
// requests at a fixed rate (200 per second for 60 seconds by default; LOAD_RATE and
// LOAD_SECONDS change it), each filed in one step (POST /api/v1/applications with
// "submit": true) through the API of the real binary (`serve` and `worker` as separate processes, real PostgreSQL and Redis, mail
// over SMTP to a local sink). The load is open-loop: a slow answer does not slow the
// arrivals. It reports latency percentiles of the filing, errors, and
// counts the confirmation mails in the sink: every filed request exactly one.
//
//	make load-register
func BenchmarkRegistrationWindow(b *testing.B) {
	rate, seconds := envInt("LOAD_RATE", 200), envInt("LOAD_SECONDS", 60)
	n := rate * seconds
	db, dbURL := testdb.Empty(b)
	sink, err := mail.StartSink("127.0.0.1:0", n+100)
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	httpAddr, serveMetrics, workerMetrics := freeAddr(b), freeAddr(b), freeAddr(b)
	e := env(b, dbURL+os.Getenv("LOAD_DSN_SUFFIX"), "HTTP_ADDR="+httpAddr, "PUBLIC_URL=http://localhost:8080", "SMTP_URL="+sink.URL(), "LOG_LEVEL=warn")
	for _, step := range [][]string{{"migrate", "up"}, {"tenants", "sync"}, {"seed", "bochum"}} {
		if out, err := runCmd(b, e, step...); err != nil {
			b.Fatalf("%v: %v\n%s", step, err, out)
		}
	}
	facilities := prepareParents(b, dbURL, n)
	serve := start(b, append(e, "METRICS_ADDR="+serveMetrics, "PPROF=true"), "serve")
	worker := start(b, append(e, "METRICS_ADDR="+workerMetrics, "PPROF=true"), "worker")
	eventually(b, "the portal to be ready", 30*time.Second, func() bool {
		status, _, err := get(httpAddr, "localhost", "/readyz")
		return err == nil && status == 200
	})
	eventually(b, "the permission rules to be loaded", 10*time.Second, func() bool {
		status, _ := call2(httpAddr, "GET", "/api/v1/me", "", nil)
		return status == 401
	})

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}, Timeout: 30 * time.Second}
	var errors atomic.Int64
	latencies := make([]time.Duration, n)
	var wg sync.WaitGroup
	rng := rand.New(rand.NewPCG(1, 2))
	// LOAD_PROFILE=<dir> keeps CPU profiles of serve and worker over the middle of the run.
	if dir := os.Getenv("LOAD_PROFILE"); dir != "" {
		for name, addr := range map[string]string{"serve": serveMetrics, "worker": workerMetrics} {
			go profile(b, addr, filepath.Join(dir, name+".pprof"), seconds/2)
		}
	}
	b.ResetTimer()
	began := time.Now()
	for i := range n {
		// Open loop: request i leaves at its planned moment, whatever the others do.
		if d := time.Until(began.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
			time.Sleep(d)
		}
		choices := []map[string]string{}
		for _, j := range rng.Perm(len(facilities))[:1+rng.IntN(3)] {
			choices = append(choices, map[string]string{"facility_id": facilities[j]})
		}
		wg.Add(1)
		go func(i int, choices []map[string]string) {
			defer wg.Done()
			t0 := time.Now()
			status, filed := callWith(client, httpAddr, "POST", "/api/v1/applications", "kp_load_"+strconv.Itoa(i), map[string]any{
				"child_id": childID(dbURL, i), "start_date": "2027-08-01", "care_hours": 25, "choices": choices, "submit": true})
			if status != 201 || filed["status"] != "submitted" {
				errors.Add(1)
				return
			}
			latencies[i] = time.Since(t0)
		}(i, choices)
	}
	wg.Wait()
	filing := time.Since(began)
	b.StopTimer()

	filed := n - int(errors.Load())
	mailWait := time.Now()
	deadline := mailWait.Add(5 * time.Minute)
	for sink.Total() < filed && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	lastMail := time.Since(mailWait)
	// Count only once no mail job can run any more: a doubled mail would be in the sink.
	if busy := mailJobsLeft(b, db, binaryRedis(b).String(), deadline); busy != "" {
		b.Errorf("mails cannot be counted: %s after %s", busy, time.Since(mailWait).Round(time.Second))
	}
	ids := map[string]int{}
	for _, m := range sink.Messages() {
		ids[m.MessageID]++
	}
	doubled := 0
	for _, c := range ids {
		if c > 1 {
			doubled += c - 1
		}
	}
	var ok []time.Duration
	for _, l := range latencies {
		if l > 0 {
			ok = append(ok, l)
		}
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i] < ok[j] })
	pct := func(p float64) float64 {
		if len(ok) == 0 {
			return 0
		}
		return float64(ok[min(len(ok)-1, int(p*float64(len(ok))))].Microseconds()) / 1000
	}
	rssServe, peakServe := memory(b, serve.cmd.Process.Pid)
	rssWorker, _ := memory(b, worker.cmd.Process.Pid)
	b.ReportMetric(float64(n)/filing.Seconds(), "filings/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(pct(1), "max_ms")
	b.ReportMetric(float64(errors.Load()), "errors")
	b.ReportMetric(float64(sink.Total()), "mails")
	b.ReportMetric(float64(filed-len(ids)), "mails_lost")
	b.ReportMetric(float64(doubled), "mails_doubled")
	b.ReportMetric(lastMail.Seconds(), "last_mail_after_s")
	b.ReportMetric(rssServe, "serve_rss_MiB")
	b.ReportMetric(peakServe, "serve_peak_rss_MiB")
	b.ReportMetric(rssWorker, "worker_rss_MiB")
	b.Logf("%d parents filed in %s (%.0f/s): p50 %.0f ms, p99 %.0f ms, max %.0f ms, %d errors; %d mails in the sink (%d distinct, %d lost, %d doubled), the last %.1f s after the last filing",
		n, filing.Round(time.Millisecond), float64(n)/filing.Seconds(), pct(0.5), pct(0.99), pct(1), errors.Load(),
		sink.Total(), len(ids), filed-len(ids), doubled, lastMail.Seconds())
	if errors.Load() > 0 || filed != len(ids) || doubled > 0 {
		b.Errorf("errors %d, mails lost %d, doubled %d", errors.Load(), filed-len(ids), doubled)
	}
}

// mailJobsLeft polls until no mail job can run any more, or deadline, and then tells
// what is still left ("" for nothing): every outbox row relayed, and the worker's mail
// queue with no job pending, active, scheduled or due for a retry (completed and archived
// jobs never run again). It reads the outbox first, so every relayed job is in Redis.
func mailJobsLeft(b *testing.B, db *bun.DB, redisURL string, deadline time.Time) string {
	b.Helper()
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		b.Fatal(err)
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	for {
		var unrelayed int
		left := ""
		if err := db.QueryRow(`SELECT count(*) FROM outbox WHERE relayed_at IS NULL`).Scan(&unrelayed); err != nil {
			left = "outbox: " + err.Error()
		} else if unrelayed > 0 {
			left = fmt.Sprintf("%d outbox rows not relayed", unrelayed)
		} else if qs, err := insp.Queues(); err != nil {
			left = "queues: " + err.Error()
		} else if !slices.Contains(qs, "mail") {
			return "" // no mail job ever
		} else if q, err := insp.GetQueueInfo("mail"); err != nil {
			left = "mail queue: " + err.Error()
		} else if n := q.Pending + q.Active + q.Scheduled + q.Retry + q.Aggregating; n > 0 {
			left = fmt.Sprintf("%d mail jobs (%d pending, %d active, %d scheduled, %d retry)", n, q.Pending, q.Active, q.Scheduled, q.Retry)
		} else {
			return ""
		}
		if time.Now().After(deadline) {
			return left
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// prepareParents writes n parent accounts of Bochum, each with a family in Bochum, a
// child and an API session whose token is kp_load_<i> (no password checks: the
// benchmark measures filing, not signing in). It returns Kitas that take the children.
func prepareParents(b *testing.B, dbURL string, n int) []string {
	b.Helper()
	script := fmt.Sprintf(`
		CREATE TEMP TABLE p AS SELECT g AS i, gen_random_uuid() AS account, gen_random_uuid() AS family FROM generate_series(0, %[1]d - 1) g;
		INSERT INTO account (tenant_id, id, kind, email, status, password_hash, first_name, last_name, email_verified_at)
			SELECT t.id, p.account, 'parent', 'load' || p.i || '@example.org', 'active', 'x', 'Lastig', 'Eltern' || p.i, now()
			FROM p, tenant t WHERE t.slug = 'bochum';
		INSERT INTO family (tenant_id, id, street, house_number, plz, city, municipality_key)
			SELECT t.id, p.family, 'Lastweg', '1', '44787', 'Bochum', 'bochum' FROM p, tenant t WHERE t.slug = 'bochum';
		INSERT INTO guardian (tenant_id, family_id, user_id, first_name, last_name)
			SELECT t.id, p.family, p.account, 'Lastig', 'Eltern' || p.i FROM p, tenant t WHERE t.slug = 'bochum';
		INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date, dedupe_key)
			SELECT t.id, md5('load-child-' || p.i)::uuid, p.family, 'Kind', 'Eltern' || p.i, '2025-11-01',
			       'kind|eltern' || p.i || '|2025-11-01' FROM p, tenant t WHERE t.slug = 'bochum';
		INSERT INTO auth_session (tenant_id, id, token_hash, kind, principal, account_id, expires_at)
			SELECT t.id, gen_random_uuid(), sha256(convert_to('kp_load_' || p.i, 'UTF8')), 'api', 'parent', p.account, now() + interval '1 day'
			FROM p, tenant t WHERE t.slug = 'bochum';
		SELECT string_agg(DISTINCT f.id::text, ',') FROM facility f JOIN facility_group g ON g.tenant_id = f.tenant_id AND g.facility_id = f.id
			JOIN tenant t ON t.id = f.tenant_id WHERE t.slug = 'bochum' AND f.type = 'kita' AND f.status = 'active' AND g.age_band = 'krippe';`, n)
	out, err := psql(dbURL, script)
	if err != nil {
		b.Fatalf("prepare parents: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	ids := strings.Split(lines[len(lines)-1], ",")
	if len(ids) < 5 {
		b.Fatalf("too few Bochum Kitas with a Krippe: %q", out)
	}
	return ids
}

// childID is the id prepareParents gave parent i's child: md5('load-child-<i>')::uuid.
func childID(_ string, i int) string {
	return uuid.UUID(md5.Sum([]byte("load-child-" + strconv.Itoa(i)))).String()
}

// profile saves a CPU profile of the process whose metrics listener is addr.
func profile(b *testing.B, addr, file string, seconds int) {
	res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(1, seconds)))
	if err != nil {
		b.Logf("profile %s: %v", file, err)
		return
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		b.Logf("profile %s: %v", file, err)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func jsonOf(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

func decodeBody(res *http.Response) map[string]any {
	out := map[string]any{}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return out
}

// callWith is call over a given client, without failing the benchmark from a goroutine.
func callWith(client *http.Client, addr, method, path, token string, body any) (int, map[string]any) {
	var raw []byte
	if body != nil {
		raw = []byte(jsonOf(body))
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(raw))
	req.Host = "bochum.localhost"
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	return res.StatusCode, decodeBody(res)
}

func call2(addr, method, path, token string, body any) (int, map[string]any) {
	return callWith(http.DefaultClient, addr, method, path, token, body)
}
