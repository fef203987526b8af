package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/demo"
	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/testdb"
)

func call(t *testing.T, addr, host, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(raw))
	req.Host = host
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	data, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(data, &out)
	return res.StatusCode, out
}

func psql(dbURL, query string) (string, error) {
	out, err := exec.Command("psql", dbURL, "-Atc", query).CombinedOutput()
	return string(out), err
}

var demoSecret = regexp.MustCompile(`leitung@kempten\.demo\s+facility_lead[^\n]*\n\s+TOTP secret ([A-Z2-7 ]+)\n`)

// The "done when", through the real binary: a parent registers on Kempten, gets
// the verification mail over SMTP, verifies, signs in and reaches nothing of Bochum; the
// demo facility lead signs in with password and TOTP and sees only their facility; the
// audit log shows the lead reading a child's record; no secret ends up in the log.
func TestBinaryAccountsDoneWhen(t *testing.T) {
	t.Parallel()
	_, dbURL := testdb.Empty(t)
	httpAddr := freeAddr(t)
	sink, err := mail.StartSink("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	e := env(t, dbURL, "HTTP_ADDR="+httpAddr, "METRICS_ADDR=", "PUBLIC_URL=http://localhost:8080", "SMTP_URL="+sink.URL(), "LOG_LEVEL=debug")
	// The binary's Redis database is its own, emptied before the test (binaryRedis): no
	// rate-limit counts of earlier runs.

	var seedOut string
	for _, step := range [][]string{{"migrate", "up"}, {"tenants", "sync"}, {"seed", "kempten"}} {
		out, err := runCmd(t, e, step...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", step, err, out)
		}
		seedOut = out
	}
	m := demoSecret.FindStringSubmatch(seedOut)
	if m == nil || !strings.Contains(seedOut, "DEMO ONLY") {
		t.Fatalf("seed does not print the demo lead's TOTP secret:\n%s", seedOut)
	}
	leadSecret, err := auth.DecodeTOTPSecret(m[1])
	if err != nil {
		t.Fatal(err)
	}
	serve := start(t, e, "serve")
	start(t, e, "worker")
	eventually(t, "the portal to be ready", 20*time.Second, func() bool {
		status, _, err := get(httpAddr, "localhost", "/readyz")
		return err == nil && status == 200
	})
	eventually(t, "the permission rules to be loaded", 10*time.Second, func() bool {
		status, _ := call(t, httpAddr, "kempten.localhost", "GET", "/api/v1/me", "", nil)
		return status == 401
	})

	// Parent: register, verify through the mail, sign in.
	email := "e2e-" + uuid.NewString()[:8] + "@example.org"
	const password = "Apfelbaum blüht im April"
	if status, body := call(t, httpAddr, "kempten.localhost", "POST", "/api/v1/auth/register", "", map[string]string{
		"email": email, "password": password, "first_name": "Emil", "last_name": "Ende"}); status != 201 {
		t.Fatalf("register: %d %v", status, body)
	}
	var token string
	eventually(t, "the verification mail", 30*time.Second, func() bool {
		for _, msg := range sink.Messages() {
			if strings.Contains(strings.Join(msg.To, ","), email) {
				if m := regexp.MustCompile(`verify\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(msg.Body("text/plain")); m != nil {
					token = m[1]
					return true
				}
			}
		}
		return false
	})
	if status, body := call(t, httpAddr, "kempten.localhost", "POST", "/api/v1/auth/verify", "", map[string]string{"token": token}); status != 200 {
		t.Fatalf("verify: %d %v", status, body)
	}
	status, body := call(t, httpAddr, "kempten.localhost", "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	bearer, _ := body["token"].(string)
	if status != 200 || bearer == "" {
		t.Fatalf("login: %d %v", status, body)
	}
	if status, me := call(t, httpAddr, "kempten.localhost", "GET", "/api/v1/me", bearer, nil); status != 200 || me["email"] != email {
		t.Errorf("me: %d %v", status, me)
	}
	if status, body := call(t, httpAddr, "bochum.localhost", "GET", "/api/v1/me", bearer, nil); status != 401 {
		t.Errorf("kempten token on bochum: %d %v", status, body)
	}
	if status, _ := call(t, httpAddr, "bochum.localhost", "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password}); status != 401 {
		t.Errorf("kempten account signs in on bochum: %d", status)
	}

	// Facility lead: password and TOTP, then only their facility.
	status, body = call(t, httpAddr, "kempten.localhost", "POST", "/api/v1/staff/auth/login", "", map[string]string{
		"email": "leitung@kempten.demo", "password": demo.DemoPassword, "code": auth.TOTPCode(leadSecret, time.Now())})
	staffToken, _ := body["token"].(string)
	if status != 200 || staffToken == "" {
		t.Fatalf("lead login: %d %v", status, body)
	}
	status, facilities := call(t, httpAddr, "kempten.localhost", "GET", "/api/v1/staff/facilities", staffToken, nil)
	items, _ := facilities["items"].([]any)
	if status != 200 || len(items) != 1 {
		t.Fatalf("the lead's facilities: %d %v", status, facilities)
	}
	facilityID := items[0].(map[string]any)["id"].(string)
	status, facility := call(t, httpAddr, "kempten.localhost", "GET", "/api/v1/staff/facilities/"+facilityID, staffToken, nil)
	children, _ := facility["children"].([]any)
	if status != 200 || len(children) == 0 {
		t.Fatalf("the lead's facility: %d", status)
	}
	childID := children[0].(map[string]any)["id"].(string)
	if status, _ := call(t, httpAddr, "kempten.localhost", "GET", "/api/v1/staff/children/"+childID, staffToken, nil); status != 200 {
		t.Errorf("a child of the lead's facility: %d", status)
	}
	out, err := psql(dbURL, `SELECT actor_label || ' ' || action FROM audit_event WHERE object_id = '`+childID+`'`)
	if err != nil || !strings.Contains(out, "leitung@kempten.demo child.read") {
		t.Errorf("the audit log does not show the lead reading the child: %v\n%s", err, out)
	}

	serve.stop(t)
	log := serve.output.String()
	for _, secret := range []string{password, bearer, staffToken, token, demo.DemoPassword} {
		if strings.Contains(log, secret) {
			t.Errorf("a secret is in the server log")
		}
	}
}
