// Package testdb gives each test its own PostgreSQL database, cloned from a template that
// has every migration applied. Cloning takes a fraction of a second, so tests run in
// parallel against a real server without sharing state.
//
// The server comes from TEST_DATABASE_URL or DATABASE_URL (the README's test command sets
// it); a test fails, never skips, when neither is set: a skipped database test proves
// nothing.
package testdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
	"kitaportal/migrations"
)

// ServerURL is the URL of the PostgreSQL server tests use.
func ServerURL(t testing.TB) string {
	for _, name := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(name); v != "" {
			return v
		}
	}
	t.Fatal("testdb: set TEST_DATABASE_URL or DATABASE_URL (run the tests through `make test`)")
	return ""
}

// withDatabase returns rawURL with its database name replaced.
func withDatabase(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// Hook prepares the template after migrations (e.g. syncing tenants). It runs once per
// template; set it from TestMain before the first New. Its name is part of the template's
// identity so different hooks get different templates.
type Hook struct {
	Name string
	Run  func(ctx context.Context, db *bun.DB) error
}

// New creates a fresh database for t from the migrated template and drops it when t ends.
// It returns the database and its URL (for code that opens its own connections).
func New(t testing.TB, hooks ...Hook) (*bun.DB, string) {
	t.Helper()
	server := ServerURL(t)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(server, hooks) })
	if templateErr != nil {
		t.Fatalf("testdb: template: %v", templateErr)
	}
	return create(t, server, templateName)
}

// create makes a database from template, opens it and drops it when t ends.
func create(t testing.TB, server, template string) (*bun.DB, string) {
	t.Helper()
	ctx := context.Background()
	admin, err := database.Open(ctx, withDatabase(server, "postgres"))
	if err != nil {
		t.Fatalf("testdb: connect: %v", err)
	}
	defer admin.Close()
	name := "kp_test_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	// CREATE DATABASE … TEMPLATE fails while another session is connected to the template;
	// nobody stays connected to it, but retry briefly in case one is just closing.
	var createErr error
	for i := 0; i < 50; i++ {
		if _, createErr = admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template+" ENCODING 'UTF8'"); createErr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if createErr != nil {
		t.Fatalf("testdb: create %s: %v", name, createErr)
	}
	dbURL := withDatabase(server, name)
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("testdb: open %s: %v", name, err)
	}
	t.Cleanup(func() { drop(t, server, name, db) })
	return db, dbURL
}

// ensureTemplate creates kp_tpl_<hash of migrations and hooks> once per server; test
// binaries of several packages running at once serialise on an advisory lock.
func ensureTemplate(server string, hooks []Hook) (string, error) {
	ctx := context.Background()
	name := "kp_tpl_" + fingerprint(hooks)
	admin, err := database.Open(ctx, withDatabase(server, "postgres"))
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(72430002)"); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock(72430002)") //nolint:errcheck // released with the session anyway

	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_wip"
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return "", err
	}
	if err := prepare(ctx, withDatabase(server, building), hooks); err != nil {
		return "", err
	}
	// Renaming last means a half-built template is never used.
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

func prepare(ctx context.Context, dbURL string, hooks []Hook) error {
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := database.NewMigrator(db, migrations.FS)
	if err != nil {
		return err
	}
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, h := range hooks {
		if err := h.Run(ctx, db); err != nil {
			return fmt.Errorf("hook %s: %w", h.Name, err)
		}
	}
	return nil
}

// fingerprint changes whenever a migration file or the hook list changes.
func fingerprint(hooks []Hook) string {
	h := sha256.New()
	names, _ := fs.Glob(migrations.FS, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		raw, _ := fs.ReadFile(migrations.FS, n)
		h.Write([]byte(n))
		h.Write(raw)
	}
	for _, hk := range hooks {
		h.Write([]byte("hook:" + hk.Name))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Empty creates an empty database (no migrations) for t and drops it when t ends.
func Empty(t testing.TB) (*bun.DB, string) {
	t.Helper()
	return create(t, ServerURL(t), "template0")
}

func drop(t testing.TB, server, name string, db *bun.DB) {
	db.Close()
	admin, err := database.Open(context.Background(), withDatabase(server, "postgres"))
	if err != nil {
		t.Logf("testdb: drop %s: %v", name, err)
		return
	}
	defer admin.Close()
	if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Logf("testdb: drop %s: %v", name, err)
	}
}
