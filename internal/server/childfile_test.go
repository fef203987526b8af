package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/pdftext"
)

// linkGuardian makes a parent account of c the guardian of the family of child i.
func (b *bundle) linkGuardian(t *testing.T, c *city, i int, email string) {
	t.Helper()
	id := b.parent(t, c.t.Slug, email)
	b.exec(`UPDATE guardian SET user_id = ? WHERE tenant_id = ? AND family_id = ?`, id, c.t.ID, c.families[i])
}

var goodContacts = map[string]any{
	"pickup_persons":     []map[string]string{{"name": "Oma Erna", "relation": "Großmutter", "phone": "+49 831 12345"}},
	"emergency_contacts": []map[string]string{{"name": "Onkel Udo", "phone": "0831 / 98765"}},
}

func TestChildFileGuardianStaffAndOthers(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	b.linkGuardian(t, k, 0, "eltern@kempten.test")
	b.linkGuardian(t, k, 1, "andere@kempten.test")
	file := "/api/v1/children/" + k.children[0].String() + "/file"

	parent := b.api("kempten.localhost")
	parent.login(t, "eltern@kempten.test")
	// Bad input: garbage, too many persons, control characters, no phone.
	many := make([]map[string]string, 11)
	for i := range many {
		many[i] = map[string]string{"name": "X", "phone": "1"}
	}
	for _, body := range []any{nil, "garbage", map[string]any{"pickup_persons": many},
		map[string]any{"pickup_persons": []map[string]string{{"name": "Evil\u202eName", "phone": "1"}}},
		map[string]any{"emergency_contacts": []map[string]string{{"name": "Ohne Nummer", "phone": "call me"}}}} {
		if status, _ := parent.call(t, "PUT", file+"/contacts", body); status != 400 && status != 422 {
			t.Errorf("contacts %v: %d", body, status)
		}
	}
	status, body := parent.call(t, "PUT", file+"/contacts", goodContacts)
	if status != 200 || body["access"] != "guardian" || len(body["pickup_persons"].([]any)) != 1 {
		t.Fatalf("guardian updates contacts: %d %v", status, body)
	}
	// Health only with consent; then sealed in the table.
	health := map[string]any{"health": map[string]any{"allergies": "Erdnussallergie", "medication": "Notfallset Adrenalin"}}
	if status, body := parent.call(t, "PUT", file+"/health", health); status != 422 || errCode(body) != "childfile.consent_required" {
		t.Errorf("health without consent: %d %v", status, body)
	}
	health["consent"] = true
	if status, body := parent.call(t, "PUT", file+"/health", health); status != 200 || body["health"] == nil {
		t.Fatalf("health with consent: %d %v", status, body)
	}
	var raw []byte
	if err := b.db.NewRaw(`SELECT health_sealed FROM child_file WHERE tenant_id = ? AND child_id = ?`, k.t.ID, k.children[0]).Scan(context.Background(), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) < 30 || strings.Contains(string(raw), "Erdnuss") || strings.Contains(string(raw), "Adrenalin") {
		t.Errorf("health data is not sealed: %q", raw)
	}
	var asText string
	_ = b.db.NewRaw(`SELECT row_to_json(cf)::text FROM child_file cf WHERE tenant_id = ? AND child_id = ?`, k.t.ID, k.children[0]).Scan(context.Background(), &asText)
	if strings.Contains(asText, "Erdnuss") {
		t.Error("health data in plain text in the row")
	}

	// Another guardian of the city and the other city: not found.
	other := b.api("kempten.localhost")
	other.login(t, "andere@kempten.test")
	if status, _ := other.call(t, "GET", file, nil); status != 404 {
		t.Errorf("other family's guardian: %d", status)
	}
	if status, _ := other.call(t, "PUT", file+"/contacts", goodContacts); status != 404 {
		t.Errorf("other family's guardian writes: %d", status)
	}

	// Facility staff read; staff elsewhere get 404.
	fachkraft := b.staff(t, k, "fachkraft", authz.RoleStaff, k.facilities[0], "")
	st := b.api("kempten.localhost")
	st.staffLogin(t, fachkraft)
	staffFile := "/api/v1/staff/children/" + k.children[0].String() + "/file"
	status, body = st.call(t, "GET", staffFile, nil)
	if status != 200 || body["access"] != "staff" || body["health"].(map[string]any)["allergies"] != "Erdnussallergie" {
		t.Fatalf("facility staff read: %d %v", status, body)
	}
	if status, _ := st.call(t, "PUT", staffFile+"/contacts", goodContacts); status != 403 {
		t.Errorf("facility staff (not lead) writes contacts: %d", status)
	}
	if status, _ := st.call(t, "GET", "/api/v1/staff/children/"+k.children[1].String()+"/file", nil); status != 404 {
		t.Errorf("child of another facility: %d", status)
	}
	if status, _ := st.call(t, "GET", "/api/v1/staff/children/"+bo.children[0].String()+"/file", nil); status != 404 {
		t.Errorf("child of another city: %d", status)
	}
	if status, _ := st.call(t, "GET", "/api/v1/staff/children/not-a-uuid/file", nil); status != 404 {
		t.Errorf("garbage id: %d", status)
	}
	otherLead := b.staff(t, k, "leitungb", authz.RoleLead, k.facilities[1], "")
	ol := b.api("kempten.localhost")
	ol.staffLogin(t, otherLead)
	if status, _ := ol.call(t, "GET", staffFile, nil); status != 404 {
		t.Errorf("lead of another facility: %d", status)
	}
	if status, _ := ol.call(t, "POST", "/api/v1/staff/children/"+k.children[0].String()+"/emergency", map[string]string{"reason": "Unfall im Garten"}); status != 404 {
		t.Errorf("emergency by another facility's lead: %d", status)
	}
	boStaff := b.staff(t, bo, "fachkraft", authz.RoleStaff, bo.facilities[0], "")
	bs := b.api("bochum.localhost")
	bs.staffLogin(t, boStaff)
	if status, _ := bs.call(t, "GET", staffFile, nil); status != 404 {
		t.Errorf("staff of another city: %d", status)
	}
	// The lead of the facility: full (notes), and the audit log names no content.
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	la := b.api("kempten.localhost")
	la.staffLogin(t, lead)
	if status, _ := la.call(t, "POST", staffFile+"/notes", map[string]string{"body": "Eingewöhnung gut verlaufen"}); status != 204 {
		t.Errorf("lead adds a note: %d", status)
	}
	if status, body := la.call(t, "GET", staffFile, nil); status != 200 || len(body["notes"].([]any)) != 1 {
		t.Errorf("lead reads notes: %d %v", status, body)
	}
	if status, _ := la.call(t, "POST", staffFile+"/notes", map[string]string{"body": "  "}); status != 422 {
		t.Errorf("empty note: %d", status)
	}
}

