package database

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// migrationLockKey is the advisory lock every migrating process takes first, so two
// deploys starting at once run the migrations one after the other instead of failing
// on bun's lock row.
const migrationLockKey = 7243_0001

// Migrator applies the SQL files of one fs.FS (migrations/*.tx.up.sql and .tx.down.sql).
type Migrator struct {
	db *bun.DB
	m  *migrate.Migrator
}

// NewMigrator reads the migration files from fsys.
func NewMigrator(db *bun.DB, fsys fs.FS) (*Migrator, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(fsys); err != nil {
		return nil, fmt.Errorf("migrations: discover: %w", err)
	}
	m := migrate.NewMigrator(db, ms,
		migrate.WithTableName("schema_migration"),
		migrate.WithLocksTableName("schema_migration_lock"),
		// A migration that fails must not be recorded as applied.
		migrate.WithMarkAppliedOnSuccess(true),
	)
	return &Migrator{db: db, m: m}, nil
}

// Up applies every pending migration and returns their names.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	var names []string
	err := m.locked(ctx, func() error {
		group, err := m.m.Migrate(ctx)
		for _, mig := range group.Migrations {
			names = append(names, mig.String())
		}
		return err
	})
	return names, err
}

// Down rolls back the last group of migrations (those applied by one Up).
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	var names []string
	err := m.locked(ctx, func() error {
		group, err := m.m.Rollback(ctx)
		for _, mig := range group.Migrations {
			names = append(names, mig.String())
		}
		return err
	})
	return names, err
}

// Status lists every known migration with whether it is applied.
func (m *Migrator) Status(ctx context.Context) (migrate.MigrationSlice, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, err
	}
	return m.m.MigrationsWithStatus(ctx)
}

func (m *Migrator) locked(ctx context.Context, fn func() error) error {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrations: connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		return fmt.Errorf("migrations: advisory lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrationLockKey) //nolint:errcheck // closing the session releases it too
	if err := m.m.Init(ctx); err != nil {
		return fmt.Errorf("migrations: init: %w", err)
	}
	return fn()
}
