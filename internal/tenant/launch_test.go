package tenant_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

func TestLaunchProblemsNameTheMissingLegalPages(t *testing.T) {
	t.Parallel()
	loaded, err := tenant.LoadDir(tenantsFS(t), "tenants")
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) < 5 {
		t.Fatalf("only %d demo cities", len(loaded))
	}
	for _, lr := range loaded {
		if p := lr.Rules.LaunchProblems(); len(p) != 0 || lr.Rules.LaunchError() != nil {
			t.Errorf("demo city %s may not go live: %v", lr.Rules.Slug, p)
		}
	}

	r := *loaded[0].Rules
	for _, tc := range []struct {
		imprint, privacy string
		want             []string
	}{
		{"", "", []string{"branding.imprint_url", "branding.privacy_url"}},
		{"https://www.example.de/impressum", " ", []string{"branding.privacy_url"}},
		{"", "https://www.example.de/datenschutz", []string{"branding.imprint_url"}},
		{"https://www.example.de/impressum", "https://www.example.de/datenschutz", nil},
	} {
		r.Branding.ImprintURL, r.Branding.PrivacyURL = tc.imprint, tc.privacy
		var got []string
		for _, p := range r.LaunchProblems() {
			got = append(got, p.Field)
			if p.Reason == "" {
				t.Errorf("%s without a reason", p.Field)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("imprint %q privacy %q: problems %v, want %v", tc.imprint, tc.privacy, got, tc.want)
		}
		err := r.LaunchError()
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("complete rules refused: %v", err)
			}
			continue
		}
		e, ok := apperr.As(err)
		if !ok || !errors.Is(err, tenant.ErrNotLaunchable) || e.Kind != apperr.KindInvalid || e.Args["fields"] != strings.Join(tc.want, ", ") {
			t.Errorf("launch error %#v", err)
		}
	}
}

func TestACityGoesLiveOnlyWithImprintAndPrivacyNotice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	store := tenant.NewStore(db)

	// A new city whose file lacks both is created in onboarding, with a note.
	fsys := tenantsFS(t)
	fsys["augsburg.yaml"] = fsys["kempten.yaml"]
	edit(t, fsys, "augsburg.yaml", "slug: kempten", "slug: augsburg")
	edit(t, fsys, "augsburg.yaml", "\n  imprint_url: https://www.kempten.de/impressum", "")
	edit(t, fsys, "augsburg.yaml", "\n  privacy_url: https://www.kempten.de/datenschutz", "")
	res, err := tenant.SyncDir(ctx, store, fsys, "tenants", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Slug == "augsburg" && (!r.Created || len(r.NotLive) != 2) {
			t.Errorf("augsburg: %+v", r)
		}
		if r.Slug != "augsburg" && len(r.NotLive) != 0 {
			t.Errorf("%s: %+v", r.Slug, r)
		}
	}
	reg := tenanttest.Registry(t, db)
	if a := tenanttest.Get(t, reg, "augsburg"); a.Status != tenant.StatusOnboarding || !strings.Contains(a.StatusNote, "branding.imprint_url, branding.privacy_url") {
		t.Errorf("augsburg: %s %q", a.Status, a.StatusNote)
	}

	// Taking it live is refused, naming both fields; it stays in onboarding.
	err = store.SetStatus(ctx, "augsburg", tenant.StatusActive, "")
	if !errors.Is(err, tenant.ErrNotLaunchable) || !strings.Contains(err.Error(), "augsburg cannot go live: its rules lack branding.imprint_url, branding.privacy_url") {
		t.Fatalf("activate without imprint: %v", err)
	}
	_ = reg.Reload(ctx)
	if a := tenanttest.Get(t, reg, "augsburg"); a.Status != tenant.StatusOnboarding {
		t.Errorf("refused, but %s", a.Status)
	}
	// Suspending needs nothing.
	if err := store.SetStatus(ctx, "augsburg", tenant.StatusSuspended, "noch nicht"); err != nil {
		t.Fatal(err)
	}

	// With both in the file it goes live.
	fsys["augsburg.yaml"] = fsys["kempten.yaml"]
	edit(t, fsys, "augsburg.yaml", "slug: kempten", "slug: augsburg")
	if _, err := tenant.SyncDir(ctx, store, fsys, "tenants", nil); err != nil {
		t.Fatal(err)
	}
	if err := store.SetStatus(ctx, "augsburg", tenant.StatusActive, ""); err != nil {
		t.Fatalf("activate a complete city: %v", err)
	}

	// A live city's file may not drop them: refused, the last good rules stay.
	edit(t, fsys, "augsburg.yaml", "\n  privacy_url: https://www.kempten.de/datenschutz", "")
	_, err = tenant.SyncDir(ctx, store, fsys, "tenants", nil)
	if err == nil || !strings.Contains(err.Error(), "augsburg cannot go live: its rules lack branding.privacy_url") {
		t.Errorf("live city dropping its privacy notice: %v", err)
	}
	_ = reg.Reload(ctx)
	if a := tenanttest.Get(t, reg, "augsburg"); a.Status != tenant.StatusActive || a.Rules.Branding.PrivacyURL == "" {
		t.Errorf("augsburg after the refused file: %s %q", a.Status, a.Rules.Branding.PrivacyURL)
	}
}
