package retention

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// bundle is a test database with the seed cities on a manual clock.
type bundle struct {
	t   *testing.T
	ctx context.Context
	db  *bun.DB
	reg *tenant.Registry
	clk *clock.Manual
	svc *Service
}

func setup(t *testing.T) *bundle {
	t.Helper()
	db, _ := tenanttest.DB(t)
	clk := clock.NewManual(time.Date(2027, 6, 15, 10, 0, 0, 0, time.UTC))
	return &bundle{t: t, ctx: context.Background(), db: db, reg: tenanttest.Registry(t, db), clk: clk, svc: NewService(db, clk)}
}

func (b *bundle) exec(q string, args ...any) {
	b.t.Helper()
	if _, err := b.db.ExecContext(b.ctx, q, args...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bundle) count(q string, args ...any) int {
	b.t.Helper()
	var n int
	if err := b.db.NewRaw(q, args...).Scan(b.ctx, &n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// city is one city's fixtures: a family with a child, an account, a facility.
type city struct {
	tn       *tenant.Tenant
	child    uuid.UUID
	account  uuid.UUID
	facility uuid.UUID
}

func (b *bundle) city(slug string) *city {
	b.t.Helper()
	c := &city{tn: tenanttest.Get(b.t, b.reg, slug), child: uuid.New(), account: uuid.New(), facility: uuid.New()}
	fam, prov := uuid.New(), uuid.New()
	b.exec(`INSERT INTO family (tenant_id, id, plz) VALUES (?, ?, '00000')`, c.tn.ID, fam)
	b.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, 'Mia', 'Weiß', '2025-01-01')`, c.tn.ID, c.child, fam)
	b.exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'parent', ?, 'active')`, c.tn.ID, c.account, "p@"+slug+".test")
	b.exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Träger', 'welfare')`, c.tn.ID, prov)
	b.exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, lat, lon, age_min_months, age_max_months)
		VALUES (?, ?, ?, 'kita', 'Kita', 'Weg', '1', '00000', 'Stadt', ?, 51, 10, 0, 144)`, c.tn.ID, c.facility, prov, c.tn.Rules.Municipalities[0].Key)
	return c
}

func (b *bundle) request(c *city, status, start string) uuid.UUID {
	b.t.Helper()
	id := uuid.New()
	b.exec(`INSERT INTO application (tenant_id, id, child_id, status, reference, start_date, start_period, care_hours) VALUES (?, ?, ?, ?, ?, ?, date_trunc('year', ?::date)::date, 35)`,
		c.tn.ID, id, c.child, status, "R-"+id.String()[:8], start, start)
	b.exec(`INSERT INTO application_event (tenant_id, application_id, to_status, actor_kind) VALUES (?, ?, ?, 'system')`, c.tn.ID, id, status)
	return id
}

func (b *bundle) offerOn(c *city, app uuid.UUID, status string) uuid.UUID {
	b.t.Helper()
	id := uuid.New()
	b.exec(`INSERT INTO offer (tenant_id, id, application_id, child_id, facility_id, care_hours, start_date, status) VALUES (?, ?, ?, ?, ?, 35, '2026-01-01', ?)`,
		c.tn.ID, id, app, c.child, c.facility, status)
	return id
}

func (b *bundle) exists(table string, tenantID, id uuid.UUID) bool {
	b.t.Helper()
	return b.count(`SELECT count(*) FROM `+table+` WHERE tenant_id = ? AND id = ?`, tenantID, id) == 1
}

// seeded holds the rows of one city that the job must delete or keep.
type seeded struct {
	gone, kept map[string][]uuid.UUID // table → ids
}

// seed writes, for the clock at 2027-06-15 and Kempten's periods (12 months, 365 mail
// days, 30 session days), rows just past and just within each period.
func (b *bundle) seed(c *city) seeded {
	now := b.clk.Now()
	s := seeded{gone: map[string][]uuid.UUID{}, kept: map[string][]uuid.UUID{}}
	add := func(m map[string][]uuid.UUID, table string, id uuid.UUID) { m[table] = append(m[table], id) }
	// Unplaced requests whose desired start passed more than 12 months ago: deleted.
	add(s.gone, "application", b.request(c, "withdrawn", "2026-01-01"))
	add(s.gone, "application", b.request(c, "submitted", "2026-03-01")) // still waiting past its start
	refused := b.request(c, "refused", "2026-02-01")
	add(s.gone, "application", refused)
	add(s.gone, "offer", b.offerOn(c, refused, "expired"))
	// Kept: started within the 12 months, placed, or holding an offer that must stay.
	add(s.kept, "application", b.request(c, "withdrawn", "2026-07-01"))
	add(s.kept, "application", b.request(c, "contracted", "2025-08-01"))
	held := b.request(c, "closed", "2025-09-01")
	add(s.kept, "application", held)
	add(s.kept, "offer", b.offerOn(c, held, "accepted"))
	// Inbox messages: 400 days old goes, 10 days old stays.
	for _, m := range []struct {
		age  int
		into map[string][]uuid.UUID
	}{{400, s.gone}, {10, s.kept}} {
		id := uuid.New()
		b.exec(`INSERT INTO inbox_message (tenant_id, id, account_id, kind, subject, body, created_at) VALUES (?, ?, ?, 'test', 'Betreff', 'Text', ?)`,
			c.tn.ID, id, c.account, now.AddDate(0, 0, -m.age))
		add(m.into, "inbox_message", id)
	}
	// Sessions: ended 40 days ago goes, 5 days ago stays.
	for _, m := range []struct {
		age  int
		into map[string][]uuid.UUID
	}{{40, s.gone}, {5, s.kept}} {
		id := uuid.New()
		b.exec(`INSERT INTO auth_session (tenant_id, id, token_hash, kind, principal, account_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, 'cookie', 'parent', ?, ?, ?, ?)`,
			c.tn.ID, id, []byte(id.String()), c.account, now.AddDate(0, 0, -m.age-1), now.AddDate(0, 0, -m.age-1), now.AddDate(0, 0, -m.age))
		add(m.into, "auth_session", id)
	}
	// Mail receipts and relayed outbox rows: 400 days old go, a fresh one and an unrelayed one stay.
	b.exec(`INSERT INTO mail_delivery (message_id, tenant_id, kind, sent_at) VALUES (?, ?, 'test', ?), (?, ?, 'test', ?)`,
		"old-"+c.tn.Slug, c.tn.ID, now.AddDate(0, 0, -400), "new-"+c.tn.Slug, c.tn.ID, now.AddDate(0, 0, -3))
	b.exec(`INSERT INTO outbox (tenant_id, task_type, payload, created_at, relayed_at) VALUES
		(?, 'test', '{}', ?, ?), (?, 'test', '{}', ?, ?), (?, 'test', '{}', ?, NULL)`,
		c.tn.ID, now.AddDate(0, 0, -401), now.AddDate(0, 0, -400),
		c.tn.ID, now.AddDate(0, 0, -3), now.AddDate(0, 0, -3),
		c.tn.ID, now.AddDate(0, 0, -400))
	return s
}

// want is what Kempten's run deletes of seed's rows.
var want = Counts{Requests: 3, Offers: 1, Inbox: 1, Receipts: 1, OutboxRow: 1, Sessions: 1}

func (b *bundle) auditEntries(tenantID uuid.UUID, action string) []map[string]any {
	b.t.Helper()
	var rows []struct {
		Details  json.RawMessage `bun:"details"`
		ChildIDs []string        `bun:"child_ids,array"`
	}
	if err := b.db.NewRaw(`SELECT details, child_ids FROM audit_event WHERE tenant_id = ? AND action = ? ORDER BY at`, tenantID, action).Scan(b.ctx, &rows); err != nil {
		b.t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range rows {
		if len(r.ChildIDs) != 0 {
			b.t.Errorf("%s names children: %v", action, r.ChildIDs)
		}
		var d map[string]any
		if err := json.Unmarshal(r.Details, &d); err != nil {
			b.t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// countsOnly checks that an audit entry holds exactly the categories, each a number.
func countsOnly(t *testing.T, d map[string]any, want Counts) {
	t.Helper()
	if len(d) != len(Categories) {
		t.Errorf("details %v: want exactly the %d categories", d, len(Categories))
	}
	for _, k := range Categories {
		n, ok := d[k].(float64)
		if !ok || int(n) != want[k] {
			t.Errorf("details[%s] = %v, want %d", k, d[k], want[k])
		}
	}
}

func TestRetentionRunDeletesWhatIsPastThePeriodsAfterTheDryRunWasConfirmed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k, other := b.city("kempten"), b.city("bochum")
	ks, os := b.seed(k), b.seed(other)

	// Before the admin confirmed, the job only reports: nothing goes, the entry is a dry run.
	res, err := b.svc.RunTenant(b.ctx, k.tn)
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun {
		t.Fatal("the first run deleted before the admin confirmed the dry run")
	}
	for table, ids := range ks.gone {
		for _, id := range ids {
			if !b.exists(table, k.tn.ID, id) {
				t.Errorf("dry run deleted %s %s", table, id)
			}
		}
	}
	dry := b.auditEntries(k.tn.ID, ActionDryRun)
	if len(dry) != 1 {
		t.Fatalf("%d dry-run entries, want 1", len(dry))
	}
	countsOnly(t, dry[0], want)

	// The report the admin sees lists the same counts.
	report, err := b.svc.DryRun(b.ctx, k.tn)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Categories {
		if report.Counts[c] != want[c] {
			t.Errorf("dry run %s = %d, want %d", c, report.Counts[c], want[c])
		}
	}
	if report.EnabledAt != nil || report.LastRunAt == nil {
		t.Errorf("enabled %v, last run %v", report.EnabledAt, report.LastRunAt)
	}

	admin := uuid.New()
	caller := auth.Caller{Tenant: k.tn, Principal: &auth.Principal{Kind: auth.KindStaff, ID: admin, TenantID: k.tn.ID}}
	if _, err := b.svc.Enable(b.ctx, caller); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Enable(b.ctx, caller); err != nil { // again: no second entry
		t.Fatal(err)
	}
	if n := len(b.auditEntries(k.tn.ID, ActionEnabled)); n != 1 {
		t.Errorf("%d enable entries, want 1", n)
	}

	b.clk.Advance(time.Hour) // the next night: nothing in seed crosses a period in an hour
	res, err = b.svc.RunTenant(b.ctx, k.tn)
	if err != nil {
		t.Fatal(err)
	}
	if res.DryRun {
		t.Fatal("still a dry run after the admin confirmed")
	}
	for _, c := range Categories {
		if res.Counts[c] != report.Counts[c] {
			t.Errorf("run deleted %d %s, the dry run said %d", res.Counts[c], c, report.Counts[c])
		}
	}
	for table, ids := range ks.gone {
		for _, id := range ids {
			if b.exists(table, k.tn.ID, id) {
				t.Errorf("%s %s is past its period and still there", table, id)
			}
		}
	}
	for table, ids := range ks.kept {
		for _, id := range ids {
			if !b.exists(table, k.tn.ID, id) {
				t.Errorf("%s %s was within its period (or placed) and is gone", table, id)
			}
		}
	}
	if n := b.count(`SELECT count(*) FROM application_event WHERE tenant_id = ?`, k.tn.ID); n != len(ks.kept["application"]) {
		t.Errorf("%d request history rows left, want those of the %d kept requests", n, len(ks.kept["application"]))
	}
	if n := b.count(`SELECT count(*) FROM outbox WHERE tenant_id = ?`, k.tn.ID); n != 2 {
		t.Errorf("%d outbox rows left, want the fresh and the unrelayed one", n)
	}
	if n := b.count(`SELECT count(*) FROM mail_delivery WHERE tenant_id = ?`, k.tn.ID); n != 1 {
		t.Errorf("%d mail receipts left, want 1", n)
	}
	runs := b.auditEntries(k.tn.ID, ActionRun)
	if len(runs) != 1 {
		t.Fatalf("%d run entries, want 1", len(runs))
	}
	countsOnly(t, runs[0], want)

	// Another city is untouched: not a row of Bochum went, and it has no entry.
	for _, m := range []map[string][]uuid.UUID{os.gone, os.kept} {
		for table, ids := range m {
			for _, id := range ids {
				if !b.exists(table, other.tn.ID, id) {
					t.Errorf("bochum's %s %s was deleted by kempten's run", table, id)
				}
			}
		}
	}
	if n := b.count(`SELECT count(*) FROM audit_event WHERE tenant_id = ? AND action LIKE 'retention.%'`, other.tn.ID); n != 0 {
		t.Errorf("bochum has %d retention entries", n)
	}

	// A second run finds nothing more, and says so.
	res, err = b.svc.RunTenant(b.ctx, k.tn)
	if err != nil || res.Counts.Total() != 0 {
		t.Errorf("second run: %v, %v", res.Counts, err)
	}
}

func TestCutoffs(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 31, 12, 0, 0, 0, time.UTC)
	c := CutoffsAt(tenant.Retention{UnplacedRequestMonths: 1, SessionDays: 30}, now)
	if got := c.RequestStart.String(); got != "2027-02-28" {
		t.Errorf("request cutoff %s", got)
	}
	if !c.Mail.IsZero() {
		t.Error("mail_days 0 must not sweep mail")
	}
	if want := now.AddDate(0, 0, -30); !c.Sessions.Equal(want) {
		t.Errorf("session cutoff %v, want %v", c.Sessions, want)
	}
}