func TestEmergencyAccessNeedsReasonIsAuditedToldAndShown(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	b.linkGuardian(t, k, 0, "eltern@kempten.test")
	parent := b.api("kempten.localhost")
	parent.login(t, "eltern@kempten.test")
	file := "/api/v1/children/" + k.children[0].String() + "/file"
	if status, _ := parent.call(t, "PUT", file+"/contacts", goodContacts); status != 200 {
		t.Fatal(status)
	}
	if status, _ := parent.call(t, "PUT", file+"/health", map[string]any{"consent": true,
		"health": map[string]any{"allergies": "Erdnussallergie", "medication": "Notfallset Adrenalin"}}); status != 200 {
		t.Fatal(status)
	}
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	fachkraft := b.staff(t, k, "fachkraft", authz.RoleStaff, k.facilities[0], "")
	st := b.api("kempten.localhost")
	st.staffLogin(t, fachkraft)
	em := "/api/v1/staff/children/" + k.children[0].String() + "/emergency"

	for _, reason := range []any{map[string]string{}, map[string]string{"reason": "   "}, map[string]string{"reason": "ab"},
		map[string]string{"reason": strings.Repeat("x", 501)}} {
		if status, body := st.call(t, "POST", em, reason); status != 422 || errCode(body) != "childfile.reason_required" {
			t.Errorf("emergency %v: %d %v", reason, status, body)
		}
	}
	if n := len(b.auditRows(t, k.t.ID, "action = 'childfile.emergency_access'")); n != 0 {
		t.Fatalf("refused accesses logged as accesses: %d", n)
	}
	reason := "Allergische Reaktion beim Mittagessen"
	status, body := st.call(t, "POST", em, map[string]string{"reason": reason})
	if status != 200 || body["health"].(map[string]any)["medication"] != "Notfallset Adrenalin" || len(body["emergency_contacts"].([]any)) != 1 {
		t.Fatalf("emergency sheet: %d %v", status, body)
	}
	rows := b.auditRows(t, k.t.ID, "action = 'childfile.emergency_access' AND ? = ANY(child_ids)", k.children[0])
	if len(rows) != 1 || !strings.Contains(rows[0], fachkraft.Email) {
		t.Fatalf("audit: %v", rows)
	}
	var details []string
	if err := b.db.NewRaw(`SELECT details::text FROM audit_event WHERE tenant_id = ? AND action LIKE 'childfile.%'`, k.t.ID).Scan(context.Background(), &details); err != nil {
		t.Fatal(err)
	}
	for _, d := range details {
		if strings.Contains(d, "Erdnuss") || strings.Contains(d, "Adrenalin") || strings.Contains(d, "Allergische") {
			t.Errorf("special categories in the audit details: %s", d)
		}
	}
	// The guardians and the lead are told.
	if ms := b.mails(t, "childfile_emergency"); len(ms) != 1 || ms[0].To != "eltern@kempten.test" || !strings.Contains(ms[0].Subject, "KindA"+k.Marker) {
		t.Errorf("mail to the guardians: %+v", ms)
	}
	if ms := b.mails(t, "childfile_emergency_lead"); len(ms) != 1 || ms[0].To != lead.Email {
		t.Errorf("mail to the lead: %+v", ms)
	}
	if status, body := parent.call(t, "GET", "/api/v1/inbox", nil); status != 200 || !strings.Contains(strings.ToLower(stringOf(body)), "notfallzugriff") {
		t.Errorf("guardian's inbox: %d %v", status, body)
	}
	// The history shows it, with the reason, to the guardians.
	status, body = parent.call(t, "GET", file+"/access-history", nil)
	items, _ := body["items"].([]any)
	found := false
	for _, it := range items {
		m := it.(map[string]any)
		if m["emergency"] == true && m["reason"] == reason && strings.Contains(m["who"].(string), fachkraft.Email) {
			found = true
		}
	}
	if status != 200 || !found {
		t.Errorf("access history: %d %v", status, body)
	}
	br := b.browser("kempten.localhost")
	br.parentLogin(t, "eltern@kempten.test")
	page := br.get(t, "/family/children/"+k.children[0].String()+"/file")
	mustContain(t, page, "Notfallzugriff", reason, "Oma Erna", "Erdnussallergie")
	br.get(t, "/language?lang=en&next=/family")
	mustContain(t, br.get(t, "/family/children/"+k.children[0].String()+"/file"), "Who accessed your child", "Emergency access", reason)

	// The printable sheet through the staff page: reason required, then a PDF.
	sb := b.browser("kempten.localhost")
	sb.staffLogin(t, fachkraft)
	staffPage := "/staff/children/" + k.children[0].String() + "/file"
	mustContain(t, sb.get(t, staffPage), "Notfallblatt öffnen")
	if r := sb.submit(t, staffPage, "/staff/children/"+k.children[0].String()+"/emergency", map[string]string{"reason": ""}); r.status != 422 {
		t.Errorf("page emergency without reason: %d", r.status)
	}
	r := sb.submit(t, staffPage, "/staff/children/"+k.children[0].String()+"/emergency-sheet.pdf", map[string]string{"reason": "Ausflug in den Wald"})
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("sheet PDF: %d %.200s", r.status, r.body)
	}
	text := pdftext.ForTest(t, []byte(r.body))
	for _, want := range []string{"Notfallblatt", "KindA" + k.Marker, "Onkel Udo", "Oma Erna", "Erdnussallergie", "Notfallset Adrenalin"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF lacks %q:\n%s", want, text)
		}
	}
	if n := len(b.auditRows(t, k.t.ID, "action = 'childfile.emergency_access'")); n != 2 {
		t.Errorf("emergency accesses logged: %d, want 2", n)
	}
}

