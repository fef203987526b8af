package database_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/testdb"
)

// Every table with a tenant_id column is under the tenant policy, so a later migration
// that forgets kitaportal_enable_tenant_rls fails here.
func TestEveryTenantTableHasRowLevelSecurity(t *testing.T) {
	t.Parallel()
	db, _ := testdb.New(t)
	var missing []string
	err := db.NewRaw(`
		SELECT c.relname FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
		  AND NOT (c.relrowsecurity AND EXISTS (
		      SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'
		        AND p.polroles @> ARRAY[(SELECT oid FROM pg_roles WHERE rolname = ?)]))
		ORDER BY 1`, database.AppRole).Scan(context.Background(), &missing)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("tenant tables without row-level security: %s (call kitaportal_enable_tenant_rls in their migration)", strings.Join(missing, ", "))
	}
}

// A tenant transaction sees and writes only its own tenant's rows, even when the SQL
// forgets the tenant filter or names another tenant on purpose.
func TestTenantTransactionsSeeOnlyTheirTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := testdb.New(t)
	a, b := uuid.New(), uuid.New()
	for i, id := range []uuid.UUID{a, b} {
		slug := []string{"stadt-a", "stadt-b"}[i]
		if _, err := db.ExecContext(ctx, `INSERT INTO tenant (id, slug, name) VALUES (?, ?, ?)`, id, slug, slug); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO provider (tenant_id, name, kind) VALUES (?, 'Träger', 'municipal'), (?, 'Träger 2', 'church')`, id, id); err != nil {
			t.Fatal(err)
		}
	}
	var providers, tenants, foreign int
	var role string
	err := database.InTenantTx(ctx, db, a, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT current_user`).Scan(&role); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM provider`).Scan(&providers); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tenant`).Scan(&tenants); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM provider WHERE tenant_id = ?`, b).Scan(&foreign)
	})
	if err != nil {
		t.Fatal(err)
	}
	if role != database.AppRole || providers != 2 || tenants != 1 || foreign != 0 {
		t.Errorf("as %s: %d providers (want 2), %d tenants (want 1), %d of the other tenant (want 0)", role, providers, tenants, foreign)
	}

	// Writing another tenant's rows is refused; changing them silently touches nothing.
	err = database.InTenantTx(ctx, db, a, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO provider (tenant_id, name, kind) VALUES (?, 'Fremd', 'private')`, b)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Errorf("insert into another tenant: %v", err)
	}
	var changed int64
	err = database.InTenantTx(ctx, db, a, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE provider SET name = 'übernommen' WHERE tenant_id = ?`, b)
		if err == nil {
			changed, _ = res.RowsAffected()
		}
		return err
	})
	if err != nil || changed != 0 {
		t.Errorf("update of another tenant's rows: %d rows, %v", changed, err)
	}
	// The role and the tenant end with the transaction.
	var after string
	if err := db.QueryRowContext(ctx, `SELECT current_user`).Scan(&after); err != nil || after == database.AppRole {
		t.Errorf("role leaked out of the transaction: %q %v", after, err)
	}
	if err := database.InTenantTx(ctx, db, uuid.Nil, func(context.Context, bun.Tx) error { return nil }); err == nil {
		t.Error("a tenant transaction without a tenant must be refused")
	}
}

// The audit log cannot be changed, not even by the schema owner.
func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := testdb.New(t)
	id := uuid.New()
	if _, err := db.ExecContext(ctx, `INSERT INTO tenant (id, slug, name) VALUES (?, 'stadt-c', 'C')`, id); err != nil {
		t.Fatal(err)
	}
	err := database.InTenantTx(ctx, db, id, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_event (tenant_id, id, actor_kind, action) VALUES (?, ?, 'system', 'test.event')`, id, uuid.New())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit_event SET action = 'x.y'`, `DELETE FROM audit_event`, `TRUNCATE audit_event`} {
		if _, err := db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s as owner: %v", q, err)
		}
		err := database.InTenantTx(ctx, db, id, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, q)
			return err
		})
		if err == nil {
			t.Errorf("%s as the app role succeeded", q)
		}
	}
}
