package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/clock"
)

// Facility and contract files through the real router: export, edit, dry run, row
// errors, nothing half-saved, UTF-8 and Windows-1252.

func win1252(t *testing.T, s string) []byte {
	t.Helper()
	out, err := charmap.Windows1252.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

func TestFacilityFileExportEditImport(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	b.exec(`INSERT INTO postcode (tenant_id, plz, municipality_key, place, lat, lon) VALUES (?, '87435', 'kempten', 'Kempten (Allgäu)', 47.733, 10.31)`, k.t.ID)
	b.exec(`INSERT INTO street (tenant_id, plz, name, municipality_key, lat, lon) VALUES (?, '87435', 'Salzstraße', 'kempten', 47.7281, 10.3135)`, k.t.ID)
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, [16]byte{}, "")
	br := b.browser("kempten.localhost")
	br.staffLogin(t, admin)

	export := br.get(t, "/staff/provider/facilities.csv")
	if export.status != 200 || !strings.HasPrefix(export.body, "\xEF\xBB\xBFid;name;type;provider;") {
		t.Fatalf("export: %d %.200q", export.status, export.body)
	}
	if strings.Contains(export.body, bo.Marker) || strings.Count(export.body, "\r\n") != 4 {
		t.Fatalf("export holds %d lines:\n%s", strings.Count(export.body, "\r\n"), export.body)
	}
	if len(b.auditRows(t, k.t.ID, "action = 'export.created'")) != 1 {
		t.Error("the export is not audited")
	}
	// The same in Windows-1252 for old Excel.
	if r := br.get(t, "/staff/provider/facilities.csv?encoding=windows-1252"); !strings.Contains(r.body, "Tr\xe4ger "+k.Marker) {
		t.Errorf("Windows-1252 export: %.300q", r.body)
	}

	// Edit: Kita A gets new hours and a concept; a new Kita; in Windows-1252.
	lines := strings.Split(strings.TrimPrefix(export.body, "\xEF\xBB\xBF"), "\r\n")
	var kitaA string
	for _, l := range lines {
		if strings.Contains(l, "Kita A "+k.Marker) {
			kitaA = l
		}
	}
	cells := strings.Split(kitaA, ";")
	cells[17] = "montessori, inklusion" // concepts
	cells[20] = "07:00-16:30"           // mon
	good := lines[0] + "\r\n" + strings.Join(cells, ";") + "\r\n" +
		";Kita Sonnenhügel;kita;Träger " + k.Marker + "A;;Salzstraße;3;87435;;;;;12;72;0831 555;;;waldorf;ja;ja;07:00-17:00;07:00-17:00;07:00-17:00;07:00-17:00;07:00-15:00;;;Neu im Viertel.\r\n"

	dry := br.upload(t, "/staff/provider/import", "/staff/provider/import", map[string]string{"dry_run": "1"}, "file", "kitas.csv", win1252(t, good))
	if dry.status != 200 {
		t.Fatalf("dry run: %d\n%.1500s", dry.status, dry.body)
	}
	mustContain(t, dry, "Prüfung ohne Fehler", "2 Zeilen gelesen (Windows-1252): 1 neu, 1 geändert.")
	if n := b.count(t, `SELECT count(*) FROM facility WHERE name = 'Kita Sonnenhügel'`); n != 0 {
		t.Fatal("the dry run saved a facility")
	}

	// Broken rows: each is named with its line; nothing of the good rows is saved either.
	broken := good +
		";;kita;Träger " + k.Marker + "A;;Weg;1;87435;;;;;0;72\r\n" + // line 4: no name
		";Kita Ufo;raumstation;Träger " + k.Marker + "A;;Weg;1;87435;;;;;0;72\r\n" + // 5: unknown type
		";Kita Fern;kita;Träger " + k.Marker + "A;;Weg;1;99999;;;;;0;72\r\n" + // 6: postcode of no tenant
		";Kita Nacht;kita;Träger " + k.Marker + "A;;Weg;1;87435;;;;;0;72;;;;;;;22:00-06:00\r\n" + // 7: closes before it opens
		bo.facilities[0].String() + ";Gekapert;kita;Träger " + bo.Marker + "A;;Weg;1;87435;;;;;0;72\r\n" + // 8: Bochum's facility
		";Kita Fremd;kita;Unbekannter Träger;;Weg;1;87435;;;;;0;72\r\n" + // 9: unknown provider, no kind
		"\"kaputt;\r\n" // 10: broken quoting
	r := br.upload(t, "/staff/provider/import", "/staff/provider/import", nil, "file", "kitas.csv", []byte(broken))
	if r.status != 422 {
		t.Fatalf("broken file: %d", r.status)
	}
	for _, want := range []string{"<td>4</td><td>name</td><td>Bitte ausfüllen.", "<td>5</td><td>type</td>", "<td>6</td><td>plz</td>",
		"<td>7</td><td>mon</td>", "<td>8</td><td>id</td>", "<td>9</td><td>provider</td>", "<td>10</td>", "Es wurde nichts gespeichert."} {
		mustContain(t, r, want)
	}
	if n := b.count(t, `SELECT count(*) FROM facility WHERE name IN ('Kita Sonnenhügel', 'Gekapert')`); n != 0 {
		t.Fatal("a file with problems saved rows")
	}

	// The good file for real.
	r = br.upload(t, "/staff/provider/import", "/staff/provider/import", nil, "file", "kitas.csv", win1252(t, good))
	if r.status != 200 {
		t.Fatalf("import: %d\n%.1500s", r.status, r.body)
	}
	mustContain(t, r, "Import gespeichert")
	if n := b.count(t, `SELECT count(*) FROM facility WHERE name = 'Kita Sonnenhügel' AND lat = 47.7281 AND concepts = '{waldorf}' AND lunch`); n != 1 {
		t.Error("the new Kita is not there as the file has it")
	}
	api := b.get(t, "kempten.localhost", "/api/v1/facilities/"+k.facilities[0].String())
	mustContain(t, api, `"inklusion"`, `"16:30"`)

	// The API takes the file as its body.
	a := b.api("kempten.localhost")
	a.staffLogin(t, admin)
	req := httptest.NewRequest("POST", "/api/v1/staff/facilities/import?dry_run=true", strings.NewReader(broken))
	req.Host = "kempten.localhost"
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "text/csv")
	res := b.do(t, req)
	if res.status != 422 || !strings.Contains(res.body, `"code":"csv_import_failed"`) || !strings.Contains(res.body, `"line":8`) {
		t.Errorf("API import: %d %.600s", res.status, res.body)
	}

	// A provider admin may change only their own provider's facilities.
	traeger := b.staff(t, k, "traeger", authz.RoleProvider, k.providers[1], "")
	tb := b.browser("kempten.localhost")
	tb.staffLogin(t, traeger)
	r = tb.upload(t, "/staff/provider/import", "/staff/provider/import", map[string]string{"dry_run": "1"}, "file", "kitas.csv", []byte(good))
	mustContain(t, r, "<td>2</td><td>id</td>", "<td>3</td><td>provider</td>")
}

