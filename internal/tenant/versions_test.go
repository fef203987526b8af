package tenant_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// SaveVersion writes a version only on top of the version in force, only when it
// validates, and records who saved it and why.
func TestSaveVersionChecksBaseAndRulesAndBumpsTheVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	store := tenant.NewStore(db)
	reg := tenanttest.Registry(t, db)
	kempten := tenanttest.Get(t, reg, "kempten")
	base := kempten.RulesVersion
	author := uuid.New()

	broken := *kempten.Rules
	broken.Registration.MaxChoices = 0
	if _, err := store.SaveVersion(ctx, kempten.ID, base, &broken, author, "zero"); err == nil {
		t.Fatal("rules with max_choices 0 were saved")
	} else {
		var fe tenant.FieldError
		if !errors.As(err, &fe) || fe.Field != "registration.max_choices" {
			t.Errorf("refusal does not name registration.max_choices: %v", err)
		}
	}

	changed := *kempten.Rules
	changed.Registration.MaxChoices = 4
	if _, err := store.SaveVersion(ctx, kempten.ID, base-1, &changed, author, "stale"); !errors.Is(err, tenant.ErrStaleVersion) {
		t.Errorf("stale base: %v, want ErrStaleVersion", err)
	}
	next, err := store.SaveVersion(ctx, kempten.ID, base, &changed, author, "vier Wünsche")
	if err != nil || next != base+1 {
		t.Fatalf("save: %d %v, want version %d", next, err, base+1)
	}
	// The same base again is stale now: the second of two editors is told.
	if _, err := store.SaveVersion(ctx, kempten.ID, base, &changed, author, "again"); !errors.Is(err, tenant.ErrStaleVersion) {
		t.Errorf("second save on the old base: %v, want ErrStaleVersion", err)
	}
	vs, err := store.Versions(ctx, kempten.ID)
	if err != nil || len(vs) < 2 {
		t.Fatalf("versions: %v %v", vs, err)
	}
	if v := vs[0]; v.Version != next || v.Source != tenant.SourceAdmin || v.AuthorID == nil || *v.AuthorID != author || v.Reason != "vier Wünsche" {
		t.Errorf("newest version: %+v", v)
	}
	r, err := store.Version(ctx, kempten.ID, next)
	if err != nil || r.Registration.MaxChoices != 4 {
		t.Errorf("stored rules: %v %v", r, err)
	}
	if err := reg.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if k := tenanttest.Get(t, reg, "kempten"); k.RulesVersion != next || k.Rules.Registration.MaxChoices != 4 {
		t.Errorf("registry after reload: v%d, %d choices", k.RulesVersion, k.Rules.Registration.MaxChoices)
	}
}
