package report_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/report"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// The fixture: Kempten on 20 January 2027, a report over January to March 2027.
//
//	district nord: Kita A (welfare, provider pA): Krippe 10 places (45 h), Kindergarten
//	               20 places until March, 25 from March (45 h);
//	               Tagespflege B (childminder, pB): Krippe 5 places (40 h).
//	district ost:  Kita C (municipal, pC): Kindergarten 15 places (45 h);
//	               the district desk D (pC, brokered): a stray Krippe group of 5 places that
//	               must not count.
//
// Contracts: k1 Krippe at A (45 h, open-ended); k2 at A (35 h, until September), born
// 15 February 2024: Krippe in January and February, Kindergarten from March (36 months on
// 1 March); k3 Kindergarten at A from 10 February (45 h); k4 Kindergarten at C in
// January only; k5 at C cancelled; k6 Krippe at B (40 h).
// Offers: o1 open at A for k7 (Krippe) from 1 March; o2 declined; o3 contracted (k3's);
// o4 accepted at A, k11's second choice, from April (after the report).
// Waiting requests: r1 k8 Krippe from 1 February at [A] (45 h); r2 k9 Krippe from
// 1 November 2026 at [C, A] (35 h, overdue); r3 k10 Krippe from 15 January at [B]
// (40 h, overdue); r4 k1 from 1 December at [C] (k1 is under contract: waiting, not
// unserved). Others: a7 (k7, offered), a8 (k3, contracted), a9 (k11, accepted), a10
// (k12, withdrawn after o2), r5 withdrawn long ago; one request in Herzberg.
type fixture struct {
	db      *bun.DB
	t       *tenant.Tenant
	reg     *tenant.Registry
	svc     *report.Service
	fac     map[string]uuid.UUID
	prov    map[string]uuid.UUID
	child   map[string]uuid.UUID
	request map[string]uuid.UUID
	exec    func(q string, args ...any)
}

var now = time.Date(2027, 1, 20, 10, 0, 0, 0, clock.Berlin)

