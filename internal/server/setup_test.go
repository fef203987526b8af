package server_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/config"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/platform/queue"
	"kitaportal/internal/platform/testdb"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/server"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
	"kitaportal/web"
)

type bundle struct {
	app   *fiber.App
	dbURL string // for a real binary started against the same database
	deps  server.Deps
	reg   *tenant.Registry
	db    *bun.DB
	rdb   redis.UniversalClient
	clock *clock.Manual
	authz *authz.Enforcer
	keys  *auth.Keys
	exec  func(query string, args ...any)
}

// setup builds the real router over a fresh database with the seed cities. env adds or
// overrides configuration variables. The clock is manual (starting now), so tests can
// let links expire and TOTP codes move on.
func setup(t testing.TB, env map[string]string) *bundle {
	t.Helper()
	return setupWith(t, env, clock.NewManual(time.Now()))
}

// setupWith is setup with a given clock, for pages that depend on today.
func setupWith(t testing.TB, env map[string]string, clk *clock.Manual) *bundle {
	t.Helper()
	db, dbURL := tenanttest.DB(t)
	vars := map[string]string{"BASE_DOMAIN": "localhost", "PUBLIC_URL": "http://localhost:8080", "METRICS_ADDR": "", "STORAGE_DIR": t.TempDir()}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	views, err := view.New(web.FS, cat)
	if err != nil {
		t.Fatal(err)
	}
	_, rdb, err := queue.Connect(testdb.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	reg := tenanttest.Registry(t, db)
	var logOut io.Writer = io.Discard
	if os.Getenv("KP_TEST_LOG") != "" { // see the server's log while debugging a test
		logOut = os.Stderr
	}
	log := slog.New(slog.NewJSONHandler(logOut, nil))
	enforcer, err := authz.NewFromConfig(db, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := enforcer.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeys(cfg.AuthSecret.Value())
	if err != nil {
		t.Fatal(err)
	}
	deps := server.Deps{Config: cfg, DB: db, Redis: rdb, Registry: reg, Views: views, Log: log, Authz: enforcer, Clock: clk,
		RateLimitPrefix: uuid.NewString() + ":"}
	app, err := server.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{app: app, dbURL: dbURL, deps: deps, reg: reg, db: db, rdb: rdb, clock: clk, authz: enforcer, keys: keys,
		exec: func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
				t.Fatal(err)
			}
		}}
}

func (b *bundle) tenant(t testing.TB, slug string) *tenant.Tenant {
	t.Helper()
	return tenanttest.Get(t, b.reg, slug)
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
