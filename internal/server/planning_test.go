package server_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/report"
)

// The demand planning through the real router, on the fixed test day (21 November 2026),
// in Kempten: the city fixture (two Kitas outside the districts, a Tagespflege in Nord,
// a kindergarten child under contract at each) with places — Kita A 20 kindergarten
// places, the Tagespflege 5 Krippe places — and one Krippe child waiting at the
// Tagespflege since 1 October: unserved.
type planningCity struct {
	*city
	waiting uuid.UUID // the waiting child
	request uuid.UUID
}

func (b *bundle) planningCity(t *testing.T) *planningCity {
	t.Helper()
	c := &planningCity{city: b.city(t, "kempten"), waiting: uuid.New(), request: uuid.New()}
	tn := c.t.ID
	group := func(facility uuid.UUID, band string, hours, places int) {
		g := uuid.New()
		b.exec(`INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours) VALUES (?, ?, ?, ?, ?, ?)`, tn, g, facility, "Gruppe "+band, band, hours)
		b.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places) VALUES (?, ?, '2024-09-01', ?)`, tn, g, places)
	}
	group(c.facilities[0], "kindergarten", 45, 20)
	group(c.tagespflege, "krippe", 40, 5)
	b.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, ?, ?, '2025-05-05')`,
		tn, c.waiting, c.families[0], "Wartekind"+c.Marker, "Familie"+c.Marker)
	b.exec(`INSERT INTO application (tenant_id, id, child_id, reference, status, start_date, start_period, care_hours, submitted_at)
		VALUES (?, ?, ?, 'KEM-2026-000777', 'submitted', '2026-10-01', '2026-01-01', 40, '2026-06-01 10:00+02')`, tn, c.request, c.waiting)
	b.exec(`INSERT INTO application_choice (tenant_id, application_id, rank, facility_id, status) VALUES (?, ?, 1, ?, 'pending')`, tn, c.request, c.tagespflege)
	return c
}

func setupPlanning(t *testing.T) (*bundle, *planningCity) {
	t.Helper()
	b := setupWith(t, nil, clock.NewManual(testNow))
	return b, b.planningCity(t)
}

func districtSeries(t *testing.T, body map[string]any, district, band string) []any {
	t.Helper()
	ds, _ := body["districts"].([]any)
	for _, d := range ds {
		dm := d.(map[string]any)
		if dm["key"] != district {
			continue
		}
		for _, s := range dm["bands"].([]any) {
			sm := s.(map[string]any)
			if sm["band"] == band {
				return sm["months"].([]any)
			}
		}
	}
	t.Fatalf("no %s/%s in %s", district, band, jsonString(body)[:min(2000, len(jsonString(body)))])
	return nil
}

