package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"

	"kitaportal/internal/demo"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
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
	}
	return nil
}
