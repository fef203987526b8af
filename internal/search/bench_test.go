package search_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/valyala/fasthttp"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/config"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/platform/queue"
	"kitaportal/internal/platform/testdb"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/search"
	"kitaportal/internal/server"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
	"kitaportal/web"
)

// The search at scale, against the bench database that `make bench-data` builds (Bochum
// and a synthetic Berlin of ~3,000 facilities and ~170,000 contracts):
//
//	make bench-search
//
// BenchmarkSearchVsBareSQL: the server-side time of a typical filtered radius search with
// availability (the whole stack: request id, tenant, language, parsing, place, tenant
// transaction, SQL, JSON or HTML), against the bare SQL of the same query on the same pool.
// BenchmarkSearchBochumVsBerlin: the same search in a city of 800 and of 3,000 facilities.
// Both alternate rounds and report medians, because the machine is shared.

// typical is a parent's search: a Krippe child, next August, a central postcode, two
// kilometres, Kitas and Krippen, open by 07:30, full days (45 hours).
const typical = "birth_date=2025-03-14&start_date=2027-08-01&radius_km=2&type=kita&type=krippe&opens_by=07:30&care_hours=45"

var centralPLZ = map[string]string{"berlin": "12040", "bochum": "44787"}

type benchEnv struct {
	db      *bun.DB
	reg     *tenant.Registry
	handler fasthttp.RequestHandler
	search  *search.Service
}

func setupBench(b *testing.B) *benchEnv {
	b.Helper()
	ctx := context.Background()
	db, reg, _ := tenanttest.BenchBerlin(b, "bench-search")
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"BASE_DOMAIN": "localhost", "PUBLIC_URL": "http://localhost:8080", "METRICS_ADDR": ""}[k]
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
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
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
	app, err := server.New(server.Deps{Config: cfg, DB: db, Redis: rdb, Registry: reg, Views: views,
		Log: log, Clock: clock.System{}, Authz: enforcer})
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{db: db, reg: reg, handler: app.Handler(), search: search.NewService(db, clock.System{})}
}

// serve runs one request through the whole stack in process and returns its duration:
// the server-side time, without a network or a client in it.
func (e *benchEnv) serve(b *testing.B, host, uri string) time.Duration {
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI(uri)
	ctx.Request.Header.SetHost(host)
	start := time.Now()
	e.handler(&ctx)
	d := time.Since(start)
	if ctx.Response.StatusCode() != 200 {
		b.Fatalf("%s%s: %d %.300s", host, uri, ctx.Response.StatusCode(), ctx.Response.Body())
	}
	return d
}

