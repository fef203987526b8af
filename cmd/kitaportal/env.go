package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/uptrace/bun"

	"kitaportal/internal/platform/config"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/platform/logging"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
	"kitaportal/web"
)

// env is what every command starts from: validated configuration and a logger.
type env struct {
	cfg config.Config
	log *slog.Logger
}

func newEnv(lookupEnv func(string) (string, bool), stderr io.Writer) (*env, error) {
	// A lookup, not a getenv: METRICS_ADDR= (set but empty) switches the listener off.
	cfg, err := config.LoadLookup(lookupEnv)
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	return &env{cfg: cfg, log: logging.New(stderr, cfg.LogFormat, cfg.LogLevel)}, nil
}

// openDB connects to PostgreSQL. With wait, it keeps trying (logging each failure) until
// the database answers or ctx ends, so a process started before its database does not
// crash-loop.
func (e *env) openDB(ctx context.Context, wait bool) (*bun.DB, error) {
	if err := e.cfg.Require("DATABASE_URL"); err != nil {
		return nil, err
	}
	for delay := time.Second; ; delay = min(2*delay, 30*time.Second) {
		db, err := database.Open(ctx, e.cfg.DatabaseURL.Value())
		if err == nil || !wait {
			return db, err
		}
		if db != nil {
			db.Close()
		}
		e.log.Warn("database not reachable yet; retrying", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// renderer parses the embedded templates and message catalogue.
func renderer() (*view.Renderer, error) {
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		return nil, err
	}
	return view.New(web.FS, cat)
}

// syncTenants loads the rules files from TENANTS_DIR into the database.
func (e *env) syncTenants(ctx context.Context, db bun.IDB) ([]tenant.SyncResult, error) {
	return tenant.SyncDir(ctx, tenant.NewStore(db), os.DirFS(e.cfg.TenantsDir), e.cfg.TenantsDir, e.log)
}
