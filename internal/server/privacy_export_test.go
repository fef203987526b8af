package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/notify"
	"kitaportal/internal/platform/pdftext"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/privacy"
	"kitaportal/web"
)

// runExport runs the export job of id directly, as the worker would.
func (oc *offerCity) runExport(t *testing.T, id string) {
	t.Helper()
	b := oc.b
	files, err := storage.NewLocal(b.deps.Config.StorageDir)
	if err != nil {
		t.Fatal(err)
	}
	mails, err := notify.NewTemplates(web.FS, b.deps.Views.Catalogue())
	if err != nil {
		t.Fatal(err)
	}
	x := privacy.NewExporter(b.db, files, b.reg, mails, notify.NewLinks(b.deps.Config.TenantURL), b.clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := x.Make(context.Background(), b.tenant(t, "kempten"), uuid.MustParse(id)); err != nil {
		t.Fatal(err)
	}
}

// Kempten: a parent with a request, an open offer and a staff read of the child asks
// for the DSGVO export; erasing the account meanwhile is refused (the offer is open);
// the job makes JSON and PDF with the request, the offer and the read; only the parent
// downloads them and only until they expire; every download and refusal is audited.
func TestParentExportsTheirData(t *testing.T) {
	t.Parallel()
	oc := newOfferCity(t)
	b, pia := oc.b, oc.family.api
	status, made := oc.lead.call(t, "POST", "/api/v1/staff/offers", map[string]any{"application_id": oc.app, "rank": 1})
	if status != 201 || made["status"] != "open" {
		t.Fatalf("offer: %d %v", status, made)
	}
	if status, _ := oc.lead.call(t, "GET", "/api/v1/staff/requests/"+oc.app, nil); status != 200 {
		t.Fatalf("lead reads the request: %d", status)
	}
	var leadLabel string
	if err := b.db.QueryRowContext(context.Background(), `SELECT actor_label FROM audit_event WHERE actor_kind = 'staff' AND ? = ANY(child_ids) LIMIT 1`,
		oc.family.child).Scan(&leadLabel); err != nil || leadLabel == "" {
		t.Fatalf("no staff read of the child in the audit log: %v", err)
	}

	// Erasure while the offer is open: refused, clearly, logged, nothing deleted.
	status, body := pia.call(t, "DELETE", "/api/v1/me", map[string]string{"current_password": goodPassword})
	if status != 409 || errCode(body) != "account_offer_open" || !strings.Contains(jsonString(body), "offenes Platzangebot") {
		t.Errorf("erasure with an open offer: %d %v", status, body)
	}
	if n := b.count(t, `SELECT count(*) FROM account WHERE email = 'pia@kempten.test' AND status = 'active'`); n != 1 {
		t.Error("the account went although the erasure was refused")
	}
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE action = 'account.deletion_refused' AND details->>'reason' = 'offer_open'`); n != 1 {
		t.Errorf("refused erasure logged %d times", n)
	}

	// The export: queued, pending, then made by the job.
	status, ex := pia.call(t, "POST", "/api/v1/me/export", nil)
	if status != 202 || ex["status"] != "pending" {
		t.Fatalf("request export: %d %v", status, ex)
	}
	id := ex["id"].(string)
	if n := b.count(t, `SELECT count(*) FROM outbox WHERE task_type = ? AND payload->>'export_id' = ?`, privacy.TaskExport, id); n != 1 {
		t.Errorf("export job in the outbox: %d", n)
	}
	if status, again := pia.call(t, "POST", "/api/v1/me/export", nil); status != 202 || again["id"] != id {
		t.Errorf("a second request while one is made: %d %v", status, again)
	}
	if status, body := pia.call(t, "GET", "/api/v1/me/exports/"+id+"/json", nil); status != 409 {
		t.Errorf("download before the job ran: %d %v", status, body)
	}
	oc.runExport(t, id)
	oc.runExport(t, id) // a retried job changes nothing

	_, list := pia.call(t, "GET", "/api/v1/me/exports", nil)
	items, _ := list["exports"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["json_url"] != "/api/v1/me/exports/"+id+"/json" {
		t.Fatalf("exports: %v", list)
	}
	status, data := pia.call(t, "GET", "/api/v1/me/exports/"+id+"/json", nil)
	if status != 200 {
		t.Fatalf("json download: %d", status)
	}
	raw := jsonString(data)
	for _, want := range []string{oc.app, made["id"].(string), `"status":"open"`, leadLabel, `"request.read"`, `"first_name":"Mia"`, "pia@kempten.test"} {
		if !strings.Contains(raw, want) {
			t.Errorf("export JSON lacks %q", want)
		}
	}
	if strings.Contains(raw, "password_hash") || strings.Contains(raw, "$argon2") {
		t.Error("the export carries the password hash")
	}
	var parsed struct {
		Requests []struct {
			ID      string           `json:"id"`
			Choices []map[string]any `json:"choices"`
			History []map[string]any `json:"history"`
		} `json:"requests"`
		StaffAccess []struct{ Who, Action string } `json:"staff_access"`
	}
	if err := json.Unmarshal([]byte(raw), &parsed); err != nil {
		t.Fatal(err)
	}
	if len(parsed.Requests) != 1 || parsed.Requests[0].ID != oc.app || len(parsed.Requests[0].Choices) != 2 || len(parsed.Requests[0].History) == 0 {
		t.Errorf("request in the export: %+v", parsed.Requests)
	}
	read := false
	for _, a := range parsed.StaffAccess {
		read = read || (a.Who == leadLabel && a.Action == "request.read")
	}
	if !read {
		t.Errorf("the lead's read is not in the export: %+v", parsed.StaffAccess)
	}

	// The readable PDF, through the account page.
	br := b.browser("kempten.localhost")
	br.parentLogin(t, "pia@kempten.test")
	page := br.get(t, "/account/export")
	mustContain(t, page, "/account/export/"+id+"/pdf", "/account/export/"+id+"/json")
	r := br.get(t, "/account/export/"+id+"/pdf")
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf download: %d %q", r.status, r.header.Get("Content-Type"))
	}
	text := pdftext.ForTest(t, []byte(r.body))
	for _, want := range []string{"Auskunft über Ihre gespeicherten Daten", "Mia Parent", "Wer die Daten Ihrer Kinder gelesen hat", leadLabel} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF lacks %q", want)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE action = 'export.downloaded' AND object_id = ?`, id); n != 2 {
		t.Errorf("downloads audited: %d, want 2", n)
	}
	if n := b.count(t, `SELECT count(*) FROM inbox_message m JOIN account a ON a.id = m.account_id WHERE a.email = 'pia@kempten.test' AND m.kind = 'data_export_ready'`); n != 1 {
		t.Errorf("inbox notices: %d", n)
	}
	if ms := b.mails(t, "data_export_ready"); len(ms) != 1 || ms[0].To != "pia@kempten.test" || !strings.Contains(ms[0].Subject, "Datenauskunft") {
		t.Errorf("ready mail: %+v", ms)
	}

	// Another account: 404, logged; garbage ids and formats: no file.
	tom := b.family(t, "kempten", "tom@kempten.test", "87435", oc.start.AddMonths(-20).String())
	if status, body := tom.api.call(t, "GET", "/api/v1/me/exports/"+id+"/json", nil); status != 404 || errCode(body) != "export_not_found" {
		t.Errorf("another account's download: %d %v", status, body)
	}
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE action = 'export.download_refused' AND object_id = ? AND details->>'reason' = 'other_account'`, id); n != 1 {
		t.Errorf("refused download logged %d times", n)
	}
	if status, _ := pia.call(t, "GET", "/api/v1/me/exports/"+id+"/xml", nil); status != 404 {
		t.Errorf("unknown format: %d", status)
	}
	if status, _ := pia.call(t, "GET", "/api/v1/me/exports/not-an-id/json", nil); status < 400 || status >= 500 {
		t.Errorf("garbage id: %d", status)
	}
	if status, _ := pia.call(t, "GET", "/api/v1/me/exports/"+uuid.NewString()+"/json", nil); status != 404 {
		t.Errorf("unknown id: %d", status)
	}
	anon := b.api("kempten.localhost")
	if status, _ := anon.call(t, "GET", "/api/v1/me/exports/"+id+"/json", nil); status != 401 {
		t.Errorf("without sign-in: %d", status)
	}

	// After the validity: 410, logged; the page no longer offers it.
	b.clock.Advance(privacy.ExportValidity + time.Hour)
	if status, body := pia.call(t, "GET", "/api/v1/me/exports/"+id+"/json", nil); status != 410 || errCode(body) != "export_expired" {
		t.Errorf("expired download: %d %v", status, body)
	}
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE action = 'export.download_refused' AND object_id = ? AND details->>'reason' = 'expired'`, id); n != 1 {
		t.Errorf("expired download logged %d times", n)
	}
	br = b.browser("kempten.localhost") // the session ended meanwhile
	br.parentLogin(t, "pia@kempten.test")
	if r := br.get(t, "/account/export"); r.status != 200 || strings.Contains(r.body, id) {
		t.Error("the page still lists the expired export")
	}
	if r := br.get(t, "/account/export/"+id+"/pdf"); r.status != 410 {
		t.Errorf("expired pdf on the page: %d", r.status)
	}
}
