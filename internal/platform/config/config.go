// Package config reads the typed configuration of every kitaportal process from
// environment variables, validates all of it at once and prints it with secrets masked.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole runtime configuration. Every field comes from one environment
// variable, named in its tag; README.md documents them and config/kitaportal.env.example
// shows a working local set.
type Config struct {
	Env        string   `env:"APP_ENV"`     // development | test | production
	HTTPAddr   string   `env:"HTTP_ADDR"`   // listen address of the portal
	BaseDomain string   `env:"BASE_DOMAIN"` // tenants live on <slug>.<BaseDomain>
	PublicURL  *url.URL `env:"PUBLIC_URL"`  // how users reach the base domain, e.g. http://localhost:8080

	DatabaseURL Secret `env:"DATABASE_URL"`
	RedisURL    Secret `env:"REDIS_URL"`

	// TrustedProxies may set X-Forwarded-Host / X-Forwarded-For; nobody else can.
	TrustedProxies []netip.Prefix `env:"TRUSTED_PROXIES"`

	TenantsDir      string        `env:"TENANTS_DIR"`
	TenantReload    time.Duration `env:"TENANT_RELOAD_INTERVAL"`
	SMTPURL         Secret        `env:"SMTP_URL"` // smtp://user:pass@host:port
	MailFrom        string        `env:"MAIL_FROM"`
	DevMailSink     bool          `env:"DEV_MAIL_SINK"`      // capture mail locally and list it at /dev/mail
	DevMailSinkSMTP string        `env:"DEV_MAIL_SINK_ADDR"` // where the local SMTP sink listens
	MetricsAddr     string        `env:"METRICS_ADDR"`       // separate listener for /metrics; set but empty = off
	PProf           bool          `env:"PPROF"`              // also serve /debug/pprof/ on the metrics listener

	LogLevel  slog.Level `env:"LOG_LEVEL"`
	LogFormat string     `env:"LOG_FORMAT"` // json | text

	BodyLimit       int           `env:"HTTP_BODY_LIMIT"`   // bytes
	HeaderLimit     int           `env:"HTTP_HEADER_LIMIT"` // bytes of request line + headers
	RequestTimeout  time.Duration `env:"HTTP_REQUEST_TIMEOUT"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT"`

	WorkerConcurrency int `env:"WORKER_CONCURRENCY"`

	// AuthSecret keys the CSRF tokens and seals TOTP secrets at rest (at least 32
	// characters; required in production, a fixed development value otherwise).
	AuthSecret Secret `env:"AUTH_SECRET"`
	// ChildFileKey seals the health data of child files at rest: "id:secret" pairs,
	// comma-separated, the first sealing new data, the others still opening what they
	// sealed (key rotation). Required in production; a development value otherwise.
	ChildFileKey Secret `env:"CHILDFILE_KEY"`
	// SessionIdle ends a browser session after this long without a request;
	// SessionMaxAge ends it this long after sign-in; APITokenTTL is a bearer token's life.
	SessionIdle   time.Duration `env:"SESSION_IDLE_TIMEOUT"`
	SessionMaxAge time.Duration `env:"SESSION_MAX_AGE"`
	APITokenTTL   time.Duration `env:"API_TOKEN_TTL"`
	// PasswordHashConcurrency bounds the argon2id hashes running at once (0: half the
	// cores), so sign-ins never take every core from the people who search.
	PasswordHashConcurrency int `env:"PASSWORD_HASH_CONCURRENCY"`
	// SupportAccessMax is the longest support access an operator can open.
	SupportAccessMax time.Duration `env:"SUPPORT_ACCESS_MAX"`

	StripeSecretKey     Secret `env:"STRIPE_SECRET_KEY"`
	StripeWebhookSecret Secret `env:"STRIPE_WEBHOOK_SECRET"`

	// StorageDir is where uploaded files (facility photos) are kept on local disk.
	StorageDir string `env:"STORAGE_DIR"`

	// WebhookTimeout bounds one POST to a city's webhook endpoint. WebhookAllowLocal
	// accepts http and endpoints on loopback and private addresses (tests and a local
	// receiver; refused in production).
	WebhookTimeout    time.Duration `env:"WEBHOOK_TIMEOUT"`
	WebhookAllowLocal bool          `env:"WEBHOOK_ALLOW_LOCAL"`
}