// bare runs the statement the service runs for q, directly on the pool, reading every row.
func (e *benchEnv) bare(b *testing.B, query string, args []any) time.Duration {
	start := time.Now()
	rows, err := e.db.DB.QueryContext(context.Background(), query, args...)
	if err != nil {
		b.Fatal(err)
	}
	cols, _ := rows.Columns()
	dst := make([]any, len(cols))
	for i := range dst {
		dst[i] = new(sql.RawBytes)
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil || n == 0 {
		b.Fatalf("bare SQL: %d rows, %v", n, err)
	}
	rows.Close()
	return time.Since(start)
}

// bareInTx runs the same statement inside the tenant's transaction, as every read must
// (row-level security): BEGIN, set_config, the query, COMMIT — three more round trips.
func (e *benchEnv) bareInTx(b *testing.B, tenantID uuid.UUID, query string, args []any) time.Duration {
	start := time.Now()
	err := database.InTenantTx(context.Background(), e.db, tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.Tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		dst := make([]any, len(cols))
		for i := range dst {
			dst[i] = new(sql.RawBytes)
		}
		for rows.Next() {
			if err := rows.Scan(dst...); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// statement is the SQL and arguments the service runs for a query string in a city.
func (e *benchEnv) statement(b *testing.B, slug, query string) (string, []any) {
	t, _ := e.reg.BySlug(slug)
	v, _ := url.ParseQuery(query)
	q, err := e.search.Parse(t, v)
	if err != nil {
		b.Fatal(err)
	}
	res, err := e.search.Search(context.Background(), t, q)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d hits within %.0f km of %s", slug, res.Total, q.RadiusKm, res.Origin.Label())
	s, args := search.SearchSQL(t.ID, q, res.Origin)
	return s, args
}

// rounds alternates the measured functions, each op times per round, and returns the
// median per-op time of each.
func rounds(n, ops int, fns ...func() time.Duration) []time.Duration {
	per := make([][]time.Duration, len(fns))
	for r := 0; r < n; r++ {
		for i, fn := range fns {
			var sum time.Duration
			for range ops {
				sum += fn()
			}
			per[i] = append(per[i], sum/time.Duration(ops))
		}
	}
	out := make([]time.Duration, len(fns))
	for i, xs := range per {
		slices.Sort(xs)
		out[i] = xs[len(xs)/2]
	}
	return out
}

func BenchmarkSearchVsBareSQL(b *testing.B) {
	e := setupBench(b)
	query := typical + "&plz=" + centralPLZ["berlin"]
	stmt, args := e.statement(b, "berlin", query)
	host := "berlin.localhost"
	berlin, _ := e.reg.BySlug("berlin")
	for range 50 { // warm caches and prepared statements
		e.serve(b, host, "/api/v1/facilities?"+query)
		e.serve(b, host, "/?"+query)
		e.bare(b, stmt, args)
		e.bareInTx(b, berlin.ID, stmt, args)
	}
	b.ResetTimer()
	m := rounds(9, 200,
		func() time.Duration { return e.serve(b, host, "/api/v1/facilities?"+query) },
		func() time.Duration { return e.serve(b, host, "/?"+query) },
		func() time.Duration { return e.bare(b, stmt, args) },
		func() time.Duration { return e.bareInTx(b, berlin.ID, stmt, args) },
	)
	api, page, bare, inTx := m[0], m[1], m[2], m[3]
	b.ReportMetric(float64(api.Microseconds()), "api_µs")
	b.ReportMetric(float64(page.Microseconds()), "page_µs")
	b.ReportMetric(float64(bare.Microseconds()), "bare_sql_µs")
	b.ReportMetric(float64(inTx.Microseconds()), "sql_in_tenant_tx_µs")
	b.ReportMetric(float64(api)/float64(bare), "api_per_bare")
	b.ReportMetric(float64(page)/float64(bare), "page_per_bare")
	b.ReportMetric(float64(api)/float64(inTx), "api_per_tx")
	b.Logf("median of 9 rounds × 200: API %s, HTML page %s, bare SQL %s, the SQL in the tenant transaction %s → "+
		"API %.2f×, page %.2f× the bare SQL; API %.2f×, page %.2f× the SQL in its transaction",
		api, page, bare, inTx, float64(api)/float64(bare), float64(page)/float64(bare), float64(api)/float64(inTx), float64(page)/float64(inTx))
}

func BenchmarkSearchBochumVsBerlin(b *testing.B) {
	e := setupBench(b)
	paths := map[string]string{}
	for slug, plz := range centralPLZ {
		paths[slug] = "/api/v1/facilities?" + typical + "&plz=" + plz
		e.statement(b, slug, typical+"&plz="+plz) // logs the hits
		for range 50 {
			e.serve(b, slug+".localhost", paths[slug])
		}
	}
	b.ResetTimer()
	m := rounds(9, 200,
		func() time.Duration { return e.serve(b, "bochum.localhost", paths["bochum"]) },
		func() time.Duration { return e.serve(b, "berlin.localhost", paths["berlin"]) },
	)
	b.ReportMetric(float64(m[0].Microseconds()), "bochum_µs")
	b.ReportMetric(float64(m[1].Microseconds()), "berlin_µs")
	b.ReportMetric(float64(m[1])/float64(m[0]), "berlin_per_bochum")
	b.Logf("median of 9 rounds × 200: Bochum (800 facilities) %s, Berlin (3,000) %s → %.2f×", m[0], m[1], float64(m[1])/float64(m[0]))
}
