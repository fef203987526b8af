package availability_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/availability"
	"kitaportal/internal/demo"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/search"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// seedDay is the fixed "today" of these tests.
var seedDay = date.MustParse("2026-11-21")

type bundle struct {
	db     *bun.DB
	t      *tenant.Tenant
	search *search.Service
}

// setup is a fresh database with Kempten's demo data (80 facilities, ~3,100 contracts).
func setup(t *testing.T) *bundle {
	t.Helper()
	db, _ := tenanttest.DB(t)
	tn := tenanttest.Get(t, tenanttest.Registry(t, db), "kempten")
	if _, err := demo.Seed(context.Background(), db, tn, seedDay); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, clock.Berlin)
	return &bundle{db: db, t: tn, search: search.NewService(db, clock.NewManual(at))}
}

// rows is the tenant's stored availability, one line per cell.
func (b *bundle) rows(t *testing.T) []string {
	t.Helper()
	rows, err := b.db.QueryContext(context.Background(), `SELECT facility_id, age_band, care_hours, month, capacity, free
		FROM availability WHERE tenant_id = ? ORDER BY 1, 2, 3, 4`, b.t.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f uuid.UUID
		var band string
		var hours, capacity, free int
		var month time.Time
		if err := rows.Scan(&f, &band, &hours, &month, &capacity, &free); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %d %s %d %d", f, band, hours, month.Format("2006-01"), capacity, free))
	}
	return out
}

