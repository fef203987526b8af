package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"kitaportal/internal/tenant"
)

func tenantsCmd(ctx context.Context, e *env, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("tenants needs one of: sync, list, suspend, resume")
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
		return nil
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
	case "resume":
		if len(args) != 2 {
			return usageError("tenants resume <slug>")
		}
		return store.SetStatus(ctx, args[1], tenant.StatusActive, "")
	default:
		return usageError(fmt.Sprintf("tenants: unknown action %q", args[0]))
	}
}