func setup(t *testing.T) *fixture {
	t.Helper()
	db, _ := tenanttest.DB(t)
	reg := tenanttest.Registry(t, db)
	f := &fixture{db: db, reg: reg, t: tenanttest.Get(t, reg, "kempten"), svc: report.NewService(db, clock.NewManual(now)),
		fac: map[string]uuid.UUID{}, prov: map[string]uuid.UUID{}, child: map[string]uuid.UUID{}, request: map[string]uuid.UUID{}}
	f.exec = func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
	tn := f.t.ID
	for key, kind := range map[string]string{"pA": "welfare", "pB": "childminder", "pC": "municipal"} {
		f.prov[key] = uuid.New()
		f.exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, ?, ?)`, tn, f.prov[key], "Träger "+key, kind)
	}
	facility := func(key, prov, typ, district string, brokered bool) {
		f.fac[key] = uuid.New()
		f.exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, district_key,
			lat, lon, age_min_months, age_max_months, brokered) VALUES (?, ?, ?, ?, ?, 'Weg', '1', '87435', 'Kempten', 'kempten', ?, 47.7, 10.3, 0, 72, ?)`,
			tn, f.fac[key], f.prov[prov], typ, "Einrichtung "+key, district, brokered)
	}
	facility("A", "pA", "kita", "nord", false)
	facility("B", "pB", "tagespflege", "nord", false)
	facility("C", "pC", "kita", "ost", false)
	facility("D", "pC", "tagespflege", "ost", true)
	group := func(fac, band string, hours int, periods ...any) uuid.UUID {
		id := uuid.New()
		f.exec(`INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours) VALUES (?, ?, ?, ?, ?, ?)`,
			tn, id, f.fac[fac], "Gruppe "+band, band, hours)
		for i := 0; i < len(periods); i += 3 {
			f.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, valid_until, places) VALUES (?, ?, ?, ?, ?)`,
				tn, id, periods[i], periods[i+1], periods[i+2])
		}
		return id
	}
	krippeA := group("A", "krippe", 45, "2026-09-01", nil, 10)
	group("A", "kindergarten", 45, "2026-09-01", "2027-03-01", 20, "2027-03-01", nil, 25)
	group("B", "krippe", 40, "2026-09-01", nil, 5)
	group("C", "kindergarten", 45, "2026-09-01", nil, 15)
	group("D", "krippe", 45, "2026-09-01", nil, 5)

	family := uuid.New()
	f.exec(`INSERT INTO family (tenant_id, id) VALUES (?, ?)`, tn, family)
	for key, birth := range map[string]string{"k1": "2025-06-01", "k2": "2024-02-15", "k3": "2023-01-10", "k4": "2022-05-05",
		"k5": "2022-07-07", "k6": "2025-09-01", "k7": "2025-03-01", "k8": "2025-04-01", "k9": "2025-01-20", "k10": "2025-08-01",
		"k11": "2024-10-01", "k12": "2025-02-02", "k13": "2024-04-04"} {
		f.child[key] = uuid.New()
		f.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, ?, 'Muster', ?)`,
			tn, f.child[key], family, "Kind-"+key, birth)
	}
	contract := func(child, fac string, group *uuid.UUID, hours int, start string, end any, status string) {
		f.exec(`INSERT INTO contract (tenant_id, child_id, facility_id, group_id, care_hours, start_date, end_date, status, source)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'manual')`, tn, f.child[child], f.fac[fac], group, hours, start, end, status)
	}
	contract("k1", "A", &krippeA, 45, "2026-09-01", nil, "active")
	contract("k2", "A", &krippeA, 35, "2026-09-01", "2027-09-01", "active")
	contract("k3", "A", nil, 45, "2027-02-10", nil, "active")
	contract("k4", "C", nil, 45, "2026-09-01", "2027-02-01", "terminated")
	contract("k5", "C", nil, 45, "2026-09-01", nil, "cancelled")
	contract("k6", "B", nil, 40, "2026-10-01", nil, "active")

	n := 0
	request := func(key, child, status, start string, hours int, submitted string, choices ...string) {
		n++
		id := uuid.New()
		f.request[key] = id
		f.exec(`INSERT INTO application (tenant_id, id, child_id, reference, status, start_date, start_period, care_hours, submitted_at)
			VALUES (?, ?, ?, ?, ?, ?, date_trunc('year', ?::date)::date, ?, ?)`,
			tn, id, f.child[child], "KEM-2026-"+key, status, start, start, hours, submitted+" 09:00:00+01")
		for rank, c := range choices {
			f.exec(`INSERT INTO application_choice (tenant_id, application_id, rank, facility_id, status) VALUES (?, ?, ?, ?, 'pending')`,
				tn, id, rank+1, f.fac[c])
		}
	}
	request("r1", "k8", "submitted", "2027-02-01", 45, "2026-12-01", "A")
	request("r2", "k9", "in_review", "2026-11-01", 35, "2026-08-01", "C", "A")
	request("r3", "k10", "submitted", "2027-01-15", 40, "2026-10-10", "B")
	request("r4", "k1", "submitted", "2026-12-01", 45, "2026-06-01", "C")
	request("a7", "k7", "offered", "2027-03-01", 45, "2026-12-01", "A")
	request("a8", "k3", "contracted", "2027-02-10", 45, "2026-10-01", "A")
	request("a9", "k11", "accepted", "2027-04-01", 45, "2026-11-01", "C", "A")
	request("a10", "k12", "withdrawn", "2027-05-01", 45, "2026-12-15", "A")
	request("r5", "k13", "withdrawn", "2025-09-01", 45, "2025-06-01", "A")
	offerAt := func(app, child, fac string, rank, hours int, start, status, created string) {
		f.exec(`INSERT INTO offer (tenant_id, application_id, choice_rank, child_id, facility_id, care_hours, start_date, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tn, f.request[app], rank, f.child[child], f.fac[fac], hours, start, status, created+" 09:00:00+01")
	}
	offerAt("a7", "k7", "A", 1, 45, "2027-03-01", "open", "2026-12-11")       // 10 days
	offerAt("a8", "k3", "A", 1, 45, "2027-02-10", "contracted", "2026-10-31") // 30 days, first choice
	offerAt("a9", "k11", "A", 2, 45, "2027-04-01", "accepted", "2026-11-21")  // 20 days, second choice
	offerAt("a10", "k12", "A", 1, 45, "2027-05-01", "declined", "2026-12-20") // 5 days

	// Another city's data never counts.
	herz := tenanttest.Get(t, reg, "herzberg")
	hp, hf, hfam, hc := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	f.exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Herzberger Träger', 'welfare')`, herz.ID, hp)
	f.exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key,
		lat, lon, age_min_months, age_max_months) VALUES (?, ?, ?, 'kita', 'Kita Herzberg', 'Weg', '1', '04916', 'Herzberg', 'herzberg', 51.7, 13.2, 0, 72)`,
		herz.ID, hf, hp)
	f.exec(`INSERT INTO family (tenant_id, id) VALUES (?, ?)`, herz.ID, hfam)
	f.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, 'Fremd', 'Kind', '2025-05-05')`, herz.ID, hc, hfam)
	f.exec(`INSERT INTO application (tenant_id, child_id, status, start_date, start_period, care_hours, submitted_at)
		VALUES (?, ?, 'submitted', '2027-01-01', '2027-01-01', 40, '2026-12-01')`, herz.ID, hc)
	return f
}

