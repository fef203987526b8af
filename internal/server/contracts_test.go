package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/clock"
)

// The contracts register through the real router, on a fixed day (testNow, 21 November
// 2026).

// free is the stored availability of a facility for a band, scope and month.
func (b *bundle) free(t *testing.T, facility uuid.UUID, band string, hours int, month string) int {
	t.Helper()
	return b.count(t, `SELECT free FROM availability WHERE facility_id = ? AND age_band = ? AND care_hours = ? AND month = ?`, facility, band, hours, month)
}

func TestLeadEntersTerminatesAndChangesContracts(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(testNow))
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	group := uuid.New()
	b.exec(`INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours) VALUES (?, ?, ?, 'Spatzen', 'krippe', 45)`, k.t.ID, group, k.facilities[0])
	b.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places) VALUES (?, ?, '2024-01-01', 10)`, k.t.ID, group)
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	br := b.browser("kempten.localhost")
	br.staffLogin(t, lead)
	facility := k.facilities[0].String()
	list := br.get(t, "/staff/contracts?facility="+facility)
	mustContain(t, list, "KindA"+k.Marker)
	if strings.Contains(list.body, "KindB") {
		t.Error("a contract of another facility is listed")
	}
	if rows := b.auditRows(t, k.t.ID, "action = 'contract.listed' AND ? = ANY(child_ids)", k.children[0]); len(rows) != 1 {
		t.Errorf("listing not audited: %v", rows)
	}
	newPage := "/staff/contracts/new?facility=" + facility
	mustContain(t, br.get(t, newPage), "KindA"+k.Marker, "Spatzen")

	form := map[string]string{"facility_id": facility, "group_id": group.String(), "child": "new", "child_first_name": "Lina",
		"child_last_name": "Neumann", "child_birth_date": "10.06.2025", "guardian_first_name": "Jana", "guardian_last_name": "Neumann",
		"guardian_email": "jana@example.org", "plz": "87435", "care_hours": "35", "start_date": "2027-01-01"}
	r := br.submit(t, newPage, "/staff/contracts", form)
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/staff/contracts/") {
		t.Fatalf("new contract: %d %q\n%.800s", r.status, r.header.Get("Location"), r.body)
	}
	contractPath := strings.TrimSuffix(r.header.Get("Location"), "?done=created")
	contractID := strings.TrimPrefix(contractPath, "/staff/contracts/")
	mustContain(t, br.get(t, contractPath+"?done=created"), "Lina Neumann", "Der Vertrag ist eingetragen")
	var child uuid.UUID
	var end string
	if err := b.db.QueryRowContext(context.Background(), `SELECT child_id, end_date::text FROM contract WHERE id = ?`, contractID).Scan(&child, &end); err != nil {
		t.Fatal(err)
	}
	if end != "2031-06-10" { // the facility takes children until 72 months, before school entry
		t.Errorf("planned end %s", end)
	}
	if got := b.free(t, k.facilities[0], "krippe", 35, "2027-01-01"); got != 9 {
		t.Errorf("free places after the contract: %d, want 9", got)
	}
	if rows := b.auditRows(t, k.t.ID, "action = 'contract.created' AND ? = ANY(child_ids)", child); len(rows) != 1 {
		t.Errorf("creation not audited: %v", rows)
	}

	// The same child again, picked or typed anew; other children out of reach; broken rules.
	bad := []struct {
		change map[string]string
		status int
		want   string
	}{
		{map[string]string{"child": "known", "child_id": child.String(), "start_date": "2027-03-01"}, 422, "schon einen Betreuungsvertrag"},
		{map[string]string{"start_date": "2027-05-01"}, 422, "Ein Kind mit diesem Namen und Geburtsdatum"},
		{map[string]string{"child": "known", "child_id": k.children[1].String()}, 404, ""},
		{map[string]string{"child": "known", "child_id": bo.children[0].String()}, 404, ""},
		{map[string]string{"facility_id": k.facilities[1].String()}, 404, ""},
		{map[string]string{"facility_id": bo.facilities[0].String()}, 404, ""},
		{map[string]string{"child_first_name": "Ole", "child_birth_date": "2018-01-01"}, 422, "dafür ist die Einrichtung nicht da"},
		{map[string]string{"child_first_name": "Ole", "care_hours": "33"}, 422, "20, 25, 30, 35, 40, 45 Stunden"},
		{map[string]string{"child_first_name": "Ole", "start_date": "2020-01-01"}, 422, ""},
		{map[string]string{"child_first_name": "Ole", "child_birth_date": "2030-01-01"}, 422, "Zukunft"},
		{map[string]string{"child_first_name": "Ole", "group_id": uuid.NewString()}, 422, "Diese Gruppe gibt es in der Einrichtung nicht."},
		{map[string]string{"child_first_name": "Ole", "end_date": "2026-12-01"}, 422, "Das Ende muss nach dem Beginn liegen."},
		{map[string]string{"child_first_name": "", "guardian_last_name": ""}, 422, "Bitte ausfüllen."},
	}
	for i, tc := range bad {
		fields := merged(form, tc.change)
		r := br.submit(t, newPage, "/staff/contracts", fields)
		if r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("bad contract %d: %d, want %d %q\n%.300s", i, r.status, tc.status, tc.want, r.body)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM contract WHERE facility_id = ?`, k.facilities[0]); n != 2 {
		t.Errorf("%d contracts after the refused ones, want 2", n)
	}

	// Change of scope from June: the contract ends then and a new one continues it.
	r = br.submit(t, contractPath, contractPath+"/scope", map[string]string{"care_hours": "45", "from": "2027-06-01"})
	if r.status != 303 {
		t.Fatalf("scope: %d %.500s", r.status, r.body)
	}
	next := strings.TrimSuffix(r.header.Get("Location"), "?done=scope_changed")
	mustContain(t, br.get(t, next), "45", "Vorherige Verträge")
	if n := b.count(t, `SELECT count(*) FROM contract WHERE child_id = ? AND status <> 'cancelled'`, child); n != 2 {
		t.Errorf("%d contracts of the child after the change", n)
	}
	if got := b.free(t, k.facilities[0], "krippe", 45, "2027-07-01"); got != 9 {
		t.Errorf("free 45 h places in July: %d", got)
	}
	// A termination ends it; it cannot extend it.
	mustContain(t, br.submit(t, next, next+"/terminate", map[string]string{"end_date": "2040-01-01"}), "Eine Kündigung kann den Vertrag nur verkürzen")
	if r := br.submit(t, next, next+"/terminate", map[string]string{"end_date": "2027-10-01"}); r.status != 303 {
		t.Fatalf("terminate: %d %.400s", r.status, r.body)
	}
	if got := b.free(t, k.facilities[0], "krippe", 45, "2027-11-01"); got != 10 {
		t.Errorf("free places after the termination: %d, want 10", got)
	}
	// Cancelling the first part frees its months.
	if r := br.submit(t, contractPath, contractPath+"/cancel", nil); r.status != 303 {
		t.Fatalf("cancel: %d", r.status)
	}
	if got := b.free(t, k.facilities[0], "krippe", 35, "2027-01-01"); got != 10 {
		t.Errorf("free places after cancelling: %d, want 10", got)
	}
	mustContain(t, br.submit(t, contractPath, contractPath+"/terminate", map[string]string{"end_date": "2027-03-01"}), "storniert")

	// Someone else's contract, another city's: 404 on every route.
	var foreign, other uuid.UUID
	if err := b.db.QueryRowContext(context.Background(), `SELECT id FROM contract WHERE child_id = ?`, bo.children[0]).Scan(&foreign); err != nil {
		t.Fatal(err)
	}
	if err := b.db.QueryRowContext(context.Background(), `SELECT id FROM contract WHERE child_id = ?`, k.children[1]).Scan(&other); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uuid.UUID{foreign, other} {
		if r := br.get(t, "/staff/contracts/"+id.String()); r.status != 404 {
			t.Errorf("contract %s: %d", id, r.status)
		}
		if r := br.submit(t, contractPath, "/staff/contracts/"+id.String()+"/terminate", map[string]string{"end_date": "2027-01-01"}); r.status != 404 {
			t.Errorf("terminate %s: %d", id, r.status)
		}
	}
}

