package demo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// seedDay is a fixed "today" so the tests do not change with the calendar.
var seedDay = date.MustParse("2026-11-21")

// setup returns a fresh database with the tenants synced and their registry loaded.
func setup(t testing.TB) (*bun.DB, *tenant.Registry) {
	t.Helper()
	db, _ := tenanttest.DB(t)
	return db, tenanttest.Registry(t, db)
}

func mustTenant(t testing.TB, reg *tenant.Registry, slug string) *tenant.Tenant {
	t.Helper()
	return tenanttest.Get(t, reg, slug)
}

func mustSeed(t testing.TB, db bun.IDB, tn *tenant.Tenant, today date.Date) Stats {
	t.Helper()
	st, err := Seed(context.Background(), db, tn, today)
	if err != nil {
		t.Fatalf("seed %s: %v", tn.Slug, err)
	}
	return st
}

func queryInt(t testing.TB, db bun.IDB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

const isTagespflege = "f.type IN ('tagespflege', 'grosstagespflege')"

func TestSeedCounts(t *testing.T) {
	t.Parallel()
	db, reg := setup(t)

	// Radius around the rules' map centre. Amt Neuhaus lies east of the Elbe, about 35 km
	// from Lüneburg's centre, so the Landkreis gets more room.
	radiusKm := map[string]float64{"herzberg": 20, "leipzig": 20, "kempten": 20, "bochum": 20, "lueneburg": 40}

	for _, slug := range Cities() {
		tn := mustTenant(t, reg, slug)
		st := mustSeed(t, db, tn, seedDay)
		t.Logf("%s: %+v", slug, st)
		cal := newCalendar(tn.Rules)
		start := cal.YearStart(seedDay)

		count := func(where string) int {
			return queryInt(t, db, "SELECT count(*) FROM facility f WHERE f.tenant_id = ? AND NOT f.brokered AND "+where, tn.ID)
		}
		kitas, tagespflege := count("NOT "+isTagespflege), count(isTagespflege)
		kitaPlaces := queryInt(t, db, `SELECT coalesce(sum(gc.places), 0) FROM group_capacity gc
			JOIN facility_group g ON g.tenant_id = gc.tenant_id AND g.id = gc.group_id
			JOIN facility f ON f.tenant_id = g.tenant_id AND f.id = g.facility_id
			WHERE gc.tenant_id = ? AND NOT `+isTagespflege+` AND gc.period && daterange(?::date, ?::date)`,
			tn.ID, start, start.AddMonths(12))
		childminders := queryInt(t, db, "SELECT count(*) FROM provider WHERE tenant_id = ? AND kind = 'childminder'", tn.ID)
		emptyDistricts := queryInt(t, db, `SELECT count(*) FROM district d WHERE d.tenant_id = ?
			AND NOT EXISTS (SELECT 1 FROM facility f WHERE f.tenant_id = d.tenant_id AND f.district_key = d.key)`, tn.ID)

		if st.Facilities != kitas+tagespflege || st.Contracts == 0 || st.Children != st.Contracts || st.Families != st.Children {
			t.Errorf("%s: inconsistent stats %+v", slug, st)
		}
		within := func(what string, lo, hi, got int) {
			if got < lo || got > hi {
				t.Errorf("%s: %s = %d, want %d–%d", slug, what, got, lo, hi)
			}
		}
		switch slug {
		case "herzberg":
			within("facilities", 7, 7, st.Facilities)
			within("places", 817, 903, kitaPlaces)
			within("Kindertagespflege", 0, 0, tagespflege)
			for _, typ := range []string{typeKrippe, typeKita, typeHort} {
				within(typ+" facilities", 1, 7, count(fmt.Sprintf("f.type = '%s'", typ)))
			}
		case "bochum":
			within("Kitas", 190, 190, kitas)
			within("Kita places", 11435, 11435, kitaPlaces)
			within("Kindertagespflege", 610, 610, tagespflege)
			within("childminders", 610, 610, childminders)
			within("Großtagespflege", 1, 300, count("f.type = 'grosstagespflege'"))
			within("districts without facilities", 0, 0, emptyDistricts)
			// "Kindertagespflege in district X": one desk per district, none elsewhere.
			within("district desks", len(tn.Rules.Districts), len(tn.Rules.Districts), queryInt(t, db,
				"SELECT count(DISTINCT district_key) FROM facility WHERE tenant_id = ? AND brokered", tn.ID))
		case "leipzig":
			within("Kitas", 310, 330, kitas)
			within("Kita places", 24700, 27300, kitaPlaces)
			within("Kindertagespflege", 70, 90, tagespflege)
			within("Horte", 1, 200, count("f.type = 'hort'"))
			within("districts without facilities", 0, 0, emptyDistricts)
		case "kempten":
			within("Kitas", 45, 55, kitas)
			within("Kita places", 3201, 3399, kitaPlaces)
			within("Kindertagespflege", 25, 35, tagespflege)
			within("districts without facilities", 0, 0, emptyDistricts)
		case "lueneburg":
			within("Kitas", 45, 55, kitas)
			within("Kindertagespflege", 45, 55, tagespflege)
			within("Großtagespflege", 5, 40, count("f.type = 'grosstagespflege'"))
			within("municipalities with Kitas", 5, 11,
				queryInt(t, db, "SELECT count(DISTINCT municipality_key) FROM facility f WHERE f.tenant_id = ? AND NOT "+isTagespflege, tn.ID))
		default:
			t.Errorf("no expectations for %s", slug)
		}

		// Every facility lies in a district of its own municipality.
		within("facilities without a valid district", 0, 0, queryInt(t, db, `SELECT count(*) FROM facility f
			LEFT JOIN district d ON d.tenant_id = f.tenant_id AND d.key = f.district_key
			WHERE f.tenant_id = ? AND (d.key IS NULL OR d.municipality_key <> f.municipality_key)`, tn.ID))
		// Kindertagespflege keeps the Land's limits.
		within("Kindertagespflege over the limit", 0, 0, queryInt(t, db, `SELECT count(*) FROM group_capacity gc
			JOIN facility_group g ON g.tenant_id = gc.tenant_id AND g.id = gc.group_id
			JOIN facility f ON f.tenant_id = g.tenant_id AND f.id = g.facility_id
			WHERE gc.tenant_id = ? AND ((f.type = 'tagespflege' AND gc.places > ?) OR (f.type = 'grosstagespflege' AND gc.places > ?))`,
			tn.ID, tn.Rules.FacilityLimits.TagespflegeMaxPlaces, tn.Rules.FacilityLimits.GrosstagespflegeMaxPlaces))
		// Opening hours are a JSON object with the weekdays, opening 6–8, closing 14–18.
		within("facilities with odd opening hours", 0, 0, queryInt(t, db, `SELECT count(*) FROM facility
			WHERE tenant_id = ? AND NOT (jsonb_typeof(opening_hours) = 'object'
			  AND jsonb_exists_all(opening_hours, array['mon', 'tue', 'wed', 'thu', 'fri'])
			  AND NOT jsonb_exists_any(opening_hours, array['sat', 'sun'])
			  AND opening_hours->'mon'->0->>0 BETWEEN '06:00' AND '08:00'
			  AND opening_hours->'mon'->0->>1 BETWEEN '14:00' AND '18:00')`, tn.ID))
		within("facilities without description or mail", 0, 0, queryInt(t, db, `SELECT count(*) FROM facility
			WHERE tenant_id = ? AND (description = '' OR email NOT LIKE '%.kitaportal.example')`, tn.ID))
		// Everything lies near the city.
		m := tn.Rules.Map
		for _, table := range []string{"postcode", "street", "facility"} {
			far := queryInt(t, db, fmt.Sprintf(`SELECT count(*) FROM %s
				WHERE tenant_id = ? AND earth_distance(ll_to_earth(lat, lon), ll_to_earth(?, ?)) > ?`, table),
				tn.ID, m.CenterLat, m.CenterLon, radiusKm[slug]*1000)
			within(table+"s farther than "+fmt.Sprint(radiusKm[slug])+" km", 0, 0, far)
		}
		// Families live in the tenant's area, on a street of their postcode.
		within("families off the street list", 0, 0, queryInt(t, db, `SELECT count(*) FROM family fa
			WHERE fa.tenant_id = ? AND NOT EXISTS (SELECT 1 FROM street s
			  WHERE s.tenant_id = fa.tenant_id AND s.plz = fa.plz AND s.name = fa.street AND s.municipality_key = fa.municipality_key)`, tn.ID))
		// The search shows blue and yellow houses this month: the expected availability
		// is computed with the data, and some facilities are full while others are not.
		smallest := tn.Rules.CareScopes[0]
		for _, free := range []string{"free > 0", "free <= 0"} {
			within("Krippe facilities with "+free+" this month", 1, 10000, queryInt(t, db, `SELECT count(*) FROM availability
				WHERE tenant_id = ? AND age_band = 'krippe' AND care_hours = ? AND month = ? AND `+free,
				tn.ID, smallest, seedDay.FirstOfMonth()))
		}
		within("facilities without availability", 0, 0, queryInt(t, db, `SELECT count(*) FROM facility f
			WHERE f.tenant_id = ? AND NOT f.brokered AND NOT EXISTS (SELECT 1 FROM availability a WHERE a.tenant_id = f.tenant_id AND a.facility_id = f.id)`, tn.ID))
		if slug != "bochum" {
			within("district desks", 0, 0, queryInt(t, db, "SELECT count(*) FROM facility WHERE tenant_id = ? AND brokered", tn.ID))
		}
	}
}

// fingerprintTables lists the seeded tables with their primary key order.
var fingerprintTables = []struct{ table, order string }{
	{"postcode", "plz"},
	{"street", "plz, name"},
	{"provider", "id"},
	{"facility", "id"},
	{"facility_group", "id"},
	{"group_capacity", "group_id, valid_from"},
	{"family", "id"},
	{"child", "id"},
	{"contract", "id"},
}

// fingerprint is the row count and an md5 over every column of every row, per table.
func fingerprint(t testing.TB, db bun.IDB, tn *tenant.Tenant) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ft := range fingerprintTables {
		var n int
		var sum string
		q := fmt.Sprintf(`SELECT count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY %s)), '')
			FROM %s x WHERE tenant_id = ?`, ft.order, ft.table)
		if err := db.QueryRowContext(context.Background(), q, tn.ID).Scan(&n, &sum); err != nil {
			t.Fatalf("fingerprint %s: %v", ft.table, err)
		}
		if n == 0 {
			t.Errorf("%s: table %s is empty", tn.Slug, ft.table)
		}
		out[ft.table] = fmt.Sprintf("%d:%s", n, sum)
	}
	return out
}