// caller is a signed-in staff member with one role.
func (f *fixture) caller(t *testing.T, role string, provider *uuid.UUID) auth.Caller {
	t.Helper()
	id := uuid.New()
	f.exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'staff', ?, 'pending')`, f.t.ID, id, id.String()+"@test")
	f.exec(`INSERT INTO staff_role (tenant_id, id, account_id, role, provider_id) VALUES (?, ?, ?, ?, ?)`, f.t.ID, uuid.New(), id, role, provider)
	return auth.Caller{Tenant: f.t, Principal: &auth.Principal{Kind: auth.KindStaff, ID: id, TenantID: f.t.ID, MFADone: true}}
}

func filter(t *testing.T, f *fixture, q map[string]string) report.Filter {
	t.Helper()
	flt, err := report.ParseFilter(func(k string) string { return q[k] }, f.t.Rules, date.In(now))
	if err != nil {
		t.Fatal(err)
	}
	return flt
}

// want is a month's figures: demand, waiting, places, contracted, offered, free and the
// coverage (−1: none).
type want struct {
	demand, waiting, places, contracted, offered, free int
	coverage                                           float64
}

func check(t *testing.T, label string, got report.Figures, w want) {
	t.Helper()
	cov := -1.0
	if got.Coverage != nil {
		cov = *got.Coverage
	}
	if got.Demand != w.demand || got.Waiting != w.waiting || got.Places != w.places || got.Contracted != w.contracted ||
		got.Offered != w.offered || got.Free != w.free || math.Abs(cov-w.coverage) > 0.0005 {
		t.Errorf("%s = %+v (coverage %.3f), want %+v", label, got, cov, w)
	}
}

func series(t *testing.T, r *report.Report, district, band string) []report.Month {
	t.Helper()
	for _, d := range r.Districts {
		if d.Key == district {
			for _, s := range d.Bands {
				if s.Band == band {
					return s.Months
				}
			}
		}
	}
	t.Fatalf("no series %s/%s in %+v", district, band, r.Districts)
	return nil
}

// The figures of two districts and two bands over three months, counted by hand above.
func TestReportCountsDistrictsBandsAndMonths(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	admin := f.caller(t, "tenant_admin", nil)
	r, err := f.svc.Report(ctx, admin, filter(t, f, map[string]string{"from": "2027-01", "months": "3"}), report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.CityWide || len(r.Districts) != 2 || r.Districts[0].Key != "nord" || r.Districts[1].Key != "ost" || r.Districts[0].Name != "Kempten-Nord" {
		t.Fatalf("districts: %+v (city wide %v)", r.Districts, r.CityWide)
	}
	nk := series(t, r, "nord", "krippe")
	// Kitas: A's 10 places; k1 and k2 (k2 Kindergarten from March); k7's offer from March;
	// r1 from February.
	check(t, "nord krippe kita Jan", nk[0].Kita, want{0, 0, 10, 2, 0, 8, 5})
	check(t, "nord krippe kita Feb", nk[1].Kita, want{1, 1, 10, 2, 0, 8, 3.333})
	check(t, "nord krippe kita Mar", nk[2].Kita, want{0, 1, 10, 1, 1, 8, 3.333})
	// Kindertagespflege: B's 5 places, k6, r3 from 15 January.
	for m, d := range []int{1, 0, 0} {
		check(t, "nord krippe tagespflege", nk[m].Tagespflege, want{d, 1, 5, 1, 0, 4, 2.5})
	}
	check(t, "nord krippe Jan", nk[0].Figures, want{1, 1, 15, 3, 0, 12, 3.75})
	check(t, "nord krippe Mar", nk[2].Figures, want{0, 2, 15, 2, 1, 12, 3})
	ng := series(t, r, "nord", "kindergarten")
	check(t, "nord kindergarten Jan", ng[0].Figures, want{0, 0, 20, 0, 0, 20, -1})
	check(t, "nord kindergarten Feb", ng[1].Figures, want{0, 0, 20, 1, 0, 19, 20})
	check(t, "nord kindergarten Mar", ng[2].Figures, want{0, 0, 25, 2, 0, 23, 12.5})
	// Ost: the desk's group has no places; r2 and r4 wait for a Krippe place since autumn.
	ok := series(t, r, "ost", "krippe")
	for m := range 3 {
		check(t, "ost krippe", ok[m].Figures, want{0, 2, 0, 0, 0, 0, 0})
	}
	og := series(t, r, "ost", "kindergarten")
	check(t, "ost kindergarten Jan", og[0].Figures, want{0, 0, 15, 1, 0, 14, 15})
	check(t, "ost kindergarten Feb", og[1].Figures, want{0, 0, 15, 0, 0, 15, -1})
	// The total adds the districts.
	if len(r.Total) != 3 || r.Total[0].Band != "krippe" {
		t.Fatalf("total: %+v", r.Total)
	}
	check(t, "total krippe Feb", r.Total[0].Months[1].Figures, want{1, 4, 15, 3, 0, 12, 2.143})
	// r2 (start November) and r3 (start 15 January) have no place; r4's child has one.
	if r.Unserved != 2 {
		t.Errorf("unserved = %d, want 2", r.Unserved)
	}
	// Waiting time: offers after 10, 30, 20 and 5 days; a8 placed at its first choice, a9 at
	// its second; eight requests filed in the last year (r5 earlier, Herzberg's elsewhere).
	w := r.Waiting.All
	if w.Requests != 8 || w.Offered != 4 || w.Placed != 2 || w.FirstChoice != 1 ||
		w.MedianDays == nil || *w.MedianDays != 15 || w.P90Days == nil || *w.P90Days != 27 || *w.FirstChoiceShare != 0.5 {
		t.Errorf("waiting time: %+v (median %v, p90 %v)", w, deref(w.MedianDays), deref(w.P90Days))
	}
	if r.Waiting.Tagespflege.Requests != 1 || r.Waiting.Kita.Requests != 7 || r.Waiting.Tagespflege.MedianDays != nil {
		t.Errorf("waiting time by kind: kita %+v, tagespflege %+v", r.Waiting.Kita, r.Waiting.Tagespflege)
	}
	if r.TicketsEnabled || len(r.Tickets) != 0 {
		t.Errorf("Kempten has no tickets: %+v", r.Tickets)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Filters narrow every figure: care scope, provider kind, band, district, a facility.
func TestReportFilters(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	admin := f.caller(t, "tenant_admin", nil)
	get := func(q map[string]string) *report.Report {
		t.Helper()
		q["from"], q["months"] = "2027-01", "3"
		r, err := f.svc.Report(ctx, admin, filter(t, f, q), report.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// At least 45 hours: B's 40-hour group, k2's 35 hours, k6's 40 and r3's 40 drop out.
	r := get(map[string]string{"hours": "45"})
	nk := series(t, r, "nord", "krippe")
	check(t, "45h nord krippe Jan", nk[0].Figures, want{0, 0, 10, 1, 0, 9, 10})
	check(t, "45h nord krippe Feb", nk[1].Figures, want{1, 1, 10, 1, 0, 9, 5})
	check(t, "45h nord krippe Mar", nk[2].Figures, want{0, 1, 10, 1, 1, 8, 3.333})
	// Childminders only: B.
	r = get(map[string]string{"provider_kind": "childminder"})
	if len(r.Districts) != 1 || r.Districts[0].Key != "nord" {
		t.Fatalf("childminder districts: %+v", r.Districts)
	}
	check(t, "childminder nord krippe", series(t, r, "nord", "krippe")[0].Figures, want{1, 1, 5, 1, 0, 4, 2.5})
	// One band, one district: the drill-down lists its facilities.
	r = get(map[string]string{"district": "ost", "band": "kindergarten"})
	if len(r.Districts) != 1 || len(r.Districts[0].Bands) != 1 || len(r.Total) != 1 || r.Unserved != 0 {
		t.Fatalf("ost kindergarten: %+v, unserved %d", r.Districts, r.Unserved)
	}
	if len(r.Facilities) != 2 || r.Facilities[0].Name != "Einrichtung C" || r.Facilities[0].Months[0].Places != 15 || r.Facilities[1].Months[0].Places != 0 {
		t.Errorf("ost facilities: %+v", r.Facilities)
	}
	// One facility.
	r = get(map[string]string{"facility": f.fac["A"].String()})
	check(t, "A krippe Mar", series(t, r, "nord", "krippe")[2].Figures, want{0, 1, 10, 1, 1, 8, 3.333})
	if len(r.Facilities) != 1 || r.Facilities[0].Months[2].Places != 35 {
		t.Errorf("A alone: %+v", r.Facilities)
	}
}

// A provider admin sees only their facilities: the requests naming them (at their
// highest-ranked choice among them), no tickets, no other facility.
func TestProviderAdminSeesTheirFacilities(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	pc := f.prov["pC"]
	owner := f.caller(t, "provider_admin", &pc)
	r, err := f.svc.Report(ctx, owner, filter(t, f, map[string]string{"from": "2027-01", "months": "3"}), report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.CityWide || len(r.Districts) != 1 || r.Districts[0].Key != "ost" {
		t.Fatalf("provider admin districts: %+v (city wide %v)", r.Districts, r.CityWide)
	}
	check(t, "ost krippe", series(t, r, "ost", "krippe")[0].Figures, want{0, 2, 0, 0, 0, 0, 0})
	if r.Unserved != 1 {
		t.Errorf("unserved = %d, want 1 (r2)", r.Unserved)
	}
	// a9 named C first: it counts for C's provider too.
	if r.Waiting.All.Requests != 3 || r.Waiting.All.Offered != 1 {
		t.Errorf("waiting time: %+v", r.Waiting.All)
	}
	_, err = f.svc.Report(ctx, owner, filter(t, f, map[string]string{"facility": f.fac["A"].String()}), report.Options{})
	if !errors.Is(err, report.ErrFacility) {
		t.Errorf("another provider's facility: %v", err)
	}
}

// The children whose desired start has passed without a place, with names only when
// asked for, and then audited with their ids.
func TestUnservedList(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	worker := f.caller(t, "case_worker", nil)
	list, err := f.svc.UnservedList(ctx, worker, filter(t, f, nil), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Request != f.request["r2"] || list[1].Request != f.request["r3"] {
		t.Fatalf("unserved: %+v", list)
	}
	r2, r3 := list[0], list[1]
	if r2.DaysOverdue != 80 || r2.District != "ost" || r2.Facility != f.fac["C"] || r2.Band != "krippe" || r2.Tagespflege || r2.FirstName != "" || r2.Birth != nil {
		t.Errorf("r2: %+v", r2)
	}
	if r3.DaysOverdue != 5 || r3.District != "nord" || !r3.Tagespflege || r3.CareHours != 40 {
		t.Errorf("r3: %+v", r3)
	}
	var audited int
	count := func() int {
		t.Helper()
		if err := f.db.NewRaw(`SELECT count(*) FROM audit_event WHERE tenant_id = ? AND action = ?`, f.t.ID, report.ActionUnservedListed).
			Scan(ctx, &audited); err != nil {
			t.Fatal(err)
		}
		return audited
	}
	if count() != 0 {
		t.Errorf("a list without names is audited")
	}
	list, err = f.svc.UnservedList(ctx, worker, filter(t, f, map[string]string{"district": "ost"}), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].FirstName != "Kind-k9" || list[0].Birth == nil || list[0].Birth.String() != "2025-01-20" {
		t.Fatalf("named list: %+v", list)
	}
	var ids []uuid.UUID
	if err := f.db.NewRaw(`SELECT unnest(child_ids) FROM audit_event WHERE tenant_id = ? AND action = ?`, f.t.ID, report.ActionUnservedListed).
		Scan(ctx, &ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != f.child["k9"] {
		t.Errorf("audited children %v, want k9", ids)
	}
}

// Out-of-town tickets against the quota, per Kita year the months touch.
func TestTicketsAgainstQuota(t *testing.T) {
	t.Parallel()
	db, _ := tenanttest.DB(t)
	reg := tenanttest.Registry(t, db)
	lei := tenanttest.Get(t, reg, "leipzig")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
	fam := uuid.New()
	exec(`INSERT INTO family (tenant_id, id) VALUES (?, ?)`, lei.ID, fam)
	for i, status := range []string{"granted", "granted", "requested", "refused"} {
		child := uuid.New()
		exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, ?, 'Ticket', '2025-05-05')`,
			lei.ID, child, fam, "K"+string(rune('a'+i)))
		exec(`INSERT INTO access_ticket (tenant_id, id, family_id, child_id, kita_year, age_band, reason, status, valid_until)
			VALUES (?, ?, ?, ?, '2026-08-01', 'krippe', 'Umzug', ?, '2027-06-01')`, lei.ID, uuid.New(), fam, child, status)
	}
	id := uuid.New()
	exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'staff', 'cw@leipzig.test', 'pending')`, lei.ID, id)
	exec(`INSERT INTO staff_role (tenant_id, id, account_id, role) VALUES (?, ?, ?, 'case_worker')`, lei.ID, uuid.New(), id)
	c := auth.Caller{Tenant: lei, Principal: &auth.Principal{Kind: auth.KindStaff, ID: id, TenantID: lei.ID, MFADone: true}}
	flt, err := report.ParseFilter(func(k string) string { return map[string]string{"from": "2027-01", "months": "12"}[k] }, lei.Rules, date.In(now))
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.NewService(db, clock.NewManual(now)).Report(context.Background(), c, flt, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.TicketsEnabled || len(r.Tickets) != 6 {
		t.Fatalf("tickets: %+v", r.Tickets)
	}
	k := r.Tickets[0]
	if k.KitaYear.String() != "2026-08-01" || k.Band != "krippe" || k.Quota != 150 || k.Granted != 2 || k.Requested != 1 || k.Left != 148 {
		t.Errorf("krippe 2026/27: %+v", k)
	}
	if n := r.Tickets[3]; n.KitaYear.String() != "2027-08-01" || n.Granted != 0 || n.Left != n.Quota {
		t.Errorf("next year: %+v", n)
	}
}

func TestParseFilterRefusesBadInput(t *testing.T) {
	t.Parallel()
	db, _ := tenanttest.DB(t)
	kempten := tenanttest.Get(t, tenanttest.Registry(t, db), "kempten")
	today := date.In(now)
	for _, c := range []struct {
		q    map[string]string
		want error
	}{
		{map[string]string{"district": "nordost"}, report.ErrDistrict}, // Leipzig's, not Kempten's
		{map[string]string{"facility": "nonsense"}, report.ErrFacility},
		{map[string]string{"months": "37"}, report.ErrMonths},
		{map[string]string{"months": "0"}, report.ErrMonths},
		{map[string]string{"months": "drei"}, report.ErrMonths},
		{map[string]string{"from": "2027-13"}, report.ErrFrom},
		{map[string]string{"from": "gestern"}, report.ErrFrom},
		{map[string]string{"from": "1900-01"}, report.ErrFromRange},
		{map[string]string{"from": "2031-01"}, report.ErrFromRange},
		{map[string]string{"band": "schule"}, report.ErrBand},
		{map[string]string{"hours": "33"}, report.ErrHours},
		{map[string]string{"provider_kind": "pirates"}, report.ErrProviderKind},
	} {
		_, err := report.ParseFilter(func(k string) string { return c.q[k] }, kempten.Rules, today)
		if !isErr(err, c.want) {
			t.Errorf("%v: %v, want %v", c.q, err, c.want)
		}
	}
	f, err := report.ParseFilter(func(k string) string {
		return map[string]string{"from": "2027-03-15", "months": "12", "band": "krippe", "hours": "35", "district": "ost"}[k]
	}, kempten.Rules, today)
	if err != nil || f.From.String() != "2027-03-01" || f.Months != 12 || f.End().String() != "2028-03-01" {
		t.Errorf("good filter: %+v %v", f, err)
	}
}

// isErr tells whether err is want or a list of field errors holding want.
func isErr(err, want error) bool {
	var list apperr.List
	if errors.As(err, &list) {
		for _, e := range list {
			if errors.Is(e, want) {
				return true
			}
		}
	}
	return errors.Is(err, want)
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{[]float64{7}, 50, 7},
		{[]float64{30, 10}, 50, 20},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9.1},
		{[]float64{5, 10, 20, 30}, 90, 27},
	} {
		if got := report.Percentile(c.xs, c.p); got == nil || *got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.xs, c.p, deref(got), c.want)
		}
	}
	if report.Percentile(nil, 50) != nil {
		t.Error("no values, yet a percentile")
	}
}
