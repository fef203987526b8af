package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/platform/queue"
	"kitaportal/internal/server"
	"kitaportal/internal/tenant"
)

func serve(ctx context.Context, e *env) error {
	if err := e.cfg.Require("DATABASE_URL", "REDIS_URL"); err != nil {
		return err
	}
	e.log.Info("kitaportal serve starting", "config", e.cfg)
	// Do not wait for the database: serve 503 pages and /readyz until it is there.
	db, err := e.openDB(ctx, false)
	if db == nil {
		return err
	}
	if err != nil {
		e.log.Warn("database not reachable at start; serving 'unavailable' until it is", "err", err)
	}
	defer db.Close()
	_, rdb, err := queue.Connect(e.cfg.RedisURL.Value())
	if err != nil {
		return err
	}
	defer rdb.Close()
	metrics := httpserver.NewMetrics()
	metrics.Registry.MustRegister(outbox.NewCollector(db))
	return serveHTTP(ctx, e, db, rdb, metrics, nil)
}

// serveHTTP runs the portal until ctx ends, then drains requests for up to
// SHUTDOWN_TIMEOUT.
func serveHTTP(ctx context.Context, e *env, db *bun.DB, rdb redis.UniversalClient, metrics *httpserver.Metrics, sink *mail.Sink) error {
	// Pages make much short-lived garbage while the live heap stays small (tens of MB), so
	// at Go's default the collector runs every few hundred requests and takes a tenth of
	// the CPU under load. Unless GOGC is set, collect at four times the live heap.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	registry := tenant.NewRegistry(tenant.NewStore(db), e.log)
	go registry.Run(ctx, e.cfg.TenantReload)
	views, err := renderer()
	if err != nil {
		return err
	}
	enforcer, err := authz.NewFromConfig(db, e.log)
	if err != nil {
		return err
	}
	go enforcer.Run(ctx, 2*time.Second)
	app, err := server.New(server.Deps{
		Config: e.cfg, DB: db, Redis: rdb, Registry: registry, Views: views,
		Log: e.log, Metrics: metrics, MailSink: sink, Authz: enforcer,
	})
	if err != nil {
		return err
	}
	stopMetrics := serveMetrics(e, metrics)
	defer stopMetrics()
	return listen(ctx, e, app)
}

func listen(ctx context.Context, e *env, app *fiber.App) error {
	ln, err := net.Listen("tcp", e.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", e.cfg.HTTPAddr, err)
	}
	e.log.Info("portal listening", "addr", ln.Addr().String(), "vendor", e.cfg.PublicURL.String(),
		"example_tenant", e.cfg.TenantURL("kempten"))
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	e.log.Info("shutting down: draining requests", "timeout", e.cfg.ShutdownTimeout)
	if err := app.ShutdownWithTimeout(e.cfg.ShutdownTimeout); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// serveMetrics exposes /metrics on METRICS_ADDR, a listener of its own so the metrics are
// never reachable through a tenant's host. A port already in use is logged, not fatal.
func serveMetrics(e *env, m *httpserver.Metrics) (stop func()) {
	if e.cfg.MetricsAddr == "" || m == nil {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	// Profiles for the operator only when PPROF=true, on the same internal listener
	// (loopback by default): `go tool pprof http://127.0.0.1:9090/debug/pprof/profile?seconds=30`.
	if e.cfg.PProf {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{Addr: e.cfg.MetricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("metrics listener failed; continuing without /metrics", "addr", e.cfg.MetricsAddr, "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}