func compareFingerprints(t *testing.T, what string, a, b map[string]string) {
	t.Helper()
	for _, ft := range fingerprintTables {
		if a[ft.table] != b[ft.table] {
			t.Errorf("%s: table %s differs: %s vs %s", what, ft.table, a[ft.table], b[ft.table])
		}
	}
}

func TestSeedIsIdempotent(t *testing.T) {
	t.Parallel()
	db, reg := setup(t)
	for _, slug := range Cities() {
		tn := mustTenant(t, reg, slug)
		start := time.Now()
		first := mustSeed(t, db, tn, seedDay)
		took := time.Since(start)
		before := fingerprint(t, db, tn)

		start = time.Now()
		second := mustSeed(t, db, tn, seedDay)
		t.Logf("%s: first run %s, second run %s", slug, took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		if first != second {
			t.Errorf("%s: stats changed: %+v then %+v", slug, first, second)
		}
		compareFingerprints(t, slug+" seeded twice", before, fingerprint(t, db, tn))
	}
}

// TestSeedIsDeterministic seeds two fresh databases. The three smaller cities cover every
// path of the generator (one postcode, districts by location, a Landkreis, Horte, groups
// opening in January, Kindertagespflege); TestBuildIsDeterministic compares the generated
// rows of all five cities without a database.
func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	dbA, regA := setup(t)
	dbB, regB := setup(t)
	for _, slug := range []string{"herzberg", "kempten", "lueneburg"} {
		a, b := mustTenant(t, regA, slug), mustTenant(t, regB, slug)
		if a.ID != b.ID {
			t.Fatalf("%s: the test databases disagree on the tenant id", slug)
		}
		mustSeed(t, dbA, a, seedDay)
		mustSeed(t, dbB, b, seedDay)
		compareFingerprints(t, slug+" in two databases", fingerprint(t, dbA, a), fingerprint(t, dbB, b))
	}
}

