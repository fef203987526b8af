// Package demo writes the demo data of the five seed cities: real postcodes and streets
// around them, invented providers, facilities, groups, families, children and contracts
// in realistic numbers.
//
// The data is deterministic and idempotent. Ids are uuid v5 over "<slug>/<kind>/<n>"
// (for families, children and contracts n is "<group>.<place>"), randomness comes from
// generators seeded by the slug, timestamps are the start of the Kita year, and every row
// is inserted with ON CONFLICT DO NOTHING. Facilities, groups, capacities and how many
// children each group has depend only on the city and its Kita year; birth and start
// dates also depend on the month being seeded, so seeding on any day of a month writes
// the same rows, and seeding again in a later month keeps what exists and only adds the
// children of groups that opened in between.
package demo

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"kitaportal/internal/availability"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// Stats counts what one tenant has after seeding (not what was inserted). Places is the
// sum of group capacities whose validity overlaps the current Kita year (a group opening
// in January counts, growth from the next Kita year does not).
type Stats struct {
	Postcodes, Streets, Providers, Facilities, Groups, Places, Families, Children, Contracts int
}

// Cities lists the slugs that have a demo profile: herzberg, leipzig, kempten, bochum,
// lueneburg.
func Cities() []string { return slices.Clone(cityOrder) }

// Seed writes the demo data of tenant t (t.Rules holds its rules: age bands, care scopes,
// municipalities, districts, Kita-year start, school cutoff). today anchors contract dates
// to the Kita year containing it. Unknown slugs return an error. Running it twice changes
// nothing. All rows of a tenant are written in one transaction.
func Seed(ctx context.Context, db bun.IDB, t *tenant.Tenant, today date.Date) (Stats, error) {
	if t == nil || t.Rules == nil {
		return Stats{}, fmt.Errorf("demo: tenant without rules")
	}
	p, ok := profiles[t.Slug]
	if !ok {
		return Stats{}, fmt.Errorf("demo: no demo profile for tenant %q (known: %v)", t.Slug, cityOrder)
	}
	if today.IsZero() {
		return Stats{}, fmt.Errorf("demo: no date given")
	}
	data, err := build(p, t.Rules, t.ID, today)
	if err != nil {
		return Stats{}, fmt.Errorf("demo %s: %w", t.Slug, err)
	}
	err = database.InTenantTx(ctx, db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := data.insert(ctx, tx); err != nil {
			return err
		}
		// Bochum: "Kindertagespflege in district X" needs a desk per district.
		if _, err := provider.EnsureDistrictDesks(ctx, tx, t); err != nil {
			return err
		}
		// The demo writes places and contracts behind the write paths' back, so it
		// recomputes the expected availability of the whole city in the same transaction.
		_, err := availability.Rebuild(ctx, tx, t, today)
		return err
	})
	if err != nil {
		return Stats{}, fmt.Errorf("demo %s: %w", t.Slug, err)
	}
	cal := newCalendar(t.Rules)
	start := cal.YearStart(today)
	return countStats(ctx, db, t, start, start.AddMonths(12))
}

func countStats(ctx context.Context, db bun.IDB, t *tenant.Tenant, yearStart, nextYear date.Date) (Stats, error) {
	var s Stats
	err := db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM postcode WHERE tenant_id = ?0),
		(SELECT count(*) FROM street WHERE tenant_id = ?0),
		(SELECT count(*) FROM provider WHERE tenant_id = ?0),
		(SELECT count(*) FROM facility WHERE tenant_id = ?0 AND NOT brokered),
		(SELECT count(*) FROM facility_group WHERE tenant_id = ?0),
		(SELECT coalesce(sum(places), 0) FROM group_capacity
		  WHERE tenant_id = ?0 AND period && daterange(?1::date, ?2::date)),
		(SELECT count(*) FROM family WHERE tenant_id = ?0),
		(SELECT count(*) FROM child WHERE tenant_id = ?0),
		(SELECT count(*) FROM contract WHERE tenant_id = ?0)`,
		t.ID, yearStart, nextYear).Scan(
		&s.Postcodes, &s.Streets, &s.Providers, &s.Facilities, &s.Groups, &s.Places,
		&s.Families, &s.Children, &s.Contracts)
	if err != nil {
		return Stats{}, fmt.Errorf("demo %s: count: %w", t.Slug, err)
	}
	return s, nil
}
