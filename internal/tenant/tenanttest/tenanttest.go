// Package tenanttest gives tests the seed cities: a template hook that syncs
// tenants/*.yaml into the test database, and a loaded registry.
package tenanttest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/testdb"
	"kitaportal/internal/tenant"
)

// Dir is the repository's tenants directory, wherever the test runs from.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "tenants")
}

// Hook syncs the seed cities into the template database. Its name carries a checksum
// of the files, so an edited rules file gives a fresh template.
func Hook() testdb.Hook {
	h := sha256.New()
	_ = fs.WalkDir(os.DirFS(Dir()), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			raw, _ := fs.ReadFile(os.DirFS(Dir()), p)
			h.Write([]byte(p))
			h.Write(raw)
		}
		return nil
	})
	return testdb.Hook{
		Name: "tenants-" + hex.EncodeToString(h.Sum(nil))[:12],
		Run: func(ctx context.Context, db *bun.DB) error {
			_, err := tenant.SyncDir(ctx, tenant.NewStore(db), os.DirFS(Dir()), "tenants", nil)
			return err
		},
	}
}

// DB is a fresh test database with the seed cities synced.
func DB(t testing.TB) (*bun.DB, string) {
	t.Helper()
	return testdb.New(t, Hook())
}

// Registry loads the tenants of db.
func Registry(t testing.TB, db bun.IDB) *tenant.Registry {
	t.Helper()
	reg := tenant.NewRegistry(tenant.NewStore(db), slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := reg.Reload(context.Background()); err != nil {
		t.Fatalf("load tenants: %v", err)
	}
	return reg
}

// Get returns the loaded tenant with slug or fails the test.
func Get(t testing.TB, reg *tenant.Registry, slug string) *tenant.Tenant {
	t.Helper()
	tn, ok := reg.BySlug(slug)
	if !ok || tn.Rules == nil {
		t.Fatalf("tenant %s not loaded", slug)
	}
	return tn
}

// BenchBerlin opens the bench database (BENCH_DATABASE_URL, built by `make bench-data`)
// with its loaded registry and the synthetic Berlin; target names the make target that
// sets it up, for the message when it is missing.
func BenchBerlin(b *testing.B, target string) (*bun.DB, *tenant.Registry, *tenant.Tenant) {
	b.Helper()
	dsn := os.Getenv("BENCH_DATABASE_URL")
	if dsn == "" {
		b.Fatalf("BENCH_DATABASE_URL is not set: run `make %s` (it builds the bench database first)", target)
	}
	ctx := context.Background()
	db, err := database.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	reg := tenant.NewRegistry(tenant.NewStore(db), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := reg.Reload(ctx); err != nil {
		b.Fatal(err)
	}
	berlin, ok := reg.BySlug("berlin")
	if !ok {
		b.Fatal("the bench database has no berlin: run `make bench-data`")
	}
	return db, reg, berlin
}
