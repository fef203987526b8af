package config

import (
	"strings"
	"testing"
)

func load(vars map[string]string) (Config, error) {
	return Load(func(k string) string { return vars[k] })
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != "development" || c.HTTPAddr != ":8080" || c.BaseDomain != "localhost" || c.BodyLimit != 20<<20 {
		t.Errorf("defaults: %+v", c)
	}
	if got := c.TenantURL("kempten"); got != "http://kempten.localhost:8080" {
		t.Errorf("tenant URL %q", got)
	}
}

func TestEveryBadVariableIsReportedByName(t *testing.T) {
	t.Parallel()
	_, err := load(map[string]string{
		"APP_ENV":              "staging",
		"BASE_DOMAIN":          "-bad-.example",
		"DATABASE_URL":         "mysql://x",
		"REDIS_URL":            "localhost:6379",
		"TRUSTED_PROXIES":      "10.0.0.0/8, not-an-ip",
		"HTTP_BODY_LIMIT":      "-5",
		"HTTP_REQUEST_TIMEOUT": "forever",
		"DEV_MAIL_SINK":        "maybe",
		"LOG_LEVEL":            "loud",
		"SMTP_URL":             "smtp://nohost",
		"PUBLIC_URL":           "ftp://x",
	})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{"APP_ENV", "BASE_DOMAIN", "DATABASE_URL", "REDIS_URL", "TRUSTED_PROXIES", "HTTP_BODY_LIMIT",
		"HTTP_REQUEST_TIMEOUT", "DEV_MAIL_SINK", "LOG_LEVEL", "SMTP_URL", "PUBLIC_URL"} {
		if !strings.Contains(err.Error(), name+": ") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

func TestProductionRefusesTheDevMailSink(t *testing.T) {
	t.Parallel()
	_, err := load(map[string]string{"APP_ENV": "production", "DEV_MAIL_SINK": "true"})
	if err == nil || !strings.Contains(err.Error(), "DEV_MAIL_SINK: must not be enabled in production") {
		t.Fatalf("got %v", err)
	}
}

func TestPublicURLMustBeOnTheBaseDomain(t *testing.T) {
	t.Parallel()
	_, err := load(map[string]string{"BASE_DOMAIN": "kitaportal.de", "PUBLIC_URL": "https://evil.example"})
	if err == nil || !strings.Contains(err.Error(), "PUBLIC_URL: its host must be BASE_DOMAIN") {
		t.Fatalf("got %v", err)
	}
	c, err := load(map[string]string{"BASE_DOMAIN": "kitaportal.de", "PUBLIC_URL": "https://kitaportal.de"})
	if err != nil || c.TenantURL("bochum") != "https://bochum.kitaportal.de" {
		t.Fatalf("%v %q", err, c.TenantURL("bochum"))
	}
}

func TestTrustedProxiesAcceptAddressesAndRanges(t *testing.T) {
	t.Parallel()
	c, err := load(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7, ::1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "192.168.1.7/32" || c.TrustedProxies[2].String() != "::1/128" {
		t.Errorf("proxies %v", c.TrustedProxies)
	}
}

func TestSecretsAreMaskedInLogs(t *testing.T) {
	t.Parallel()
	c, err := load(map[string]string{
		"DATABASE_URL":      "postgres://app:s3cret-db@db:5432/kita",
		"REDIS_URL":         "redis://:s3cret-redis@redis:6379/0",
		"SMTP_URL":          "smtp://mailer:s3cret-smtp@mail:587",
		"STRIPE_SECRET_KEY": "sk_live_s3cret",
		"AUTH_SECRET":       "s3cret-auth-0123456789abcdefghijklmnopqrstuvwxyz",
	})
	if err != nil {
		t.Fatal(err)
	}
	printed := c.LogValue().String()
	if strings.Contains(printed, "s3cret") {
		t.Fatalf("a secret leaked into the log line: %s", printed)
	}
	for _, want := range []string{"db:5432", "app", "mail:587"} {
		if !strings.Contains(printed, want) {
			t.Errorf("log line lacks %q: %s", want, printed)
		}
	}
}

func TestRequire(t *testing.T) {
	t.Parallel()
	c, _ := load(nil)
	err := c.Require("DATABASE_URL", "REDIS_URL")
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL: is required") || !strings.Contains(err.Error(), "REDIS_URL: is required") {
		t.Fatalf("got %v", err)
	}
}

func TestAuthSecret(t *testing.T) {
	t.Parallel()
	_, err := load(map[string]string{"APP_ENV": "production", "PUBLIC_URL": "http://localhost"})
	if err == nil || !strings.Contains(err.Error(), "AUTH_SECRET: is required in production") ||
		!strings.Contains(err.Error(), "PUBLIC_URL: must be https in production") {
		t.Fatalf("production without secret and https: %v", err)
	}
	if _, err := load(map[string]string{"AUTH_SECRET": "too-short"}); err == nil || !strings.Contains(err.Error(), "AUTH_SECRET: must have at least 32") {
		t.Fatalf("short secret: %v", err)
	}
	c, err := load(nil)
	if err != nil || len(c.AuthSecret) < 32 {
		t.Fatalf("development default: %v", err)
	}
	if _, err := load(map[string]string{"APP_ENV": "production", "AUTH_SECRET": c.AuthSecret.Value(), "BASE_DOMAIN": "kitaportal.de",
		"PUBLIC_URL": "https://kitaportal.de"}); err == nil || !strings.Contains(err.Error(), "must not be the development value") {
		t.Fatalf("development secret in production: %v", err)
	}
}

func TestChildFileKey(t *testing.T) {
	t.Parallel()
	if _, err := load(map[string]string{"APP_ENV": "production", "PUBLIC_URL": "https://localhost"}); err == nil ||
		!strings.Contains(err.Error(), "CHILDFILE_KEY: is required in production") {
		t.Fatalf("production without child file key: %v", err)
	}
	for _, bad := range []string{"nokey", "k1:short", "k1:" + strings.Repeat("a", 32) + ",broken"} {
		if _, err := load(map[string]string{"CHILDFILE_KEY": bad}); err == nil || !strings.Contains(err.Error(), "CHILDFILE_KEY: must be id:secret") {
			t.Errorf("CHILDFILE_KEY=%q: %v", bad, err)
		}
	}
	c, err := load(map[string]string{"CHILDFILE_KEY": "k2:" + strings.Repeat("b", 32) + ",k1:" + strings.Repeat("a", 32)})
	if err != nil || !strings.HasPrefix(c.ChildFileKey.Value(), "k2:") || strings.Contains(c.ChildFileKey.String(), "bbbb") {
		t.Fatalf("rotation pair: %v %v", err, c.ChildFileKey)
	}
}

func TestMetricsListenerAndProfiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		addr    string
		pprof   bool
		wantErr string
	}{
		{"unset: default listener, no profiles", nil, "127.0.0.1:9090", false, ""},
		{"set but empty: off", map[string]string{"METRICS_ADDR": ""}, "", false, ""},
		{"blank: off", map[string]string{"METRICS_ADDR": "  "}, "", false, ""},
		{"an address", map[string]string{"METRICS_ADDR": "127.0.0.1:9191"}, "127.0.0.1:9191", false, ""},
		{"profiles asked for", map[string]string{"PPROF": "true"}, "127.0.0.1:9090", true, ""},
		{"profiles off", map[string]string{"PPROF": "false"}, "127.0.0.1:9090", false, ""},
		{"PPROF empty: default off", map[string]string{"PPROF": ""}, "127.0.0.1:9090", false, ""},
		{"PPROF not a bool", map[string]string{"PPROF": "yes please"}, "", false, "PPROF: must be true or false"},
		{"profiles without a listener", map[string]string{"METRICS_ADDR": "", "PPROF": "true"}, "", false, "PPROF: needs METRICS_ADDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadLookup(func(k string) (string, bool) { v, ok := tc.vars[k]; return v, ok })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.MetricsAddr != tc.addr || c.PProf != tc.pprof {
				t.Errorf("METRICS_ADDR %q PPROF %v, want %q %v", c.MetricsAddr, c.PProf, tc.addr, tc.pprof)
			}
		})
	}
	// Load (a getenv without "is it set") cannot tell empty from unset: the default.
	if c, err := load(map[string]string{"METRICS_ADDR": ""}); err != nil || c.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("Load: %q %v", c.MetricsAddr, err)
	}
}
