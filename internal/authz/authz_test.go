package authz_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/tenant/tenanttest"
)

func enforcer(t *testing.T, db *bun.DB) *authz.Enforcer {
	t.Helper()
	en, err := authz.NewFromConfig(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if en.Allowed(&auth.Principal{Kind: auth.KindParent}, "x", "account.read") {
		t.Fatal("allowed before the rules are loaded")
	}
	if err := en.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return en
}

func TestRolesHoldInTheirTenantOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	reg := tenanttest.Registry(t, db)
	kempten, bochum := tenanttest.Get(t, reg, "kempten"), tenanttest.Get(t, reg, "bochum")
	en := enforcer(t, db)
	other := enforcer(t, db) // another server process

	staff := uuid.New()
	p := &auth.Principal{Kind: auth.KindStaff, ID: staff, MFADone: true}
	k, b := kempten.ID.String(), bochum.ID.String()
	if en.Allowed(p, k, "audit.read") {
		t.Fatal("allowed without a role")
	}
	err := database.InTenantTx(ctx, db, kempten.ID, func(ctx context.Context, tx bun.Tx) error {
		return authz.GrantRole(ctx, tx, kempten.ID, staff, authz.RoleTenantAdmin)
	})
	if err != nil {
		t.Fatal(err)
	}
	// A grouping rule of another tenant cannot even be written in this tenant's transaction.
	err = database.InTenantTx(ctx, db, kempten.ID, func(ctx context.Context, tx bun.Tx) error {
		return authz.GrantRole(ctx, tx, bochum.ID, staff, authz.RoleTenantAdmin)
	})
	if err == nil {
		t.Error("a kempten transaction wrote a rule for bochum")
	}
	if err := en.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !en.Allowed(p, k, "audit.read") || en.Allowed(p, b, "audit.read") || en.Allowed(p, k, "operator.console") {
		t.Error("tenant_admin must hold audit.read in kempten only, and no operator action")
	}
	// Half signed in (no second factor): nothing but finishing the sign-in.
	half := &auth.Principal{Kind: auth.KindStaff, ID: staff}
	if en.Allowed(half, k, "audit.read") || !en.Allowed(half, k, "auth.mfa") {
		t.Error("mfa_pending must only reach the second factor")
	}
	if !en.Allowed(&auth.Principal{Kind: auth.KindParent}, k, "account.read") || en.Allowed(&auth.Principal{Kind: auth.KindParent}, k, "staff.home") {
		t.Error("parent rights")
	}
	if en.Allowed(nil, k, "account.read") || en.Allowed(p, k, "no.such.action") {
		t.Error("nil principal or unknown action allowed")
	}
	// The other process follows the change through the policy version.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go other.Run(runCtx, 20*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for !other.Allowed(p, k, "audit.read") {
		if time.Now().After(deadline) {
			t.Fatal("the other process never saw the new role")
		}
		time.Sleep(20 * time.Millisecond)
	}
	err = database.InTenantTx(ctx, db, kempten.ID, func(ctx context.Context, tx bun.Tx) error {
		return authz.RevokeRole(ctx, tx, kempten.ID, staff, authz.RoleTenantAdmin)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := en.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if en.Allowed(p, k, "audit.read") {
		t.Error("a revoked role still holds")
	}
}

func TestCatalogueIsCheckedAndStoredOnce(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"roles: {tenant_admin: x}\nactions: {a.b: [tenant_admin]}", // roles missing
		"roles: {tenant_admin: x, case_worker: x, tagespflege_counsellor: x, provider_admin: x, facility_lead: x, facility_staff: x}\nactions: {a.b: [wizard]}",
		"roles: {tenant_admin: x, case_worker: x, tagespflege_counsellor: x, provider_admin: x, facility_lead: x, facility_staff: x}\nactions: {a.b: []}",
		"::",
	} {
		if _, err := authz.ParseCatalogue([]byte(bad)); err == nil {
			t.Errorf("accepted: %s", bad)
		}
	}
	db, _ := tenanttest.DB(t)
	enforcer(t, db)
	enforcer(t, db) // a second start writes nothing twice
	var n, distinct int
	if err := db.QueryRowContext(context.Background(), `SELECT count(*), count(DISTINCT (v0, v2)) FROM casbin_rule WHERE ptype = 'p'`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != distinct {
		t.Errorf("%d p rules, %d distinct", n, distinct)
	}
}

func TestChildDataActionsFollowTheCatalogue(t *testing.T) {
	t.Parallel()
	roles := "roles: {tenant_admin: x, case_worker: x, tagespflege_counsellor: x, provider_admin: x, facility_lead: x, facility_staff: x}\n"
	cat, err := authz.ParseCatalogue([]byte(roles + "actions: {a.read: [tenant_admin, facility_lead, support], b.read: [facility_lead], c.write: [case_worker]}\nchild_data: [a.read, b.read]"))
	if err != nil {
		t.Fatal(err)
	}
	got := cat.ChildDataActions()
	if len(got) != 2 || len(got["tenant_admin"]) != 1 || len(got["facility_lead"]) != 2 || got["case_worker"] != nil || got["support"] != nil {
		t.Errorf("child data actions: %v", got)
	}
	if _, err := authz.ParseCatalogue([]byte(roles + "actions: {a.read: [tenant_admin]}\nchild_data: [no.such]")); err == nil {
		t.Error("an unknown child_data action was accepted")
	}
}
