package tenant_test

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// tenantsFS copies the seed cities into a MapFS that a test may edit.
func tenantsFS(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	src := os.DirFS(tenanttest.Dir())
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		raw, err := fs.ReadFile(src, p)
		out[p] = &fstest.MapFile{Data: raw}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func edit(t *testing.T, fsys fstest.MapFS, name, old, new string) {
	t.Helper()
	s := string(fsys[name].Data)
	if !strings.Contains(s, old) {
		t.Fatalf("%s does not contain %q", name, old)
	}
	fsys[name] = &fstest.MapFile{Data: []byte(strings.Replace(s, old, new, 1))}
}

func TestSyncWritesVersionsOnlyWhenFilesChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t) // the template already synced the files once
	store := tenant.NewStore(db)
	fsys := tenantsFS(t)

	res, err := tenant.SyncDir(ctx, store, fsys, "tenants", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Created || r.Changed || r.Version != 1 {
			t.Errorf("%s: resync of unchanged file: %+v", r.Slug, r)
		}
	}

	edit(t, fsys, "kempten.yaml", "max_choices: 3", "max_choices: 4")
	edit(t, fsys, "kempten.yaml", "name: Kempten-Nord,", "name: Kempten-Nord (neu),")
	res, err = tenant.SyncDir(ctx, store, fsys, "tenants", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Slug == "kempten" && (!r.Changed || r.Version != 2) {
			t.Errorf("kempten after edit: %+v", r)
		}
		if r.Slug != "kempten" && r.Changed {
			t.Errorf("%s changed without an edit", r.Slug)
		}
	}
	var name string
	if err := db.QueryRowContext(ctx, `SELECT d.name FROM district d JOIN tenant t ON t.id = d.tenant_id WHERE t.slug = 'kempten' AND d.key = 'nord'`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "Kempten-Nord (neu)" {
		t.Errorf("district not renamed: %q", name)
	}
	reg := tenanttest.Registry(t, db)
	if k := tenanttest.Get(t, reg, "kempten"); k.Rules.Registration.MaxChoices != 4 || k.RulesVersion != 2 {
		t.Errorf("registry: max choices %d version %d", k.Rules.Registration.MaxChoices, k.RulesVersion)
	}
}

func TestSyncKeepsAnAdminsLaterChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	store := tenant.NewStore(db)
	// An admin stored version 2 through the UI.
	if _, err := db.ExecContext(ctx, `
		INSERT INTO tenant_rules (tenant_id, version, rules, checksum, source)
		SELECT tenant_id, 2, jsonb_set(rules, '{registration,max_choices}', '2'), 'admin-edit', 'admin:test'
		FROM tenant_rules WHERE tenant_id = (SELECT id FROM tenant WHERE slug = 'herzberg') AND version = 1`); err != nil {
		t.Fatal(err)
	}
	fsys := tenantsFS(t)
	res, err := tenant.SyncDir(ctx, store, fsys, "tenants", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Slug == "herzberg" && (!r.KeptAdminVersion || r.Version != 2 || r.Changed) {
			t.Errorf("herzberg: unchanged file must not overwrite the admin's version: %+v", r)
		}
	}
	edit(t, fsys, "herzberg.yaml", "max_choices: 3", "max_choices: 3 # reviewed")
	edit(t, fsys, "herzberg.yaml", "notice_months: 2", "notice_months: 1")
	res, _ = tenant.SyncDir(ctx, store, fsys, "tenants", nil)
	for _, r := range res {
		if r.Slug == "herzberg" && (!r.Changed || r.Version != 3) {
			t.Errorf("herzberg: an edited file must win: %+v", r)
		}
	}
}

func TestBrokenFileLeavesTheDatabaseUntouched(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	fsys := tenantsFS(t)
	edit(t, fsys, "bochum.yaml", "max_choices: 5", "max_choices: 50")
	res, err := tenant.SyncDir(ctx, tenant.NewStore(db), fsys, "tenants", nil)
	if err == nil || !strings.Contains(err.Error(), "tenants/bochum.yaml: registration.max_choices") {
		t.Fatalf("broken file not refused by name and field: %v", err)
	}
	if len(res) != 4 {
		t.Errorf("the four good files must still sync, got %d", len(res))
	}
	reg := tenanttest.Registry(t, db)
	if b := tenanttest.Get(t, reg, "bochum"); b.Rules.Registration.MaxChoices != 5 || b.RulesVersion != 1 {
		t.Errorf("bochum must keep its last good rules, has %d choices v%d", b.Rules.Registration.MaxChoices, b.RulesVersion)
	}
}

