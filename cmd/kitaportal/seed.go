package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/demo"
	"kitaportal/internal/notify"
	"kitaportal/internal/placement"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/config"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
	"kitaportal/web"
)

func seedCmd(ctx context.Context, e *env, args []string, out io.Writer) error {
	db, err := e.openDB(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	return seedCities(ctx, e, db, args, out)
}

// seedCities writes the demo data of the given cities (all demo cities when none given).
// The tenants must have been synced.
func seedCities(ctx context.Context, e *env, db *bun.DB, slugs []string, out io.Writer) error {
	if len(slugs) == 0 {
		slugs = demo.Cities()
	}
	reg := tenant.NewRegistry(tenant.NewStore(db), e.log)
	if err := reg.Reload(ctx); err != nil {
		return err
	}
	today := date.Today(clock.System{})
	views, err := renderer()
	if err != nil {
		return err
	}
	mails, err := notify.NewTemplates(web.FS, views.Catalogue())
	if err != nil {
		return err
	}
	offers := placement.NewService(placement.Deps{DB: db, Clock: clock.System{}, Mails: mails, Links: notify.NewLinks(e.cfg.TenantURL)})
	var accounts []demo.Account
	demoAccounts := e.cfg.Env != "production"
	hasher := auth.NewHasher(auth.DefaultArgon2, e.cfg.PasswordHashConcurrency)
	keys, err := auth.NewKeys(e.cfg.AuthSecret.Value())
	if err != nil {
		return err
	}
	for _, slug := range slugs {
		t, ok := reg.BySlug(slug)
		if !ok || t.Rules == nil {
			return fmt.Errorf("seed: tenant %q is not synced; run `kitaportal tenants sync` first", slug)
		}
		start := time.Now()
		st, err := demo.Seed(ctx, db, t, today)
		if err != nil {
			return fmt.Errorf("seed %s: %w", slug, err)
		}
		fmt.Fprintf(out, "%-10s %4d facilities %6d places %6d contracts  (%s)\n",
			slug, st.Facilities, st.Places, st.Contracts, time.Since(start).Round(time.Millisecond))
		if demoAccounts {
			as, err := demo.SeedAccounts(ctx, db, t, hasher, keys)
			if err != nil {
				return err
			}
			if err := demo.SeedRequests(ctx, db, t, today); err != nil {
				return fmt.Errorf("seed %s: requests: %w", slug, err)
			}
			if err := demo.SeedOffers(ctx, db, t, offers, today); err != nil {
				return fmt.Errorf("seed %s: offers: %w", slug, err)
			}
			accounts = append(accounts, as...)
		}
	}
	if !demoAccounts {
		return nil
	}
	op, err := demo.SeedOperator(ctx, db, hasher, keys)
	if err != nil {
		return err
	}
	printDemoAccounts(out, append(accounts, op), e.cfg)
	return nil
}

// printDemoAccounts lists the demo sign-ins. They exist only outside production.
func printDemoAccounts(out io.Writer, accounts []demo.Account, cfg config.Config) {
	fmt.Fprintf(out, "\nDEMO ONLY – demo accounts (never created with APP_ENV=production), password for all: %s\n", demo.DemoPassword)
	fmt.Fprintln(out, "Staff and operators sign in with a TOTP code: add the secret to any authenticator app, or run `oathtool --totp -b <secret>`.")
	for _, a := range accounts {
		where := cfg.PublicURL.String() + "/operator/login"
		switch a.Kind {
		case "parent":
			where = cfg.TenantURL(a.Tenant) + "/login"
		case "staff":
			where = cfg.TenantURL(a.Tenant) + "/staff/login"
		}
		role := a.Kind
		if a.Role != "" {
			role = a.Role
			if a.Scope != "" {
				role += " (" + a.Scope + ")"
			}
		}
		fmt.Fprintf(out, "  %-30s %-60s %s\n", a.Email, role, where)
		if a.TOTP != "" {
			fmt.Fprintf(out, "  %-30s TOTP secret %s\n", "", a.TOTP)
		}
	}
}
