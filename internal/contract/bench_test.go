package contract_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/valyala/fasthttp"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/availability"
	"kitaportal/internal/contract"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/config"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/platform/queue"
	"kitaportal/internal/platform/testdb"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/server"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
	"kitaportal/web"
)

// The provider portal at scale, on the synthetic Berlin of the bench database
// (`make bench-data`: ~3,000 facilities, ~170,000 contracts):
//
//	make bench-provider
//
// BenchmarkContractToSearch: from saving a contract (the service: checks, insert,
// availability refresh, audit, commit) to the search answering with the changed house
// (a parent's API search through the whole stack, in process). The Kita has exactly one
// place left for the child, so the answer turns from free to not_free.
// BenchmarkRefreshVsRebuild: the incremental availability update of one facility against
// the full recompute of the city, each in a transaction that is rolled back.
// Both alternate rounds and report medians, because the machine is shared.

type benchEnv struct {
	db      *bun.DB
	t       *tenant.Tenant
	handler fasthttp.RequestHandler
	caller  auth.Caller
	today   date.Date
	svc     *contract.Service // made on first use: building it is not what is measured
}

func setupBench(b *testing.B) *benchEnv {
	b.Helper()
	ctx := context.Background()
	db, reg, berlin := tenanttest.BenchBerlin(b, "bench-provider")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"BASE_DOMAIN": "localhost", "PUBLIC_URL": "http://localhost:8080", "METRICS_ADDR": "", "STORAGE_DIR": b.TempDir()}[k]
	})
	if err != nil {
		b.Fatal(err)
	}
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		b.Fatal(err)
	}
	views, err := view.New(web.FS, cat)
	if err != nil {
		b.Fatal(err)
	}
	enforcer, err := authz.NewFromConfig(db, log)
	if err != nil {
		b.Fatal(err)
	}
	if err := enforcer.Load(ctx); err != nil {
		b.Fatal(err)
	}
	_, rdb, err := queue.Connect(testdb.RedisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rdb.Close() })
	app, err := server.New(server.Deps{Config: cfg, DB: db, Redis: rdb, Registry: reg, Views: views, Log: log, Clock: clock.System{}, Authz: enforcer})
	if err != nil {
		b.Fatal(err)
	}
	// A tenant admin of Berlin enters the contracts (a fixed account, kept between runs).
	admin := uuid.NewSHA1(uuid.NameSpaceURL, []byte("kitaportal/bench/berlin/admin"))
	for _, q := range []string{
		`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?0, ?1, 'staff', 'bench-admin@berlin.test', 'pending') ON CONFLICT DO NOTHING`,
		`INSERT INTO staff_role (tenant_id, id, account_id, role) VALUES (?0, ?1, ?1, 'tenant_admin') ON CONFLICT DO NOTHING`,
	} {
		if _, err := db.ExecContext(ctx, q, berlin.ID, admin); err != nil {
			b.Fatal(err)
		}
	}
	return &benchEnv{db: db, t: berlin, handler: app.Handler(), today: date.Today(clock.System{}),
		caller: auth.Caller{Tenant: berlin, Principal: &auth.Principal{Kind: auth.KindStaff, ID: admin, TenantID: berlin.ID, MFADone: true, Email: "bench-admin@berlin.test"}}}
}

// target is a Kita with free Krippe places next August, the search that finds it, and the
// child a contract is entered for.
type target struct {
	facility uuid.UUID
	query    string
	start    date.Date
	birth    date.Date
	scope    int
}

func (e *benchEnv) target(b *testing.B) target {
	b.Helper()
	tg := target{start: e.t.Rules.Calendar().YearStart(e.today).AddMonths(12), scope: e.t.Rules.CareScopes[0]}
	tg.birth = tg.start.AddMonths(-18)
	var plz string
	err := e.db.QueryRowContext(context.Background(), `SELECT f.id, f.plz FROM facility f
		JOIN availability a ON a.tenant_id = f.tenant_id AND a.facility_id = f.id AND a.age_band = ? AND a.care_hours = ? AND a.month = ?
		WHERE f.tenant_id = ? AND f.type = 'kita' AND a.free BETWEEN 1 AND 3 ORDER BY a.free, f.name LIMIT 1`,
		e.t.Rules.AgeBands[0].Key, tg.scope, tg.start, e.t.ID).Scan(&tg.facility, &plz)
	if err != nil {
		b.Fatalf("no Kita with a few free Krippe places in %s: %v", tg.start, err)
	}
	tg.query = url.Values{"birth_date": {tg.birth.String()}, "start_date": {tg.start.String()}, "plz": {plz}, "radius_km": {"2"},
		"type": {"kita"}, "care_hours": {fmt.Sprint(tg.scope)}, "per_page": {"100"}}.Encode()
	return tg
}

// enter saves a contract for a new child at the target.
func (e *benchEnv) enter(b *testing.B, tg target, n int) uuid.UUID {
	if e.svc == nil {
		e.svc = newService(b, e.db, clock.System{})
	}
	id, err := e.svc.Create(context.Background(), e.caller, contract.NewContract{
		FacilityID: tg.facility, CareHours: tg.scope, Start: tg.start, Source: "manual",
		Child: &contract.NewChild{FirstName: fmt.Sprintf("Bench%d", n), LastName: "Messung", BirthDate: tg.birth,
			GuardianFirstName: "Eva", GuardianLastName: "Messung"}})
	if err != nil {
		b.Fatal(err)
	}
	return id
}