// devChildFileKey is CHILDFILE_KEY outside production when none is set.
const devChildFileKey = "dev1:kitaportal-development-only-child-file-key-not-for-production"

// devAuthSecret is AUTH_SECRET outside production when none is set: sessions and CSRF
// tokens then survive restarts of a local run. Production refuses it.
const devAuthSecret = "kitaportal-development-only-auth-secret-not-for-production"

// Secret is a string that never prints itself.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "****"
}

// Value returns the secret itself; call it only where the secret is used.
func (s Secret) Value() string { return string(s) }

// LogValue keeps secrets out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Load builds the configuration from getenv. It cannot tell a variable set to "" from one
// that is unset, so an empty METRICS_ADDR means the default here; use LoadLookup (with
// os.LookupEnv) where "METRICS_ADDR=" must switch the listener off.
func Load(getenv func(string) string) (Config, error) {
	return LoadLookup(func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	})
}

// LoadLookup builds the configuration from lookup (os.LookupEnv in production, a map in
// tests). All problems are reported together, each naming its variable.
func LoadLookup(lookup func(string) (string, bool)) (Config, error) {
	p := parser{getenv: func(k string) string { v, _ := lookup(k); return v }}
	c := Config{
		Env:        p.oneOf("APP_ENV", "development", "development", "test", "production"),
		HTTPAddr:   p.str("HTTP_ADDR", ":8080"),
		BaseDomain: strings.ToLower(p.str("BASE_DOMAIN", "localhost")),

		DatabaseURL: Secret(p.str("DATABASE_URL", "")),
		RedisURL:    Secret(p.str("REDIS_URL", "")),

		TrustedProxies: p.prefixes("TRUSTED_PROXIES"),

		TenantsDir:      p.str("TENANTS_DIR", "tenants"),
		TenantReload:    p.duration("TENANT_RELOAD_INTERVAL", 5*time.Second, time.Second, time.Hour),
		SMTPURL:         Secret(p.str("SMTP_URL", "")),
		MailFrom:        p.str("MAIL_FROM", "Kitaportal <no-reply@kitaportal.localhost>"),
		DevMailSink:     p.boolean("DEV_MAIL_SINK", false),
		DevMailSinkSMTP: p.str("DEV_MAIL_SINK_ADDR", "127.0.0.1:2525"),
		MetricsAddr:     metricsAddr(lookup),
		PProf:           p.boolean("PPROF", false),

		LogLevel:  p.level("LOG_LEVEL", slog.LevelInfo),
		LogFormat: p.oneOf("LOG_FORMAT", "json", "json", "text"),

		BodyLimit:       p.integer("HTTP_BODY_LIMIT", 20<<20, 1<<10, 256<<20), // the largest upload: a waitlist CSV (16 MB)
		HeaderLimit:     p.integer("HTTP_HEADER_LIMIT", 8<<10, 1<<10, 64<<10),
		RequestTimeout:  p.duration("HTTP_REQUEST_TIMEOUT", 15*time.Second, 100*time.Millisecond, 5*time.Minute),
		ShutdownTimeout: p.duration("SHUTDOWN_TIMEOUT", 20*time.Second, time.Second, 5*time.Minute),

		WorkerConcurrency: p.integer("WORKER_CONCURRENCY", 10, 1, 500),

		AuthSecret:              Secret(p.str("AUTH_SECRET", "")),
		ChildFileKey:            Secret(p.str("CHILDFILE_KEY", "")),
		SessionIdle:             p.duration("SESSION_IDLE_TIMEOUT", 2*time.Hour, time.Minute, 7*24*time.Hour),
		SessionMaxAge:           p.duration("SESSION_MAX_AGE", 12*time.Hour, time.Minute, 30*24*time.Hour),
		APITokenTTL:             p.duration("API_TOKEN_TTL", 30*24*time.Hour, time.Minute, 365*24*time.Hour),
		PasswordHashConcurrency: p.integer("PASSWORD_HASH_CONCURRENCY", 0, 0, 64),
		SupportAccessMax:        p.duration("SUPPORT_ACCESS_MAX", time.Hour, time.Minute, 24*time.Hour),

		StripeSecretKey:     Secret(p.str("STRIPE_SECRET_KEY", "")),
		StripeWebhookSecret: Secret(p.str("STRIPE_WEBHOOK_SECRET", "")),

		StorageDir: p.str("STORAGE_DIR", "data/files"),

		WebhookTimeout:    p.duration("WEBHOOK_TIMEOUT", 10*time.Second, 100*time.Millisecond, time.Minute),
		WebhookAllowLocal: p.boolean("WEBHOOK_ALLOW_LOCAL", false),
	}
	c.PublicURL = p.publicURL("PUBLIC_URL", "http://"+c.BaseDomain+portOf(c.HTTPAddr))

	if !validDomain(c.BaseDomain) {
		p.fail("BASE_DOMAIN", "must be a host name such as kitaportal.de or localhost")
	}
	if c.PublicURL != nil && !strings.EqualFold(c.PublicURL.Hostname(), c.BaseDomain) {
		p.fail("PUBLIC_URL", "its host must be BASE_DOMAIN ("+c.BaseDomain+")")
	}
	if c.PProf && c.MetricsAddr == "" {
		p.fail("PPROF", "needs METRICS_ADDR: profiles are served only on the metrics listener")
	}
	if c.Env == "production" && c.DevMailSink {
		p.fail("DEV_MAIL_SINK", "must not be enabled in production")
	}
	if c.Env == "production" && c.WebhookAllowLocal {
		p.fail("WEBHOOK_ALLOW_LOCAL", "must not be enabled in production (webhooks to local addresses)")
	}
	switch {
	case c.AuthSecret == "" && c.Env == "production":
		p.fail("AUTH_SECRET", "is required in production (at least 32 random characters, e.g. openssl rand -base64 48)")
	case c.AuthSecret == "":
		c.AuthSecret = devAuthSecret
	case len(c.AuthSecret) < 32:
		p.fail("AUTH_SECRET", "must have at least 32 characters")
	case c.Env == "production" && c.AuthSecret == devAuthSecret:
		p.fail("AUTH_SECRET", "must not be the development value in production")
	}
	switch {
	case c.ChildFileKey == "" && c.Env == "production":
		p.fail("CHILDFILE_KEY", "is required in production (id:secret, the secret at least 32 random characters)")
	case c.ChildFileKey == "":
		c.ChildFileKey = devChildFileKey
	case c.Env == "production" && c.ChildFileKey == devChildFileKey:
		p.fail("CHILDFILE_KEY", "must not be the development value in production")
	default:
		for _, pair := range strings.Split(c.ChildFileKey.Value(), ",") {
			if id, secret, ok := strings.Cut(strings.TrimSpace(pair), ":"); !ok || id == "" || len(secret) < 32 {
				p.fail("CHILDFILE_KEY", "must be id:secret pairs, comma-separated, each secret at least 32 characters")
				break
			}
		}
	}
	if c.Env == "production" && c.PublicURL != nil && c.PublicURL.Scheme != "https" {
		p.fail("PUBLIC_URL", "must be https in production (session cookies are Secure)")
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL.Value()); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			p.fail("DATABASE_URL", "must be a postgres:// URL")
		}
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL.Value()); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			p.fail("REDIS_URL", "must be a redis:// URL")
		}
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL.Value()); err != nil || u.Scheme != "smtp" || u.Port() == "" {
			p.fail("SMTP_URL", "must look like smtp://user:password@host:port")
		}
	}
	return c, errors.Join(p.errs...)
}