func TestContractAPIAndRoles(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(testNow))
	k := b.city(t, "kempten")
	fachkraft := b.staff(t, k, "fachkraft", authz.RoleStaff, k.facilities[0], "")
	traeger := b.staff(t, k, "traeger", authz.RoleProvider, k.providers[0], "")
	body := map[string]any{"facility_id": k.facilities[0].String(), "child_first_name": "Emil", "child_last_name": "Berg",
		"child_birth_date": "2024-02-02", "guardian_first_name": "Eva", "guardian_last_name": "Berg", "care_hours": 35, "start_date": "2027-02-01",
		"reference": "V-2027-001"}

	staffAPI := b.api("kempten.localhost")
	staffAPI.staffLogin(t, fachkraft)
	if status, _ := staffAPI.call(t, "POST", "/api/v1/staff/contracts", body); status != 403 {
		t.Errorf("facility staff entered a contract: %d", status)
	}
	if status, list := staffAPI.call(t, "GET", "/api/v1/staff/contracts", nil); status != 200 || len(list["items"].([]any)) != 1 {
		t.Errorf("facility staff reads the register: %d %v", status, list)
	}

	a := b.api("kempten.localhost")
	a.staffLogin(t, traeger)
	status, created := a.call(t, "POST", "/api/v1/staff/contracts", body)
	if status != 201 || created["child_first_name"] != "Emil" || created["reference"] != "V-2027-001" {
		t.Fatalf("create: %d %v", status, created)
	}
	id := created["id"].(string)
	// The same reference twice at the facility is refused; the database's constraint says so.
	body["child_first_name"] = "Emma"
	a.lang = "en"
	status, dup := a.call(t, "POST", "/api/v1/staff/contracts", body)
	if status != 422 || !strings.Contains(dup["error"].(map[string]any)["message"].(string), "contract number already exists") {
		t.Errorf("same reference: %d %v", status, dup)
	}
	status, moved := a.call(t, "POST", "/api/v1/staff/contracts/"+id+"/scope", map[string]any{"care_hours": 45, "from": "2027-09-01"})
	if status != 200 || moved["care_hours"] != float64(45) || moved["replaces_id"] != id || moved["reference"] != "V-2027-001" {
		t.Errorf("scope: %d %v", status, moved)
	}
	if status, e := a.call(t, "POST", "/api/v1/staff/contracts/"+id+"/terminate", map[string]any{"end_date": "31.02.2027"}); status != 422 || errCode(e) != "invalid_date" {
		t.Errorf("bad date: %d %v", status, e)
	}
	if status, _ := a.call(t, "POST", "/api/v1/staff/contracts/"+uuid.NewString()+"/terminate", map[string]any{"end_date": "31.02.2027"}); status != 404 {
		t.Errorf("unknown contract with a bad date: %d", status)
	}
	if status, e := a.call(t, "GET", "/api/v1/staff/contracts?show=soon", nil); status != 422 || errCode(e) != "validation_failed" && errCode(e) != "invalid_choice" {
		t.Errorf("bad filter: %d %v", status, e)
	}
}
