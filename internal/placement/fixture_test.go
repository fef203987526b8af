package placement

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/availability"
	"kitaportal/internal/contract"
	"kitaportal/internal/notify"
	"kitaportal/internal/notify/notifytest"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// fixture is one city of a test database on a fake clock, with what the flow needs:
// facilities with places, staff, families with a child and filed requests.
type fixture struct {
	t   testing.TB
	ctx context.Context
	db  *bun.DB
	tn  *tenant.Tenant
	clk *clock.Manual
	svc *Service
	enf *authz.Enforcer
}

var seq atomic.Int64

// newFixture opens a test database with the city slug; the clock stands at the real
// current moment, so dates follow the calendar.
func newFixture(t testing.TB, slug string) *fixture {
	t.Helper()
	db, _ := tenanttest.DB(t)
	tn := tenanttest.Get(t, tenanttest.Registry(t, db), slug)
	clk := clock.NewManual(time.Now().UTC().Truncate(time.Second))
	mails := notifytest.Templates(t)
	enf, err := authz.NewFromConfig(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := enf.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	links := notify.NewLinks(func(slug string) string { return "http://" + slug + ".localhost" })
	f := &fixture{t: t, ctx: context.Background(), db: db, tn: tn, clk: clk, enf: enf}
	f.svc = NewService(Deps{DB: db, Authz: enf, Clock: clk, Mails: mails, Links: links})
	// The availability is built once, as the worker does for a city.
	f.inTx(func(tx bun.Tx) error {
		_, err := availability.Rebuild(f.ctx, tx, tn, f.today())
		return err
	})
	return f
}

func (f *fixture) today() date.Date { return date.In(f.clk.Now()) }

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.ExecContext(f.ctx, q, args...); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) inTx(fn func(tx bun.Tx) error) {
	f.t.Helper()
	if err := database.InTenantTx(f.ctx, f.db, f.tn.ID, func(_ context.Context, tx bun.Tx) error { return fn(tx) }); err != nil {
		f.t.Fatal(err)
	}
}

// nextStart is the next start of the city's Kita year at least months ahead.
func (f *fixture) nextStart(months int) date.Date {
	cal := f.tn.Rules.Calendar()
	d := cal.YearStart(f.today())
	for d.Before(f.today().AddMonths(months)) {
		d = d.AddMonths(12)
	}
	return d
}

// facility creates a facility with one group per age band of the city, each with places
// from a year ago on and the city's longest care scope.
func (f *fixture) facility(name string, places int) uuid.UUID {
	f.t.Helper()
	prov, id := uuid.New(), uuid.New()
	f.exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, ?, 'welfare')`, f.tn.ID, prov, "Träger "+name)
	f.exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key,
		lat, lon, age_min_months, age_max_months) VALUES (?, ?, ?, 'kita', ?, 'Gartenweg', '3', '00000', 'Teststadt', ?, 51, 10, 0, 144)`,
		f.tn.ID, id, prov, name, f.tn.Slug)
	hours := f.tn.Rules.CareScopes[len(f.tn.Rules.CareScopes)-1]
	for _, b := range f.tn.Rules.AgeBands {
		g := uuid.New()
		f.exec(`INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours) VALUES (?, ?, ?, ?, ?, ?)`,
			f.tn.ID, g, id, "Gruppe "+b.Key, b.Key, hours)
		f.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places) VALUES (?, ?, ?, ?)`,
			f.tn.ID, g, f.today().AddMonths(-12), places)
	}
	f.inTx(func(tx bun.Tx) error { return availability.Refresh(f.ctx, tx, f.tn, f.today(), id) })
	return id
}

// staff is a signed-in staff member with role, at facility (lead) or city-wide.
func (f *fixture) staff(role string, facility uuid.UUID) auth.Caller {
	f.t.Helper()
	id := uuid.New()
	f.exec(`INSERT INTO account (tenant_id, id, kind, email, status, password_hash) VALUES (?, ?, 'staff', ?, 'active', 'x')`,
		f.tn.ID, id, fmt.Sprintf("staff%d@test", seq.Add(1)))
	var fac *uuid.UUID
	if facility != uuid.Nil {
		fac = &facility
	}
	f.exec(`INSERT INTO staff_role (tenant_id, id, account_id, role, facility_id) VALUES (?, ?, ?, ?, ?)`, f.tn.ID, uuid.New(), id, role, fac)
	f.inTx(func(tx bun.Tx) error { return authz.GrantRole(f.ctx, tx, f.tn.ID, id, role) })
	if err := f.enf.Reload(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	return auth.Caller{Tenant: f.tn, Principal: &auth.Principal{Kind: auth.KindStaff, ID: id, TenantID: f.tn.ID, MFADone: true}}
}

// household is a signed-in parent with a family and one child, 17 months old at start.
type household struct {
	caller auth.Caller
	family uuid.UUID
	child  uuid.UUID
	email  string
}

func (f *fixture) household(first string, start date.Date) household {
	f.t.Helper()
	n := seq.Add(1)
	h := household{family: uuid.New(), child: uuid.New(), email: fmt.Sprintf("eltern%d@test", n)}
	acct := uuid.New()
	f.exec(`INSERT INTO account (tenant_id, id, kind, email, status, language, password_hash) VALUES (?, ?, 'parent', ?, 'active', 'de', 'x')`,
		f.tn.ID, acct, h.email)
	f.exec(`INSERT INTO family (tenant_id, id, street, house_number, plz, city, municipality_key) VALUES (?, ?, 'Weg', '1', '00000', 'Teststadt', ?)`,
		f.tn.ID, h.family, f.tn.Slug)
	f.exec(`INSERT INTO guardian (tenant_id, family_id, user_id, first_name, last_name, email) VALUES (?, ?, ?, 'Pia', 'Weiß', ?)`,
		f.tn.ID, h.family, acct, h.email)
	f.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, ?, 'Weiß', ?)`,
		f.tn.ID, h.child, h.family, first, start.AddMonths(-17))
	h.caller = auth.Caller{Tenant: f.tn, Principal: &auth.Principal{Kind: auth.KindParent, ID: acct, TenantID: f.tn.ID}}
	return h
}