// Require reports the variables a subcommand cannot do without.
func (c Config) Require(names ...string) error {
	var errs []error
	for _, n := range names {
		var empty bool
		switch n {
		case "DATABASE_URL":
			empty = c.DatabaseURL == ""
		case "REDIS_URL":
			empty = c.RedisURL == ""
		case "SMTP_URL":
			empty = c.SMTPURL == ""
		default:
			panic("config.Require: unknown variable " + n)
		}
		if empty {
			errs = append(errs, fmt.Errorf("%s: is required for this command", n))
		}
	}
	return errors.Join(errs...)
}

// TenantURL is the public address of a tenant's portal, e.g. http://kempten.localhost:8080.
func (c Config) TenantURL(slug string) string {
	u := *c.PublicURL
	u.Host = slug + "." + u.Host
	return strings.TrimSuffix(u.String(), "/")
}

// LogValue prints the configuration with secrets masked, for the start-up log line.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("env", c.Env),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("base_domain", c.BaseDomain),
		slog.String("public_url", c.PublicURL.String()),
		slog.String("database_url", maskURL(c.DatabaseURL.Value())),
		slog.String("redis_url", maskURL(c.RedisURL.Value())),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("tenants_dir", c.TenantsDir),
		slog.Duration("tenant_reload", c.TenantReload),
		slog.String("smtp_url", maskURL(c.SMTPURL.Value())),
		slog.String("mail_from", c.MailFrom),
		slog.Bool("dev_mail_sink", c.DevMailSink),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Bool("pprof", c.PProf),
		slog.String("log_level", c.LogLevel.String()),
		slog.Int("body_limit", c.BodyLimit),
		slog.Int("header_limit", c.HeaderLimit),
		slog.Duration("request_timeout", c.RequestTimeout),
		slog.Int("worker_concurrency", c.WorkerConcurrency),
		slog.String("auth_secret", c.AuthSecret.String()),
		slog.Duration("session_idle_timeout", c.SessionIdle),
		slog.Duration("session_max_age", c.SessionMaxAge),
		slog.Duration("api_token_ttl", c.APITokenTTL),
		slog.Int("password_hash_concurrency", c.PasswordHashConcurrency),
		slog.Duration("support_access_max", c.SupportAccessMax),
		slog.String("stripe_secret_key", c.StripeSecretKey.String()),
		slog.String("stripe_webhook_secret", c.StripeWebhookSecret.String()),
		slog.Duration("webhook_timeout", c.WebhookTimeout),
		slog.Bool("webhook_allow_local", c.WebhookAllowLocal),
	)
}