// TestSeedOccupancy seeds in March, after the January group openings, and checks that the
// places are mostly but not completely taken, that some facilities are full and others
// have room, that Krippe places free up for the next Kita year, and that every child in
// the database fits its group.
func TestSeedOccupancy(t *testing.T) {
	t.Parallel()
	db, reg := setup(t)
	today := date.MustParse("2027-03-15")
	for _, slug := range Cities() {
		tn := mustTenant(t, reg, slug)
		mustSeed(t, db, tn, today)

		var places, children, withRoom, full int
		err := db.QueryRowContext(context.Background(), `
			WITH cap AS (
				SELECT g.facility_id, sum(gc.places) AS places
				FROM group_capacity gc JOIN facility_group g ON g.tenant_id = gc.tenant_id AND g.id = gc.group_id
				WHERE gc.tenant_id = ?0 AND gc.period @> ?1::date GROUP BY g.facility_id),
			occ AS (
				SELECT facility_id, count(*) AS children FROM contract
				WHERE tenant_id = ?0 AND status <> 'cancelled' AND period @> ?1::date GROUP BY facility_id)
			SELECT coalesce(sum(cap.places), 0), coalesce(sum(occ.children), 0),
				count(*) FILTER (WHERE coalesce(occ.children, 0) < cap.places),
				count(*) FILTER (WHERE coalesce(occ.children, 0) >= cap.places)
			FROM cap LEFT JOIN occ USING (facility_id)`, tn.ID, today).Scan(&places, &children, &withRoom, &full)
		if err != nil {
			t.Fatal(err)
		}
		rate := float64(children) / float64(places)
		t.Logf("%s: %d of %d places taken (%.1f %%), %d facilities with room, %d full", slug, children, places, 100*rate, withRoom, full)
		if rate < 0.85 || rate > 0.97 {
			t.Errorf("%s: occupancy %.3f, want 0.85–0.97", slug, rate)
		}
		if withRoom == 0 || full == 0 {
			t.Errorf("%s: %d facilities with room and %d full, want some of each", slug, withRoom, full)
		}

		// Children leave at three or at school entry: the next Kita year has free Krippe places.
		cal := newCalendar(tn.Rules)
		next := cal.YearStart(today).AddMonths(12)
		krippeFree := queryInt(t, db, `SELECT
			(SELECT coalesce(sum(gc.places), 0) FROM group_capacity gc
			   JOIN facility_group g ON g.tenant_id = gc.tenant_id AND g.id = gc.group_id
			  WHERE gc.tenant_id = ?0 AND g.age_band = 'krippe' AND gc.period @> ?1::date)
			- (SELECT count(*) FROM contract c JOIN facility_group g ON g.tenant_id = c.tenant_id AND g.id = c.group_id
			  WHERE c.tenant_id = ?0 AND g.age_band = 'krippe' AND c.period @> ?1::date)`, tn.ID, next)
		if krippeFree <= 0 {
			t.Errorf("%s: no free Krippe places on %s", slug, next)
		}

		checkChildrenFit(t, db, tn, cal, today)
	}
}