func (b *bundle) rebuild(t *testing.T) {
	t.Helper()
	err := database.InTenantTx(context.Background(), b.db, b.t.ID, func(ctx context.Context, tx bun.Tx) error {
		_, err := availability.Rebuild(ctx, tx, b.t, seedDay)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// find runs a search for a Krippe child as a parent would and returns the facility's item.
func (b *bundle) find(t *testing.T, facility uuid.UUID, birth, start string, scope int) search.Item {
	t.Helper()
	v := url.Values{"birth_date": {birth}, "start_date": {start}, "care_hours": {fmt.Sprint(scope)}, "per_page": {"100"}}
	q, err := b.search.Parse(b.t, v)
	if err != nil {
		t.Fatal(err)
	}
	for page := 1; ; page++ {
		q.Page = page
		res, err := b.search.Search(context.Background(), b.t, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			if it.ID == facility {
				return it
			}
		}
		if page >= res.Pages() {
			t.Fatalf("facility %s not in the search", facility)
		}
	}
}

// freeKrippe returns a Kita with at least two free Krippe places for 45 hours in the month.
func (b *bundle) freeKrippe(t *testing.T, month string) (uuid.UUID, int) {
	t.Helper()
	var id uuid.UUID
	var free int
	err := b.db.QueryRowContext(context.Background(), `SELECT a.facility_id, a.free FROM availability a
		JOIN facility f ON f.tenant_id = a.tenant_id AND f.id = a.facility_id
		WHERE a.tenant_id = ? AND f.type = 'kita' AND f.age_min_months <= 12 AND a.age_band = 'krippe' AND a.care_hours = 45
		  AND a.month = ? AND a.free BETWEEN 2 AND 6 ORDER BY f.name LIMIT 1`, b.t.ID, month).Scan(&id, &free)
	if err != nil {
		t.Fatalf("no Kita with free Krippe places in %s: %v", month, err)
	}
	return id, free
}

// addContract writes a family, a child and a contract, and refreshes the facility's
// availability in the same transaction, as every write path must.
func addContract(ctx context.Context, tx bun.Tx, tn *tenant.Tenant, facility uuid.UUID, birth, start string, hours int) error {
	family, child := uuid.New(), uuid.New()
	if _, err := tx.ExecContext(ctx, `INSERT INTO family (tenant_id, id) VALUES (?, ?)`, tn.ID, family); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date)
		VALUES (?, ?, ?, 'Test', 'Kind', ?)`, tn.ID, child, family, birth); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO contract (tenant_id, child_id, facility_id, care_hours, start_date, source)
		VALUES (?, ?, ?, ?, ?, 'manual')`, tn.ID, child, facility, hours, start); err != nil {
		return err
	}
	return availability.Refresh(ctx, tx, tn, seedDay, facility)
}

func TestAContractShowsInTheNextSearch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	facility, free := b.freeKrippe(t, "2027-02-01")
	if got := b.find(t, facility, "2026-01-10", "2027-02-01", 45); got.Availability != availability.Free || !got.AgeFit {
		t.Fatalf("before: %s age fit %v, want free", got.Availability, got.AgeFit)
	}

	// A transaction that fills the places but rolls back changes nothing.
	errRollback := errors.New("changed my mind")
	err := database.InTenantTx(ctx, b.db, b.t.ID, func(ctx context.Context, tx bun.Tx) error {
		for range free {
			if err := addContract(ctx, tx, b.t, facility, "2026-01-10", "2027-02-01", 45); err != nil {
				return err
			}
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if got := b.find(t, facility, "2026-01-10", "2027-02-01", 45); got.Availability != availability.Free {
		t.Fatalf("after a rollback: %s, want free", got.Availability)
	}

	// Committed, the places are gone from the very next search — from February on only.
	err = database.InTenantTx(ctx, b.db, b.t.ID, func(ctx context.Context, tx bun.Tx) error {
		for range free {
			if err := addContract(ctx, tx, b.t, facility, "2026-01-10", "2027-02-01", 45); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.find(t, facility, "2026-01-10", "2027-02-01", 45); got.Availability != availability.NotFree {
		t.Errorf("after %d contracts: %s, want not_free", free, got.Availability)
	}
	if got := b.find(t, facility, "2026-01-10", "2027-01-01", 45); got.Availability != availability.Free {
		t.Errorf("January, before the contracts start: %s, want free", got.Availability)
	}

	// Refreshing one facility gives exactly what a full rebuild gives.
	incremental := b.rows(t)
	b.rebuild(t)
	if full := b.rows(t); !slices.Equal(incremental, full) {
		t.Errorf("incremental and full differ: %d vs %d cells", len(incremental), len(full))
	}
}

func TestOffersHoldPlacesUntilDeclined(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	facility, free := b.freeKrippe(t, "2027-03-01")
	var child uuid.UUID
	err := database.InTenantTx(ctx, b.db, b.t.ID, func(ctx context.Context, tx bun.Tx) error {
		family := uuid.New()
		child = uuid.New()
		if _, err := tx.ExecContext(ctx, `INSERT INTO family (tenant_id, id) VALUES (?, ?)`, b.t.ID, family); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date)
			VALUES (?, ?, ?, 'Offer', 'Kind', '2026-02-01')`, b.t.ID, child, family); err != nil {
			return err
		}
		for range free {
			if _, err := tx.ExecContext(ctx, `INSERT INTO offer (tenant_id, child_id, facility_id, care_hours, start_date)
				VALUES (?, ?, ?, 45, '2027-03-01')`, b.t.ID, child, facility); err != nil {
				return err
			}
		}
		return availability.Refresh(ctx, tx, b.t, seedDay, facility)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.find(t, facility, "2026-01-10", "2027-03-01", 45); got.Availability != availability.NotFree {
		t.Errorf("open offers: %s, want not_free", got.Availability)
	}
	err = database.InTenantTx(ctx, b.db, b.t.ID, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE offer SET status = 'declined' WHERE tenant_id = ? AND child_id = ?`, b.t.ID, child); err != nil {
			return err
		}
		return availability.Refresh(ctx, tx, b.t, seedDay, facility)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.find(t, facility, "2026-01-10", "2027-03-01", 45); got.Availability != availability.Free {
		t.Errorf("declined offers: %s, want free again", got.Availability)
	}
}

// Two transactions filling the same facility at once must both be counted: Refresh makes
// them take turns, so the second computes with the first one's committed contract.
func TestConcurrentRefreshesCountEveryContract(t *testing.T) {
	t.Parallel()
	b := setup(t)
	facility, _ := b.freeKrippe(t, "2027-02-01")
	before := b.cell(t, facility, "krippe", 45, "2027-02-01")

	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	start := make(chan struct{})
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- database.InTenantTx(context.Background(), b.db, b.t.ID, func(ctx context.Context, tx bun.Tx) error {
				return addContract(ctx, tx, b.t, facility, "2026-01-10", "2027-02-01", 45)
			})
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if after := b.cell(t, facility, "krippe", 45, "2027-02-01"); after != before-writers {
		t.Errorf("free places %d → %d after %d concurrent contracts", before, after, writers)
	}
	incremental := b.rows(t)
	b.rebuild(t)
	if !slices.Equal(incremental, b.rows(t)) {
		t.Error("concurrent refreshes left figures a rebuild does not confirm")
	}
}

func (b *bundle) cell(t *testing.T, facility uuid.UUID, band string, scope int, month string) int {
	t.Helper()
	var free int
	err := b.db.QueryRowContext(context.Background(), `SELECT free FROM availability
		WHERE tenant_id = ? AND facility_id = ? AND age_band = ? AND care_hours = ? AND month = ?`,
		b.t.ID, facility, band, scope, month).Scan(&free)
	if err != nil {
		t.Fatal(err)
	}
	return free
}

func TestEnsureRebuildsWhenTheMonthOrTheRulesChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	rebuilt, err := availability.Ensure(ctx, b.db, []*tenant.Tenant{b.t}, seedDay, nil)
	if err != nil || len(rebuilt) != 0 {
		t.Fatalf("freshly seeded: rebuilt %v, %v", rebuilt, err)
	}
	nextMonth := date.MustParse("2026-12-01")
	if rebuilt, err = availability.Ensure(ctx, b.db, []*tenant.Tenant{b.t}, nextMonth, nil); err != nil || len(rebuilt) != 1 {
		t.Fatalf("a new month: rebuilt %v, %v", rebuilt, err)
	}
	st, ok, err := availability.StateOf(ctx, b.db, b.t.ID)
	if err != nil || !ok || st.Window.First != nextMonth {
		t.Fatalf("state after the new month: %+v %v %v", st, ok, err)
	}
	var oldest time.Time
	if err := b.db.QueryRowContext(ctx, `SELECT min(month) FROM availability WHERE tenant_id = ?`, b.t.ID).Scan(&oldest); err != nil || oldest.Format(time.DateOnly) != "2026-12-01" {
		t.Errorf("the past month is gone: oldest %s %v", oldest, err)
	}
	changed := *b.t
	changed.RulesVersion++
	if rebuilt, err = availability.Ensure(ctx, b.db, []*tenant.Tenant{&changed}, nextMonth, nil); err != nil || len(rebuilt) != 1 {
		t.Errorf("new rules: rebuilt %v, %v", rebuilt, err)
	}
}

// The window covers what the tenant lets parents register ahead: Kempten 36 months.
func TestWindowFollowsTheLeadTime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var months int
	if err := b.db.QueryRowContext(context.Background(), `SELECT count(DISTINCT month) FROM availability WHERE tenant_id = ?`, b.t.ID).Scan(&months); err != nil {
		t.Fatal(err)
	}
	if want := availability.WindowFor(b.t.Rules, seedDay).Months; months != want || want != b.t.Rules.Registration.MaxLeadMonths+1 {
		t.Errorf("%d months stored, window %d, lead time %d", months, want, b.t.Rules.Registration.MaxLeadMonths)
	}
	if !strings.HasPrefix(availability.WindowFor(b.t.Rules, seedDay).Last().String(), "2029-11") {
		t.Errorf("last month %s", availability.WindowFor(b.t.Rules, seedDay).Last())
	}
}
