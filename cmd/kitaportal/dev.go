package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/platform/queue"
	"kitaportal/migrations"
)

// dev runs the whole product in one process for local use: it waits for the database,
// migrates, syncs the tenant files (and again whenever they change), seeds the demo
// cities, captures mail in a local sink, and serves and works until interrupted.
func dev(ctx context.Context, e *env) error {
	if e.cfg.Env == "production" {
		return fmt.Errorf("dev: refusing to run with APP_ENV=production")
	}
	if err := e.cfg.Require("DATABASE_URL", "REDIS_URL"); err != nil {
		return err
	}
	e.log.Info("kitaportal dev starting", "config", e.cfg)
	db, err := e.openDB(ctx, true)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := database.NewMigrator(db, migrations.FS)
	if err != nil {
		return err
	}
	if names, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	} else if len(names) > 0 {
		e.log.Info("migrations applied", "count", len(names))
	}
	if _, err := e.syncTenants(ctx, db); err != nil {
		e.log.Error("tenant files refused; those tenants keep their last good rules", "err", err)
	}
	if err := seedCities(ctx, e, db, nil, os.Stderr); err != nil {
		return err
	}

	var sink *mail.Sink
	smtpURL := e.cfg.SMTPURL.Value()
	if e.cfg.DevMailSink {
		if sink, err = mail.StartSink(e.cfg.DevMailSinkSMTP, 50000); err != nil {
			return err
		}
		defer sink.Close()
		if smtpURL == "" {
			smtpURL = sink.URL()
		}
		e.log.Info("mail sink capturing outgoing mail", "smtp", sink.Addr(), "list", e.cfg.PublicURL.String()+"/dev/mail")
	}
	if smtpURL == "" {
		return fmt.Errorf("dev: set SMTP_URL or DEV_MAIL_SINK=true")
	}
	sender, err := mail.NewSMTP(smtpURL, e.cfg.MailFrom)
	if err != nil {
		return err
	}
	_, rdb, err := queue.Connect(e.cfg.RedisURL.Value())
	if err != nil {
		return err
	}
	defer rdb.Close()

	metrics := httpserver.NewMetrics()
	metrics.Registry.MustRegister(outbox.NewCollector(db))
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return runWorker(ctx, e, db, sender, metrics.Registry) })
	g.Go(func() error { return serveHTTP(ctx, e, db, rdb, metrics, sink) })
	g.Go(func() error {
		watchTenants(ctx, e, func() {
			if _, err := e.syncTenants(ctx, db); err != nil {
				e.log.Error("tenant files refused; those tenants keep their last good rules", "err", err)
			}
		})
		return nil
	})
	return g.Wait()
}

// watchTenants calls sync whenever a file in TENANTS_DIR changes (checked every two
// seconds): edit a rules file and the running portal follows; a broken edit is refused
// and the last good rules stay.
func watchTenants(ctx context.Context, e *env, sync func()) {
	last := dirFingerprint(e.cfg.TenantsDir)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
		if fp := dirFingerprint(e.cfg.TenantsDir); fp != last {
			last = fp
			e.log.Info("tenant files changed; syncing")
			sync()
		}
	}
}

func dirFingerprint(dir string) string {
	h := sha256.New()
	_ = fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			fmt.Fprintf(h, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}
