package search_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"kitaportal/internal/demo"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/search"
	"kitaportal/internal/tenant/tenanttest"
)

// Under row-level security a condition can only use an index when its operator is
// leakproof (migration 20261125150000): the radius search must find its facilities
// through the GiST index on (tenant_id, earth), not by reading the whole city.
func TestRadiusSearchUsesItsIndexUnderRowLevelSecurity(t *testing.T) {
	t.Parallel()
	db, _ := tenanttest.DB(t)
	reg := tenanttest.Registry(t, db)
	k := tenanttest.Get(t, reg, "kempten")
	if _, err := demo.Seed(context.Background(), db, k, date.MustParse("2026-11-21")); err != nil {
		t.Fatal(err)
	}
	svc := search.NewService(db, clock.NewManual(time.Date(2026, 11, 21, 10, 0, 0, 0, clock.Berlin)))
	v, _ := url.ParseQuery("birth_date=2025-03-14&start_date=2027-09-01&radius_km=2&plz=87435&type=kita")
	q, err := svc.Parse(k, v)
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Search(context.Background(), k, q)
	if err != nil || res.Origin == nil {
		t.Fatalf("search: %v", err)
	}
	stmt, args := search.SearchSQL(k.ID, q, res.Origin)
	var plan []string
	err = database.InTenantTx(context.Background(), db, k.ID, func(ctx context.Context, tx bun.Tx) error {
		// A small city fits in a few pages, where reading everything is cheaper; take
		// that choice away to see whether the index could be used at all.
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		rows, err := tx.Tx.QueryContext(ctx, "EXPLAIN "+stmt, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			plan = append(plan, line)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range plan {
		if strings.Contains(line, "Index Cond") && strings.Contains(line, "earth <@") {
			return
		}
	}
	t.Errorf("the radius condition is not an index condition under row-level security:\n%s", strings.Join(plan, "\n"))
}