func TestPlanningPageChartsTablesAndLanguages(t *testing.T) {
	t.Parallel()
	b, c := setupPlanning(t)
	host := "kempten.localhost"
	admin := b.staff(t, c.city, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	br := b.browser(host)
	br.staffLogin(t, admin)

	home := br.get(t, "/staff")
	mustContain(t, home, `href="/staff/planning"`, "Bedarfsplanung")

	r := br.get(t, "/staff/planning?months=12")
	if r.status != 200 {
		t.Fatalf("planning page: %d %.500s", r.status, r.body)
	}
	mustContain(t, r, "<h1>Bedarfsplanung</h1>", `<svg xmlns="http://www.w3.org/2000/svg" class="chart"`, `role="img"`, "<title id=\"chart-overview-title\">",
		"Deckungsgrad je Planungsbezirk", "Kempten-Nord", "Ohne Planungsbezirk", "<table", "Zahlen der Grafik", "Wartezeit bis zum Angebot",
		"auf einen Platz warten: 1", `href="/staff/planning/unserved?months=12"`, `/staff/planning.xlsx?months=12`)
	// No script and nothing from elsewhere: the charts are the page's own SVG.
	if strings.Contains(r.body, "<canvas") || strings.Contains(r.body, "cdn.") {
		t.Error("the planning page loads charts from elsewhere")
	}
	en := br.do(t, "GET", "/staff/planning?months=12", nil, "Accept-Language", "en")
	mustContain(t, en, "<h1>Demand planning</h1>", "Coverage per planning district", "Places and need in Kempten-Nord", "No planning district")

	// The drill-down: a district lists its facilities, each a link to its own figures.
	r = br.get(t, "/staff/planning?district=nord")
	mustContain(t, r, "Tagespflege "+c.Marker, "facility="+c.tagespflege.String())
	r = br.get(t, "/staff/planning?facility="+c.tagespflege.String())
	mustContain(t, r, "Ausgewählt: Tagespflege "+c.Marker)

	// The named list, audited with the child.
	r = br.get(t, "/staff/planning/unserved")
	mustContain(t, r, "Familie"+c.Marker+", Wartekind"+c.Marker, "KEM-2026-000777", "51 Tage")
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE action = ? AND ? = ANY(child_ids)`, report.ActionUnservedListed, c.waiting); n != 1 {
		t.Errorf("unserved list audited %d times with the child", n)
	}
}

func TestPlanningAPIFiguresAndScope(t *testing.T) {
	t.Parallel()
	b, c := setupPlanning(t)
	host := "kempten.localhost"
	a := b.api(host)
	a.staffLogin(t, b.staff(t, c.city, "jugendamt", authz.RoleCaseWorker, uuid.Nil, ""))
	status, body := a.call(t, "GET", "/api/v1/staff/planning?from=2026-11&months=3", nil)
	if status != 200 || body["city_wide"] != true {
		t.Fatalf("planning API: %d %v", status, body)
	}
	nov := districtSeries(t, body, "nord", "krippe")[0].(map[string]any)
	tp := nov["tagespflege"].(map[string]any)
	if nov["places"] != 5.0 || nov["waiting"] != 1.0 || nov["contracted"] != 0.0 || nov["coverage"] != 5.0 || tp["places"] != 5.0 {
		t.Errorf("Nord Krippe November: %v", nov)
	}
	// The three children under contract are of kindergarten age; two are at the Kitas
	// outside the districts, where Kita A has 20 places.
	out := districtSeries(t, body, "", "kindergarten")[0].(map[string]any)
	if out["places"] != 20.0 || out["contracted"] != 2.0 || out["free"] != 18.0 {
		t.Errorf("outside the districts, Kindergarten: %v", out)
	}
	if body["unserved"] != 1.0 {
		t.Errorf("unserved: %v", body["unserved"])
	}
	status, body = a.call(t, "GET", "/api/v1/staff/planning/unserved", nil)
	items, _ := body["items"].([]any)
	if status != 200 || len(items) != 1 || items[0].(map[string]any)["first_name"] != "Wartekind"+c.Marker || items[0].(map[string]any)["days_overdue"] != 51.0 {
		t.Fatalf("unserved API: %d %v", status, body)
	}

	// A provider admin sees their own facilities only: provider 1 has Kita B, no waiting
	// child, nothing in Nord; provider 0's facility is "not found" for them.
	p1 := b.api(host)
	p1.staffLogin(t, b.staff(t, c.city, "traeger", authz.RoleProvider, c.providers[1], ""))
	status, body = p1.call(t, "GET", "/api/v1/staff/planning?months=3", nil)
	ds, _ := body["districts"].([]any)
	if status != 200 || body["city_wide"] != false || len(ds) != 1 || ds[0].(map[string]any)["key"] != "" || body["unserved"] != 0.0 {
		t.Fatalf("provider admin: %d %v", status, body)
	}
	if status, body = p1.call(t, "GET", "/api/v1/staff/planning?facility="+c.tagespflege.String(), nil); status != 404 || errCode(body) != "planning_facility_unknown" {
		t.Errorf("another provider's facility: %d %v", status, body)
	}
	status, body = p1.call(t, "GET", "/api/v1/staff/planning/unserved", nil)
	if items, _ := body["items"].([]any); status != 200 || len(items) != 0 {
		t.Errorf("provider admin's unserved: %d %v", status, body)
	}

	// Another city's facility and district are unknown here.
	other := b.city(t, "leipzig")
	if status, body = a.call(t, "GET", "/api/v1/staff/planning?facility="+other.facilities[0].String(), nil); status != 404 {
		t.Errorf("Leipzig's facility in Kempten: %d %v", status, body)
	}
	if status, body = a.call(t, "GET", "/api/v1/staff/planning?district=nordost", nil); status != 404 || errCode(body) != "planning_district_unknown" {
		t.Errorf("Leipzig's district in Kempten: %d %v", status, body)
	}
	// Kempten's token is no key to Leipzig's figures.
	foreign := &api{b: b, host: "leipzig.localhost", token: a.token}
	if status, _ = foreign.call(t, "GET", "/api/v1/staff/planning", nil); status != 401 && status != 403 && status != 404 {
		t.Errorf("Kempten's token on Leipzig: %d", status)
	}
}

func TestPlanningBadInputAndRoles(t *testing.T) {
	t.Parallel()
	b, c := setupPlanning(t)
	host := "kempten.localhost"
	a := b.api(host)
	a.staffLogin(t, b.staff(t, c.city, "admin", authz.RoleTenantAdmin, uuid.Nil, ""))
	for _, q := range []struct{ query, field, de string }{
		{"months=37", "months", "zwischen 1 und 36 Monaten"},
		{"months=0", "months", "zwischen 1 und 36 Monaten"},
		{"from=letzte-woche", "from", "im Format JJJJ-MM"},
		{"from=2027-02-30", "from", "im Format JJJJ-MM"},
		{"from=1999-01", "from", "höchstens 36 Monate"},
		{"band=vorschule", "band", "Altersgruppe gibt es"},
		{"hours=99", "hours", "20, 25, 30, 35, 40, 45 Stunden"},
		{"provider_kind=x", "provider_kind", "Trägerart"},
	} {
		status, body := a.call(t, "GET", "/api/v1/staff/planning?"+q.query, nil)
		if status != 422 || !strings.Contains(messageOf(body, q.field), q.de) {
			t.Errorf("%s: %d %q %v", q.query, status, messageOf(body, q.field), body)
		}
	}
	a.lang = "en"
	status, body := a.call(t, "GET", "/api/v1/staff/planning?months=abc&band=x", nil)
	if status != 422 || messageOf(body, "months") != "Please choose between 1 and 36 months." || messageOf(body, "band") == "" {
		t.Errorf("English errors: %d %v", status, body)
	}
	status, body = a.call(t, "GET", "/api/v1/staff/planning?district=atlantis", nil)
	if status != 404 || !strings.Contains(jsonString(body), "This planning district does not exist") {
		t.Errorf("unknown district: %d %v", status, body)
	}
	// The page shows the problem next to its field, in the user's language.
	admin := b.staff(t, c.city, "admin2", authz.RoleTenantAdmin, uuid.Nil, "")
	br := b.browser(host)
	br.staffLogin(t, admin)
	r := br.get(t, "/staff/planning?months=99")
	if r.status != 422 || !strings.Contains(r.body, "Bitte zwischen 1 und 36 Monaten wählen.") || strings.Contains(r.body, "<svg") {
		t.Errorf("page with a bad span: %d %.300s", r.status, r.body)
	}
	if r = br.get(t, "/staff/planning?district=atlantis"); r.status != 404 || !strings.Contains(r.body, "Diesen Planungsbezirk gibt es in dieser Stadt nicht.") {
		t.Errorf("page with another district: %d", r.status)
	}

	// Facility staff and facility leads have no Bedarfsplanung: 403, and no link.
	worker := b.staff(t, c.city, "fachkraft", authz.RoleStaff, c.facilities[0], "")
	w := b.api(host)
	w.staffLogin(t, worker)
	for _, path := range []string{"/api/v1/staff/planning", "/api/v1/staff/planning/unserved"} {
		if status, body := w.call(t, "GET", path, nil); status != 403 {
			t.Errorf("facility staff %s: %d %v", path, status, body)
		}
	}
	wb := b.browser(host)
	wb.staffLogin(t, worker)
	if r := wb.get(t, "/staff/planning"); r.status != 403 || !strings.Contains(r.body, "Berechtigung") {
		t.Errorf("facility staff page: %d", r.status)
	}
	if r := wb.get(t, "/staff/planning.xlsx"); r.status != 403 {
		t.Errorf("facility staff export: %d", r.status)
	}
	if strings.Contains(wb.get(t, "/staff").body, `href="/staff/planning"`) {
		t.Error("facility staff see the Bedarfsplanung link")
	}
}

func TestPlanningExportsOpen(t *testing.T) {
	t.Parallel()
	b, c := setupPlanning(t)
	host := "kempten.localhost"
	br := b.browser(host)
	br.staffLogin(t, b.staff(t, c.city, "admin", authz.RoleTenantAdmin, uuid.Nil, ""))

	r := br.get(t, "/staff/planning.csv?from=2026-11&months=2")
	if r.status != 200 || !strings.HasPrefix(r.body, "\xEF\xBB\xBFdistrict;district_name;band;care;month;demand;waiting;places;contracted;offered;free;coverage\r\n") ||
		!strings.Contains(r.body, "nord;Kempten-Nord;krippe;tagespflege;2026-11;0;1;5;0;0;5;5,000\r\n") {
		t.Errorf("CSV: %d %q", r.status, r.body[:min(len(r.body), 600)])
	}
	if !strings.Contains(r.header.Get("Content-Disposition"), "bedarfsplanung.csv") {
		t.Errorf("CSV disposition: %q", r.header.Get("Content-Disposition"))
	}

	r = br.get(t, "/staff/planning.xlsx?from=2026-11&months=2")
	if r.status != 200 || r.header.Get("Content-Type") != report.XLSXType {
		t.Fatalf("xlsx: %d %q", r.status, r.header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(r.body)))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 3 || sheets[0] != "Planungsbezirke" || sheets[1] != "Einrichtungen" || sheets[2] != "Wartezeit" {
		t.Fatalf("sheets: %v", sheets)
	}
	rows, err := f.GetRows("Planungsbezirke")
	if err != nil || len(rows) < 2 {
		t.Fatalf("rows: %v %v", rows, err)
	}
	if strings.Join(rows[0][:5], "|") != "Planungsbezirk|Altersgruppe|Betreuungsform|Monat|Neuer Bedarf" {
		t.Errorf("header: %v", rows[0])
	}
	// Kempten-Nord, Krippe, November, all care: 1 waiting, 5 places, coverage 5 — numbers.
	if strings.Join(rows[1], "|") != "Kempten-Nord|Krippe (unter 3 Jahren)|Alle|2026-11|0|1|5|0|0|5|5" {
		t.Errorf("first row: %v", rows[1])
	}
	for _, cell := range []string{"F2", "G2", "K2"} {
		typ, err := f.GetCellType("Planungsbezirke", cell)
		if err != nil || (typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber) {
			t.Errorf("%s is no number: %v %v", cell, typ, err)
		}
	}
	facilities, _ := f.GetRows("Einrichtungen")
	if len(facilities) != 1+3*2 { // three facilities, two months
		t.Errorf("facility rows: %d", len(facilities))
	}
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE action = 'export.created' AND object_kind = 'planning'`); n != 2 {
		t.Errorf("exports audited: %d", n)
	}
}
