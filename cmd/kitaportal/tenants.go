package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

func tenantsCmd(ctx context.Context, e *env, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("tenants needs one of: sync, list, suspend, resume, activate")
	}
	db, err := e.openDB(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	store := tenant.NewStore(db)
	switch args[0] {
	case "sync":
		results, err := e.syncTenants(ctx, db)
		for _, r := range results {
			what := "unchanged"
			switch {
			case r.Created && len(r.NotLive) > 0:
				what = "created, not live yet (onboarding); its rules lack:"
				for _, p := range r.NotLive {
					what += "\n    " + p.String()
				}
			case r.Created:
				what = "created"
			case r.Changed:
				what = "updated"
			case r.KeptAdminVersion:
				what = "unchanged file; an admin's later change stays in force"
			}
			fmt.Fprintf(out, "%-12s rules v%d  %s\n", r.Slug, r.Version, what)
		}
		if err != nil {
			return fmt.Errorf("some tenant files were refused; those tenants keep their last good rules:\n%w", err)
		}
		return ensureDesks(ctx, db, store, e, out)
	case "list":
		reg := tenant.NewRegistry(store, e.log)
		if err := reg.Reload(ctx); err != nil {
			return err
		}
		for _, t := range reg.All() {
			fmt.Fprintf(out, "%-12s %-10s rules v%-3d %s  %s\n", t.Slug, t.Status, t.RulesVersion, t.Name, e.cfg.TenantURL(t.Slug))
		}
		return nil
	case "suspend":
		if len(args) < 2 {
			return usageError("tenants suspend <slug> [note]")
		}
		return store.SetStatus(ctx, args[1], tenant.StatusSuspended, strings.Join(args[2:], " "))
	case "resume", "activate":
		// Both take the city live: refused while its rules lack an imprint or privacy
		// notice (tenant.Rules.LaunchProblems), with the missing fields named.
		if len(args) != 2 {
			return usageError("tenants " + args[0] + " <slug>")
		}
		return store.SetStatus(ctx, args[1], tenant.StatusActive, "")
	default:
		return usageError(fmt.Sprintf("tenants: unknown action %q", args[0]))
	}
}

// ensureDesks creates the district desks of Kindertagespflege that cities with
// registration.tagespflege_by_district need, for districts whose childminders are known.
func ensureDesks(ctx context.Context, db *bun.DB, store *tenant.Store, e *env, out io.Writer) error {
	reg := tenant.NewRegistry(store, e.log)
	if err := reg.Reload(ctx); err != nil {
		return err
	}
	for _, t := range reg.All() {
		var n int
		if err := database.InTenantTx(ctx, db, t.ID, func(ctx context.Context, tx bun.Tx) error {
			var err error
			n, err = provider.EnsureDistrictDesks(ctx, tx, t)
			return err
		}); err != nil {
			return fmt.Errorf("%s: district desks: %w", t.Slug, err)
		}
		if n > 0 {
			fmt.Fprintf(out, "%-12s %d district desks of Kindertagespflege created\n", t.Slug, n)
		}
	}
	return nil
}