// checkChildrenFit reads every contract back and checks it against the tenant's rules.
func checkChildrenFit(t *testing.T, db bun.IDB, tn *tenant.Tenant, cal calendar, today date.Date) {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `
		SELECT ch.birth_date, g.age_band, g.care_hours, f.type, f.age_min_months, f.age_max_months,
		       c.care_hours, c.start_date, c.end_date, c.source
		FROM contract c
		JOIN child ch ON ch.tenant_id = c.tenant_id AND ch.id = c.child_id
		JOIN facility_group g ON g.tenant_id = c.tenant_id AND g.id = c.group_id AND g.facility_id = c.facility_id
		JOIN facility f ON f.tenant_id = c.tenant_id AND f.id = c.facility_id
		WHERE c.tenant_id = ?`, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			birth, start, end                 date.Date
			band, typ, source                 string
			groupHours, hours, ageMin, ageMax int
		)
		if err := rows.Scan(&birth, &band, &groupHours, &typ, &ageMin, &ageMax, &hours, &start, &end, &source); err != nil {
			t.Fatal(err)
		}
		n++
		b, ok := tn.Rules.AgeBand(band)
		switch {
		case !ok:
			t.Errorf("%s: group band %q not in the rules", tn.Slug, band)
		case !cal.Fits(b, birth, today):
			t.Errorf("%s: child born %s does not fit band %s on %s", tn.Slug, birth, band, today)
		case birth.MonthsUntil(today) < ageMin || birth.MonthsUntil(today) >= ageMax:
			t.Errorf("%s: child born %s outside the %s's ages %d–%d", tn.Slug, birth, typ, ageMin, ageMax)
		case start.After(today) || !end.After(today) || !end.Equal(cal.plannedEnd(typ, birth)):
			t.Errorf("%s: %s contract %s–%s of a child born %s", tn.Slug, typ, start, end, birth)
		case hours > groupHours || source != "demo":
			t.Errorf("%s: contract of %d hours (%s) in a group of %d", tn.Slug, hours, source, groupHours)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("%s: no contracts", tn.Slug)
	}
}

func TestSeedRefusesUnknownCity(t *testing.T) {
	t.Parallel()
	rules := loadRules(t)
	atlantis := &tenant.Tenant{Slug: "atlantis", Rules: rules["bochum"]}
	if _, err := Seed(context.Background(), nil, atlantis, seedDay); err == nil {
		t.Error("Seed(atlantis): want an error")
	}
	if _, err := Seed(context.Background(), nil, &tenant.Tenant{Slug: "bochum"}, seedDay); err == nil {
		t.Error("Seed without rules: want an error")
	}
}

// BenchmarkSeedAll seeds all five cities into a fresh database per iteration.
func BenchmarkSeedAll(b *testing.B) {
	for range b.N {
		b.StopTimer()
		db, reg := setup(b)
		b.StartTimer()
		for _, slug := range Cities() {
			mustSeed(b, db, mustTenant(b, reg, slug), seedDay)
		}
	}
}
