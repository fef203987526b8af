package database_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/testdb"
	"kitaportal/migrations"
)

// schema describes every table, column, constraint and index of the public schema, so two
// states can be compared.
func schema(t *testing.T, db *bun.DB) string {
	t.Helper()
	var parts []string
	err := db.NewRaw(`
		SELECT format('col %s.%s %s %s %s', table_name, column_name, data_type, is_nullable, coalesce(column_default, ''))
		FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE 'schema_migration%'
		UNION ALL
		SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
		FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE 'schema_migration%'
		UNION ALL
		SELECT format('idx %s %s', tablename, indexdef) FROM pg_indexes
		WHERE schemaname = 'public' AND tablename NOT LIKE 'schema_migration%'
		UNION ALL
		SELECT format('ext %s', extname) FROM pg_extension WHERE extname <> 'plpgsql'
		ORDER BY 1`).Scan(context.Background(), &parts)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(parts, "\n")
}

func TestMigrationsUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := testdb.Empty(t)
	m, err := database.NewMigrator(db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := m.Up(ctx)
	if err != nil || len(applied) == 0 {
		t.Fatalf("up: %v %v", applied, err)
	}
	first := schema(t, db)
	if !strings.Contains(first, "con contract contract_one_per_child EXCLUDE") || !strings.Contains(first, "col facility.tenant_id uuid") {
		t.Fatalf("the schema lacks what the product needs:\n%s", first)
	}
	if again, err := m.Up(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second up must be a no-op: %v %v", again, err)
	}
	for i := 0; ; i++ {
		rolled, err := m.Down(ctx)
		if err != nil {
			t.Fatalf("down: %v", err)
		}
		if len(rolled) == 0 {
			break
		}
		if i > 100 {
			t.Fatal("down never ends")
		}
	}
	if left := schema(t, db); left != "" {
		t.Fatalf("down left objects behind:\n%s", left)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if second := schema(t, db); second != first {
		t.Fatalf("up after down differs from the first up")
	}
}

func TestConcurrentMigrationsWaitForEachOther(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := testdb.Empty(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	applied := make([]int, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := database.NewMigrator(db, migrations.FS)
			if err != nil {
				errs[i] = err
				return
			}
			names, err := m.Up(ctx)
			applied[i], errs[i] = len(names), err
		}()
	}
	wg.Wait()
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
		total += applied[i]
	}
	files, _ := migrations.FS.ReadDir(".")
	ups := 0
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".up.sql") {
			ups++
		}
	}
	if total != ups {
		t.Errorf("each migration must be applied exactly once: %d applications of %d migrations", total, ups)
	}
}

func TestEveryTenantTableCarriesTenantIDInItsKeys(t *testing.T) {
	t.Parallel()
	db, _ := testdb.New(t)
	// Tables without tenant_id are platform tables, listed here on purpose.
	platform := map[string]bool{"tenant": true, "outbox": true, "mail_delivery": true, "worker_heartbeat": true,
		"operator": true, "operator_session": true, "operator_audit_event": true, "casbin_rule": true, "authz_policy_version": true,
		"stripe_event": true}
	var rows []struct {
		Table string `bun:"table_name"`
		PK    string `bun:"pk"`
	}
	err := db.NewRaw(`
		SELECT c.relname AS table_name, pg_get_constraintdef(k.oid) AS pk
		FROM pg_class c JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'p'
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname NOT LIKE 'schema_migration%'`).
		Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if platform[r.Table] {
			continue
		}
		if !strings.HasPrefix(r.PK, "PRIMARY KEY (tenant_id") {
			t.Errorf("%s: primary key %s does not start with tenant_id", r.Table, r.PK)
		}
	}
	var fks []struct {
		Name string `bun:"conname"`
		Def  string `bun:"def"`
	}
	err = db.NewRaw(`
		SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
		WHERE contype = 'f' AND connamespace = 'public'::regnamespace
		  AND confrelid NOT IN ('tenant'::regclass, 'operator'::regclass)
		  AND conrelid::regclass::text NOT IN ('outbox', 'mail_delivery', 'operator_session', 'operator_audit_event', 'casbin_rule')`).
		Scan(context.Background(), &fks)
	if err != nil {
		t.Fatal(err)
	}
	for _, fk := range fks {
		if !strings.HasPrefix(fk.Def, "FOREIGN KEY (tenant_id") {
			t.Errorf("foreign key %s does not include tenant_id: %s", fk.Name, fk.Def)
		}
	}
}