// maskURL keeps scheme, user, host and path of a URL and hides its password.
func maskURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "****"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "****")
	}
	return u.Redacted()
}

// metricsAddr is METRICS_ADDR: 127.0.0.1:9090 when unset, off ("") when set but empty.
func metricsAddr(lookup func(string) (string, bool)) string {
	v, set := lookup("METRICS_ADDR")
	if !set {
		return "127.0.0.1:9090"
	}
	return strings.TrimSpace(v)
}

func portOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || addr[i+1:] == "80" {
		return ""
	}
	return addr[i:]
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// parser collects one error per bad variable instead of stopping at the first.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, reason string) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", name, reason))
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := p.str(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, fmt.Sprintf("must be one of %s (got %q)", strings.Join(allowed, ", "), v))
	return def
}

func (p *parser) integer(name string, def, min, max int) int {
	raw := p.str(name, "")
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < min || n > max {
		p.fail(name, fmt.Sprintf("must be a whole number from %d to %d (got %q)", min, max, raw))
		return def
	}
	return n
}

func (p *parser) duration(name string, def, min, max time.Duration) time.Duration {
	raw := p.str(name, "")
	if raw == "" {
		return def
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d < min || d > max {
		p.fail(name, fmt.Sprintf("must be a duration from %s to %s such as 15s (got %q)", min, max, raw))
		return def
	}
	return d
}

func (p *parser) boolean(name string, def bool) bool {
	raw := p.str(name, "")
	if raw == "" {
		return def
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		p.fail(name, fmt.Sprintf("must be true or false (got %q)", raw))
		return def
	}
	return b
}

func (p *parser) level(name string, def slog.Level) slog.Level {
	raw := p.str(name, "")
	if raw == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(raw)); err != nil {
		p.fail(name, fmt.Sprintf("must be debug, info, warn or error (got %q)", raw))
		return def
	}
	return l
}

func (p *parser) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, part := range strings.Split(p.str(name, ""), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			if a, err := netip.ParseAddr(part); err == nil {
				out = append(out, netip.PrefixFrom(a, a.BitLen()))
				continue
			}
		}
		pre, err := netip.ParsePrefix(part)
		if err != nil {
			p.fail(name, fmt.Sprintf("%q is not an IP address or CIDR range", part))
			continue
		}
		out = append(out, pre.Masked())
	}
	return out
}

func (p *parser) publicURL(name, def string) *url.URL {
	raw := p.str(name, def)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		p.fail(name, fmt.Sprintf("must be an http(s) URL without a path such as https://kitaportal.de (got %q)", raw))
		u, _ = url.Parse("http://localhost")
	}
	u.Path = ""
	return u
}
