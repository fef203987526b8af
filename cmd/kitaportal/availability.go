package main

import (
	"context"
	"fmt"
	"io"

	"github.com/uptrace/bun"

	"kitaportal/internal/availability"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// availabilityCmd: `availability rebuild [slug ...]` recomputes the expected availability
// of the given tenants (all when none given) from scratch.
func availabilityCmd(ctx context.Context, e *env, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return usageError("availability needs: rebuild [slug ...]")
	}
	db, err := e.openDB(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	reg := tenant.NewRegistry(tenant.NewStore(db), e.log)
	if err := reg.Reload(ctx); err != nil {
		return err
	}
	ts := reg.All()
	if slugs := args[1:]; len(slugs) > 0 {
		ts = ts[:0]
		for _, slug := range slugs {
			t, ok := reg.BySlug(slug)
			if !ok || t.Rules == nil {
				return fmt.Errorf("availability: tenant %q is not synced", slug)
			}
			ts = append(ts, t)
		}
	}
	today := date.Today(clock.System{})
	for _, t := range ts {
		if t.Rules == nil {
			continue
		}
		err := database.InTenantTx(ctx, db, t.ID, func(ctx context.Context, tx bun.Tx) error {
			b, err := availability.Rebuild(ctx, tx, t, today)
			if err == nil {
				fmt.Fprintf(out, "%-10s %5d facilities %8d cells  %s + %d months  (%s)\n",
					t.Slug, b.Facilities, b.Cells, b.Window.First, b.Window.Months, b.Took.Round(1e6))
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