func TestContractFileImport(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(testNow))
	k := b.city(t, "kempten")
	b.exec(`INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours) VALUES (?, gen_random_uuid(), ?, 'Bären', 'krippe', 45)`, k.t.ID, k.facilities[0])
	b.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places) SELECT tenant_id, id, '2026-01-01', 12 FROM facility_group WHERE facility_id = ?`, k.facilities[0])
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	br := b.browser("kempten.localhost")
	br.staffLogin(t, lead)
	page := "/staff/contracts/import?facility=" + k.facilities[0].String()
	header := "reference;group;child_id;child_first_name;child_last_name;child_birth_date;care_hours;start_date;end_date;guardian_first_name;guardian_last_name\r\n"
	good := header +
		"K-1;Bären;;Mia;Özdemir;03.04.2025;35;01.01.2027;;Aylin;Özdemir\r\n" +
		"K-2;bären;;Paul;Schmidt;2025-07-01;45;2027-03-01;2028-08-01;Tom;Schmidt\r\n"
	broken := good +
		"K-3;Bären;" + k.children[1].String() + ";;;;35;2027-01-01;;;\r\n" + // line 4: a child of another facility
		"K-4;Bären;;Ole;Berg;31.02.2025;35;2027-01-01;;Eva;Berg\r\n" + // 5: no such day
		"K-5;Bären;;Mia;Özdemir;03.04.2025;35;01.06.2027;;Aylin;Özdemir\r\n" + // 6: the same child again
		"K-6;Löwen;;Ida;Kurz;2025-01-01;35;2027-01-01;;Kai;Kurz\r\n" // 7: no such group
	fields := map[string]string{"facility": k.facilities[0].String()}
	r := br.upload(t, page, "/staff/contracts/import", fields, "file", "vertraege.csv", win1252(t, broken))
	if r.status != 422 {
		t.Fatalf("broken file: %d\n%.1000s", r.status, r.body)
	}
	for _, want := range []string{"<td>4</td><td>child_id</td>", "<td>5</td><td>child_birth_date</td>", "<td>6</td><td>child_first_name</td>",
		"<td>7</td><td>group</td>"} {
		mustContain(t, r, want)
	}
	if n := b.count(t, `SELECT count(*) FROM contract WHERE facility_id = ?`, k.facilities[0]); n != 1 {
		t.Fatalf("%d contracts after a refused file, want the 1 from before", n)
	}
	r = br.upload(t, page, "/staff/contracts/import", fields, "file", "vertraege.csv", win1252(t, good))
	mustContain(t, r, "Import gespeichert", "2 Zeilen gelesen (Windows-1252): 2 neu")
	if got := b.free(t, k.facilities[0], "krippe", 35, "2027-03-01"); got != 10 {
		t.Errorf("free places after the import: %d, want 10", got)
	}
	// The same file again adds nothing.
	r = br.upload(t, page, "/staff/contracts/import", fields, "file", "vertraege.csv", []byte(good))
	mustContain(t, r, "Import gespeichert", "0 neu")
	if n := b.count(t, `SELECT count(*) FROM contract WHERE facility_id = ?`, k.facilities[0]); n != 3 {
		t.Errorf("%d contracts after importing twice, want 3", n)
	}
	rows := b.auditRows(t, k.t.ID, "action = 'contract.imported' AND cardinality(child_ids) = 2")
	if len(rows) != 1 {
		t.Errorf("import audit: %v", rows)
	}
	// No file, a file that is not CSV, a header without the needed columns.
	if r := br.upload(t, page, "/staff/contracts/import", fields, "", "", nil); r.status != 422 {
		t.Errorf("no file: %d", r.status)
	}
	if r := br.upload(t, page, "/staff/contracts/import", fields, "file", "x.csv", []byte("name;alter\r\nMia;2\r\n")); !strings.Contains(r.body, "Die Spalte „care_hours“ fehlt") {
		t.Errorf("missing columns: %d", r.status)
	}
}