// request files a request of h's child for start at the facilities in order, as the
// filing does: submitted, choices pending (in a cascade city the first one has its turn,
// the others are queued).
func (f *fixture) request(h household, start date.Date, facilities ...uuid.UUID) uuid.UUID {
	f.t.Helper()
	id := uuid.New()
	hours := f.tn.Rules.CareScopes[len(f.tn.Rules.CareScopes)-1]
	f.exec(`INSERT INTO application (tenant_id, id, child_id, status, reference, start_date, start_period, care_hours, submitted_at)
		VALUES (?, ?, ?, 'submitted', ?, ?, ?, ?, ?)`, f.tn.ID, id, h.child, fmt.Sprintf("T-%d", seq.Add(1)), start,
		f.tn.Rules.Calendar().YearStart(start), hours, f.clk.Now())
	for i, fac := range facilities {
		status, turn := application.ChoicePending, any(nil)
		if f.tn.Rules.Allocation.Mode == tenant.ModeCascade {
			if i == 0 {
				turn = application.TurnEnd(f.tn, f.clk.Now())
			} else {
				status = application.ChoiceQueued
			}
		}
		f.exec(`INSERT INTO application_choice (tenant_id, application_id, rank, facility_id, status, turn_until) VALUES (?, ?, ?, ?, ?, ?)`,
			f.tn.ID, id, i+1, fac, status, turn)
	}
	return id
}

// free is the facility's free places for a child 17 months old at start, at start.
func (f *fixture) free(facility uuid.UUID, start date.Date) int {
	f.t.Helper()
	band, ok := f.tn.Rules.Calendar().BandAt(start.AddMonths(-17), start)
	if !ok {
		f.t.Fatal("no band")
	}
	var out map[uuid.UUID]int
	f.inTx(func(tx bun.Tx) error {
		var err error
		out, err = availability.Lookup(f.ctx, tx, f.tn.ID, []uuid.UUID{facility}, band.Key, f.tn.Rules.CareScopes[len(f.tn.Rules.CareScopes)-1], start)
		return err
	})
	return out[facility]
}

// choices are the statuses of a request's choices, by rank.
func (f *fixture) choices(app uuid.UUID) map[int]application.ChoiceStatus {
	f.t.Helper()
	rows, err := f.db.QueryContext(f.ctx, `SELECT rank, status FROM application_choice WHERE tenant_id = ? AND application_id = ?`, f.tn.ID, app)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]application.ChoiceStatus{}
	for rows.Next() {
		var r int
		var s application.ChoiceStatus
		if err := rows.Scan(&r, &s); err != nil {
			f.t.Fatal(err)
		}
		out[r] = s
	}
	return out
}

func (f *fixture) requestStatus(app uuid.UUID) application.Status {
	f.t.Helper()
	var s application.Status
	if err := f.db.QueryRowContext(f.ctx, `SELECT status FROM application WHERE tenant_id = ? AND id = ?`, f.tn.ID, app).Scan(&s); err != nil {
		f.t.Fatal(err)
	}
	return s
}

// mails counts the mails of kind queued to address.
func (f *fixture) mails(kind, to string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM outbox WHERE tenant_id = ? AND task_type = 'mail:send'
		AND payload::text LIKE ? AND payload::text LIKE ?`, f.tn.ID, "%"+kind+"%", "%"+to+"%").Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// documentMaker runs the contract document job as the worker does.
type documentMaker struct {
	f     *fixture
	docs  *contract.Documents
	files *storage.Local
}

func (f *fixture) documents() *documentMaker {
	f.t.Helper()
	files, err := storage.NewLocal(f.t.TempDir())
	if err != nil {
		f.t.Fatal(err)
	}
	return &documentMaker{f: f, files: files,
		docs: contract.NewDocuments(f.db, files, tenanttest.Registry(f.t, f.db), f.clk, slog.New(slog.NewTextHandler(io.Discard, nil)))}
}

func (d *documentMaker) render(contractID uuid.UUID) {
	d.f.t.Helper()
	if err := d.docs.Make(d.f.ctx, d.f.tn, contractID); err != nil {
		d.f.t.Fatal(err)
	}
}