// TestChildFileFollowsTheContract: a child changing facility is seen by the new one from
// its contract's start, by the old one until its contract's end.
func TestChildFileFollowsTheContract(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	today := b.clock.Now()
	end := today.AddDate(0, 0, 10).Format("2006-01-02")
	b.exec(`UPDATE contract SET end_date = ? WHERE tenant_id = ? AND child_id = ?`, end, k.t.ID, k.children[0])
	b.exec(`INSERT INTO contract (tenant_id, child_id, facility_id, care_hours, start_date, source) VALUES (?, ?, ?, 35, ?, 'manual')`,
		k.t.ID, k.children[0], k.facilities[1], end)
	old := b.staff(t, k, "alt", authz.RoleStaff, k.facilities[0], "")
	neu := b.staff(t, k, "neu", authz.RoleStaff, k.facilities[1], "")
	oa, na := b.api("kempten.localhost"), b.api("kempten.localhost")
	oa.staffLogin(t, old)
	na.staffLogin(t, neu)
	path := "/api/v1/staff/children/" + k.children[0].String() + "/file"
	if s1, s2 := statusOf(t, oa, path), statusOf(t, na, path); s1 != 200 || s2 != 404 {
		t.Errorf("before the change: old %d, new %d", s1, s2)
	}
	b.clock.Advance(11 * 24 * 60 * 60 * 1e9)
	oa.staffLogin(t, old)
	na.staffLogin(t, neu)
	if s1, s2 := statusOf(t, oa, path), statusOf(t, na, path); s1 != 404 || s2 != 200 {
		t.Errorf("after the change: old %d, new %d", s1, s2)
	}
	_ = uuid.Nil
}

func statusOf(t *testing.T, a *api, path string) int {
	t.Helper()
	s, _ := a.call(t, "GET", path, nil)
	return s
}

func stringOf(m map[string]any) string {
	var sb strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		case string:
			sb.WriteString(x + " ")
		}
	}
	walk(m)
	return sb.String()
}