func TestRemovingADistrictInUseIsRefusedAsAWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	if _, err := db.ExecContext(ctx, `
		WITH t AS (SELECT id FROM tenant WHERE slug = 'bochum'),
		     p AS (INSERT INTO provider (tenant_id, name, kind) SELECT id, 'Stadt Bochum', 'municipal' FROM t RETURNING tenant_id, id)
		INSERT INTO facility (tenant_id, provider_id, type, name, street, house_number, plz, city, municipality_key, district_key,
		                      lat, lon, age_min_months, age_max_months)
		SELECT tenant_id, id, 'kita', 'Kita Test', 'Hauptstraße', '1', '44866', 'Bochum', 'bochum', 'wattenscheid', 51.48, 7.13, 12, 84 FROM p`); err != nil {
		t.Fatal(err)
	}
	fsys := tenantsFS(t)
	edit(t, fsys, "bochum.yaml", "  - {key: wattenscheid,", "  # - {key: wattenscheid,")
	edit(t, fsys, "bochum.yaml", "max_choices: 5", "max_choices: 4") // would be a new version
	_, err := tenant.SyncDir(ctx, tenant.NewStore(db), fsys, "tenants", nil)
	if err == nil || !strings.Contains(err.Error(), "districts: a district that facilities still belong to cannot be removed") {
		t.Fatalf("expected a refusal naming the district problem, got %v", err)
	}
	var versions int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM tenant_rules r JOIN tenant t ON t.id = r.tenant_id WHERE t.slug = 'bochum'`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != 1 {
		t.Errorf("a refused sync must not leave a new rules version (got %d versions)", versions)
	}
}

func TestRegistryKeepsLastGoodRulesWhenStoredRulesBreak(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	reg := tenanttest.Registry(t, db)
	before := tenanttest.Get(t, reg, "leipzig")
	// Someone writes an invalid version behind the validation's back.
	if _, err := db.ExecContext(ctx, `
		INSERT INTO tenant_rules (tenant_id, version, rules, checksum, source)
		SELECT tenant_id, 2, jsonb_set(rules, '{allocation,mode}', '"chaos"'), 'broken', 'manual'
		FROM tenant_rules WHERE tenant_id = ? AND version = 1`, before.ID); err != nil {
		t.Fatal(err)
	}
	if err := reg.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	after := tenanttest.Get(t, reg, "leipzig")
	if after.RulesVersion != 1 || after.Rules.Allocation.Mode != tenant.ModeDecentral {
		t.Errorf("registry adopted broken rules: v%d mode %s", after.RulesVersion, after.Rules.Allocation.Mode)
	}
}

func TestSuspendAndResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	store := tenant.NewStore(db)
	if err := store.SetStatus(ctx, "kempten", tenant.StatusSuspended, "Wartung bis 18 Uhr"); err != nil {
		t.Fatal(err)
	}
	reg := tenanttest.Registry(t, db)
	if k := tenanttest.Get(t, reg, "kempten"); k.Status != tenant.StatusSuspended || k.StatusNote != "Wartung bis 18 Uhr" {
		t.Errorf("status %s note %q", k.Status, k.StatusNote)
	}
	if err := store.SetStatus(ctx, "nowhere", tenant.StatusSuspended, ""); err == nil {
		t.Error("suspending an unknown tenant must fail")
	}
	if err := store.SetStatus(ctx, "kempten", tenant.StatusActive, ""); err != nil {
		t.Fatal(err)
	}
	_ = reg.Reload(ctx)
	if k := tenanttest.Get(t, reg, "kempten"); k.Status != tenant.StatusActive {
		t.Errorf("not resumed: %s", k.Status)
	}
}