// remove deletes contracts the benchmark entered, with their children, and refreshes.
func (e *benchEnv) remove(b *testing.B, tg target, ids ...uuid.UUID) {
	err := database.InTenantTx(context.Background(), e.db, e.t.ID, func(ctx context.Context, tx bun.Tx) error {
		for _, id := range ids {
			var child, family uuid.UUID
			if err := tx.QueryRowContext(ctx, `DELETE FROM contract WHERE tenant_id = ? AND id = ? RETURNING child_id`, e.t.ID, id).Scan(&child); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `DELETE FROM child WHERE tenant_id = ? AND id = ? RETURNING family_id`, e.t.ID, child).Scan(&family); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM family WHERE tenant_id = ? AND id = ?`, e.t.ID, family); err != nil {
				return err
			}
		}
		return availability.Refresh(ctx, tx, e.t, e.today, tg.facility)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// house is the target's house in the API search.
func (e *benchEnv) house(b *testing.B, tg target) string {
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/api/v1/facilities?" + tg.query)
	ctx.Request.Header.SetHost("berlin.localhost")
	e.handler(&ctx)
	if ctx.Response.StatusCode() != 200 {
		b.Fatalf("search: %d %.300s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	var list struct {
		Items []struct {
			ID           uuid.UUID `json:"id"`
			Availability string    `json:"availability"`
		} `json:"items"`
	}
	if err := json.Unmarshal(ctx.Response.Body(), &list); err != nil {
		b.Fatal(err)
	}
	for _, it := range list.Items {
		if it.ID == tg.facility {
			return it.Availability
		}
	}
	b.Fatalf("the search does not find the Kita %s", tg.facility)
	return ""
}

// median of xs.
func median(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func BenchmarkContractToSearch(b *testing.B) {
	e := setupBench(b)
	tg := e.target(b)
	// Fill the Kita up to its last free place, so one more contract turns the house yellow.
	var fillers []uuid.UUID
	for e.freeNow(b, tg) > 1 {
		fillers = append(fillers, e.enter(b, tg, 1000+len(fillers)))
	}
	defer func() {
		if len(fillers) > 0 {
			e.remove(b, tg, fillers...)
		}
	}()
	for range 20 { // warm caches and prepared statements
		e.house(b, tg)
	}
	const ops = 25
	var save, search, total []time.Duration
	b.ResetTimer()
	for i := 0; i < ops; i++ {
		if h := e.house(b, tg); h != "free" {
			b.Fatalf("round %d: the house is %s before the contract", i, h)
		}
		start := time.Now()
		id := e.enter(b, tg, i)
		saved := time.Now()
		h := e.house(b, tg)
		done := time.Now()
		if h != "not_free" {
			b.Fatalf("round %d: the search still says %s after the contract", i, h)
		}
		save, search, total = append(save, saved.Sub(start)), append(search, done.Sub(saved)), append(total, done.Sub(start))
		b.StopTimer()
		e.remove(b, tg, id)
		b.StartTimer()
	}
	b.ReportMetric(float64(median(save).Microseconds())/1000, "save_ms")
	b.ReportMetric(float64(median(search).Microseconds())/1000, "search_ms")
	b.ReportMetric(float64(median(total).Microseconds())/1000, "contract_to_search_ms")
	b.Logf("Berlin, median of %d: save a contract %s + the search's changed answer %s = %s (Kita %s, %s)",
		ops, median(save), median(search), median(total), tg.facility, tg.start)
}

// freeNow is the target's stored free places for the child's band, scope and month.
func (e *benchEnv) freeNow(b *testing.B, tg target) int {
	var free int
	if err := e.db.QueryRowContext(context.Background(), `SELECT free FROM availability WHERE tenant_id = ? AND facility_id = ? AND age_band = ?
		AND care_hours = ? AND month = ?`, e.t.ID, tg.facility, e.t.Rules.AgeBands[0].Key, tg.scope, tg.start).Scan(&free); err != nil {
		b.Fatal(err)
	}
	return free
}

func BenchmarkRefreshVsRebuild(b *testing.B) {
	e := setupBench(b)
	tg := e.target(b)
	ctx := context.Background()
	rolledBack := func(fn func(ctx context.Context, tx bun.Tx) error) time.Duration {
		start := time.Now()
		err := database.InTenantTx(ctx, e.db, e.t.ID, func(ctx context.Context, tx bun.Tx) error {
			if err := fn(ctx, tx); err != nil {
				return err
			}
			return errRollback
		})
		if err != errRollback {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	refresh := func() time.Duration {
		return rolledBack(func(ctx context.Context, tx bun.Tx) error {
			return availability.Refresh(ctx, tx, e.t, e.today, tg.facility)
		})
	}
	var cells int
	rebuild := func() time.Duration {
		return rolledBack(func(ctx context.Context, tx bun.Tx) error {
			built, err := availability.Rebuild(ctx, tx, e.t, e.today)
			cells = built.Cells
			return err
		})
	}
	for range 5 {
		refresh()
	}
	rebuild()
	b.ResetTimer()
	const rounds, refreshes = 7, 20
	var one, all []time.Duration
	for r := 0; r < rounds; r++ {
		var sum time.Duration
		for range refreshes {
			sum += refresh()
		}
		one = append(one, sum/refreshes)
		all = append(all, rebuild())
	}
	ratio := float64(median(all)) / float64(median(one))
	b.ReportMetric(float64(median(one).Microseconds())/1000, "refresh_ms")
	b.ReportMetric(float64(median(all).Microseconds())/1000, "rebuild_ms")
	b.ReportMetric(ratio, "rebuild_per_refresh")
	b.Logf("Berlin (%d cells), median of %d rounds: refresh of one facility %s, full recompute %s → %.0f×", cells, rounds, median(one), median(all), ratio)
}

var errRollback = fmt.Errorf("bench: roll back")
