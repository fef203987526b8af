package server_test

import (
	"context"
	"encoding/base64"
	"html"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	configfiles "kitaportal/config"
	"kitaportal/internal/authz"
)

// Tenant administration through the real router: a role and its scope changed in one
// step, the last admin kept, a second factor reset with a logged reason, the list of who
// may see child data, and the branding editor.

// rolesIn lists "role scope" of an account's staff_role rows, sorted.
func (b *bundle) rolesIn(t *testing.T, tenantID, accountID uuid.UUID) []string {
	t.Helper()
	var rows []string
	err := b.db.NewRaw(`SELECT role || ' ' || coalesce(facility_id::text, provider_id::text, district_key, '-') FROM staff_role
		WHERE tenant_id = ? AND account_id = ? ORDER BY 1`, tenantID, accountID).Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func (b *bundle) roleID(t *testing.T, tenantID, accountID uuid.UUID) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := b.db.QueryRowContext(context.Background(), `SELECT id FROM staff_role WHERE tenant_id = ? AND account_id = ? ORDER BY granted_at LIMIT 1`,
		tenantID, accountID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRoleAndScopeChangeInOneStep(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	worker := b.staff(t, k, "amt", authz.RoleCaseWorker, uuid.Nil, "")
	boLead := b.staff(t, bo, "leitung", authz.RoleLead, bo.facilities[0], "")
	role := b.roleID(t, k.t.ID, lead.ID)
	page := "/staff/users/" + lead.ID.String()
	action := page + "/roles/" + role.String() + "/change"

	ab := b.browser("kempten.localhost")
	ab.staffLogin(t, admin)
	mustContain(t, ab.get(t, page), "Kita A "+k.Marker, "Rolle oder Zuständigkeit ändern")
	for _, tc := range []struct {
		fields map[string]string
		status int
		want   string
	}{
		{map[string]string{"role": "facility_lead", "facility_id": bo.facilities[0].String()}, 404, "existiert nicht"}, // another city's facility
		{map[string]string{"role": "provider_admin", "provider_id": bo.providers[0].String()}, 404, "existiert nicht"},
		{map[string]string{"role": "tagespflege_counsellor", "district_key": "no-such-district"}, 404, "existiert nicht"},
		{map[string]string{"role": "facility_lead", "facility_id": "not-a-uuid"}, 404, "existiert nicht"},
		{map[string]string{"role": "facility_lead"}, 422, "brauchen wir die Zuständigkeit"},
		{map[string]string{"role": "wizard"}, 422, ""},
		{map[string]string{"role": "facility_lead", "facility_id": k.facilities[0].String()}, 422, "dieselbe wie die bisherige"},
	} {
		if r := ab.submit(t, page, action, tc.fields); r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("change %v: %d, want %d with %q\n%.300s", tc.fields, r.status, tc.status, tc.want, r.body)
		}
	}
	if got := b.rolesIn(t, k.t.ID, lead.ID); len(got) != 1 || got[0] != "facility_lead "+k.facilities[0].String() {
		t.Fatalf("a refused change changed the roles: %v", got)
	}
	// Unknown role id, another city's member: 404.
	if r := ab.submit(t, page, page+"/roles/"+uuid.NewString()+"/change", map[string]string{"role": "case_worker"}); r.status != 404 {
		t.Errorf("unknown role: %d", r.status)
	}
	if r := ab.get(t, "/staff/users/"+boLead.ID.String()); r.status != 404 {
		t.Errorf("bochum member on kempten: %d", r.status)
	}

	r := ab.submit(t, page, action, map[string]string{"role": "facility_lead", "facility_id": k.facilities[1].String()})
	if r.status != 303 || r.header.Get("Location") != page+"?done=role_changed" {
		t.Fatalf("change: %d %.300s", r.status, r.body)
	}
	if got := b.rolesIn(t, k.t.ID, lead.ID); len(got) != 1 || got[0] != "facility_lead "+k.facilities[1].String() {
		t.Errorf("roles after the change: %v", got)
	}
	if rows := b.auditRows(t, k.t.ID, "action = 'staff.role_changed'"); len(rows) != 1 || !strings.Contains(rows[0], admin.Email) || !strings.Contains(rows[0], lead.ID.String()) {
		t.Errorf("audit: %v", rows)
	}
	var details string
	_ = b.db.QueryRowContext(context.Background(), `SELECT details::text FROM audit_event WHERE tenant_id = ? AND action = 'staff.role_changed'`, k.t.ID).Scan(&details)
	if !strings.Contains(details, k.facilities[0].String()) || !strings.Contains(details, k.facilities[1].String()) {
		t.Errorf("the audit entry names old and new scope: %s", details)
	}
	// The new scope holds at once, the old one no more.
	la := b.api("kempten.localhost")
	la.staffLogin(t, lead)
	if s, _ := la.call(t, "GET", "/api/v1/staff/facilities/"+k.facilities[1].String(), nil); s != 200 {
		t.Errorf("new facility: %d", s)
	}
	if s, _ := la.call(t, "GET", "/api/v1/staff/facilities/"+k.facilities[0].String(), nil); s != 404 {
		t.Errorf("old facility: %d", s)
	}

	// The same through the API: provider admin of provider 1, then garbage.
	a := b.api("kempten.localhost")
	a.staffLogin(t, admin)
	role = b.roleID(t, k.t.ID, lead.ID)
	path := "/api/v1/staff/users/" + lead.ID.String() + "/roles/" + role.String()
	status, body := a.call(t, "PUT", path, map[string]any{"role": "provider_admin", "provider_id": k.providers[1]})
	if roles, _ := body["roles"].([]any); status != 200 || len(roles) != 1 || roles[0].(map[string]any)["provider_name"] != "Träger "+k.Marker+"B" {
		t.Errorf("API change: %d %v", status, body)
	}
	role = b.roleID(t, k.t.ID, lead.ID)
	path = "/api/v1/staff/users/" + lead.ID.String() + "/roles/" + role.String()
	for _, tc := range []struct {
		body   any
		status int
		code   string
	}{
		{map[string]any{"role": "provider_admin", "provider_id": bo.providers[0]}, 404, "not_found"},
		{map[string]any{"role": "provider_admin", "provider_id": "garbage"}, 400, ""},
		{"[1,2", 400, ""},
		{map[string]any{"role": strings.Repeat("x", 5000)}, 422, "role_unknown"},
	} {
		if s, body := a.call(t, "PUT", path, tc.body); s != tc.status || (tc.code != "" && errCode(body) != tc.code) {
			t.Errorf("API %v: %d %v", tc.body, s, body)
		}
	}
	if s, _ := a.call(t, "PUT", "/api/v1/staff/users/"+boLead.ID.String()+"/roles/"+b.roleID(t, bo.t.ID, boLead.ID).String(),
		map[string]any{"role": "case_worker"}); s != 404 {
		t.Errorf("API change of a bochum member: %d", s)
	}
	// A case worker may not.
	w := b.api("kempten.localhost")
	w.staffLogin(t, worker)
	if s, _ := w.call(t, "PUT", path, map[string]any{"role": "tenant_admin"}); s != 403 {
		t.Errorf("case worker changes a role: %d", s)
	}
	wb := b.browser("kempten.localhost")
	wb.staffLogin(t, worker)
	if r := wb.get(t, page); r.status != 403 {
		t.Errorf("case worker on the member page: %d", r.status)
	}
}

func TestTheLastAdminCannotBeLockedOut(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	a := b.api("kempten.localhost")
	a.staffLogin(t, admin)
	own := "/api/v1/staff/users/" + admin.ID.String() + "/roles/" + b.roleID(t, k.t.ID, admin.ID).String()
	if s, body := a.call(t, "PUT", own, map[string]any{"role": "case_worker"}); s != 409 || errCode(body) != "last_admin" {
		t.Errorf("the only admin demotes themself: %d %v", s, body)
	}
	if got := b.rolesIn(t, k.t.ID, admin.ID); len(got) != 1 || got[0] != "tenant_admin -" {
		t.Errorf("roles: %v", got)
	}
	ab := b.browser("kempten.localhost")
	ab.staffLogin(t, admin)
	page := "/staff/users/" + admin.ID.String()
	r := ab.submit(t, page, page+"/roles/"+b.roleID(t, k.t.ID, admin.ID).String()+"/change", map[string]string{"role": "case_worker"})
	if r.status != 409 || !strings.Contains(r.body, "mindestens eine Administration") {
		t.Errorf("form: %d %.300s", r.status, r.body)
	}
	if s, _ := a.call(t, "DELETE", own, nil); s != 409 {
		t.Errorf("revoking the last admin role: %d", s)
	}

	// With a second admin the first may step down, and the second is then the last.
	second := b.staff(t, k, "zweite", authz.RoleTenantAdmin, uuid.Nil, "")
	if s, body := a.call(t, "PUT", own, map[string]any{"role": "case_worker"}); s != 200 {
		t.Fatalf("step down with another admin left: %d %v", s, body)
	}
	sa := b.api("kempten.localhost")
	sa.staffLogin(t, second)
	if s, body := sa.call(t, "POST", "/api/v1/staff/users/"+second.ID.String()+"/disable", nil); s != 409 {
		t.Errorf("the last admin disables themself: %d %v", s, body)
	}
	secondRole := "/api/v1/staff/users/" + second.ID.String() + "/roles/" + b.roleID(t, k.t.ID, second.ID).String()
	if s, body := sa.call(t, "PUT", secondRole, map[string]any{"role": "facility_staff", "facility_id": k.facilities[0]}); s != 409 || errCode(body) != "last_admin" {
		t.Errorf("the last admin demotes themself: %d %v", s, body)
	}
}

func TestSecondFactorResetWithALoggedReason(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	worker := b.staff(t, k, "amt", authz.RoleCaseWorker, uuid.Nil, "")
	boLead := b.staff(t, bo, "leitung", authz.RoleLead, bo.facilities[0], "")

	// The lead is signed in twice: a browser and an API token.
	lb := b.browser("kempten.localhost")
	lb.staffLogin(t, lead)
	la := b.api("kempten.localhost")
	la.staffLogin(t, lead)
	b.exec(`INSERT INTO recovery_code (tenant_id, account_id, code_hash) VALUES (?, ?, 'x')`, k.t.ID, lead.ID)

	ab := b.browser("kempten.localhost")
	ab.staffLogin(t, admin)
	page := "/staff/users/" + lead.ID.String()
	action := page + "/mfa-reset"
	for _, tc := range []struct {
		reason string
		status int
		want   string
	}{
		{"", 422, "mindestens 10 Zeichen"},
		{"Handy", 422, "mindestens 10 Zeichen"},
		{strings.Repeat("lang ", 200), 422, "höchstens 500 Zeichen"},
		{"Handy verloren\u202e, geprüft", 422, ""},
	} {
		if r := ab.submit(t, page, action, map[string]string{"reason": tc.reason}); r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("reason %.20q: %d, want %d %q", tc.reason, r.status, tc.status, tc.want)
		}
	}
	if s, _ := la.call(t, "GET", "/api/v1/staff/facilities", nil); s != 200 {
		t.Fatalf("a refused reset ended the session: %d", s)
	}
	// Not oneself, nobody of another city, not as a case worker.
	a := b.api("kempten.localhost")
	a.staffLogin(t, admin)
	reason := map[string]string{"reason": "Handy verloren, Identität telefonisch geprüft"}
	if s, body := a.call(t, "POST", "/api/v1/staff/users/"+admin.ID.String()+"/mfa-reset", reason); s != 409 || errCode(body) != "mfa_reset_self" {
		t.Errorf("own reset: %d %v", s, body)
	}
	if s, _ := a.call(t, "POST", "/api/v1/staff/users/"+boLead.ID.String()+"/mfa-reset", reason); s != 404 {
		t.Errorf("bochum member: %d", s)
	}
	if s, _ := a.call(t, "POST", "/api/v1/staff/users/not-a-uuid/mfa-reset", reason); s != 404 && s != 400 {
		t.Errorf("garbage id: %d", s)
	}
	w := b.api("kempten.localhost")
	w.staffLogin(t, worker)
	if s, _ := w.call(t, "POST", "/api/v1/staff/users/"+lead.ID.String()+"/mfa-reset", reason); s != 403 {
		t.Errorf("case worker: %d", s)
	}

	r := ab.submit(t, page, action, map[string]string{"reason": reason["reason"]})
	if r.status != 303 || r.header.Get("Location") != page+"?done=mfa_reset" {
		t.Fatalf("reset: %d %.300s", r.status, r.body)
	}
	// Every session of the lead ended; codes and secret are gone.
	if s, _ := la.call(t, "GET", "/api/v1/staff/facilities", nil); s != 401 {
		t.Errorf("API token after the reset: %d", s)
	}
	if r := lb.get(t, "/staff"); r.status == 200 {
		t.Errorf("browser session after the reset: %d", r.status)
	}
	var codes int
	var secret []byte
	_ = b.db.QueryRowContext(context.Background(), `SELECT count(*) FROM recovery_code WHERE tenant_id = ? AND account_id = ?`, k.t.ID, lead.ID).Scan(&codes)
	_ = b.db.QueryRowContext(context.Background(), `SELECT totp_secret FROM account WHERE tenant_id = ? AND id = ?`, k.t.ID, lead.ID).Scan(&secret)
	if codes != 0 || secret != nil {
		t.Errorf("after the reset: %d recovery codes, secret %v", codes, secret)
	}
	if rows := b.auditRows(t, k.t.ID, "action = 'staff.mfa_reset' AND details->>'reason' = ?", reason["reason"]); len(rows) != 1 || !strings.Contains(rows[0], admin.Email) {
		t.Errorf("audit: %v", rows)
	}
	// The API refuses a sign-in without a second factor; the browser sign-in enrols anew.
	if s, body := b.api("kempten.localhost").call(t, "POST", "/api/v1/staff/auth/login",
		map[string]string{"email": lead.Email, "password": goodPassword, "code": b.code(lead)}); s != 422 || errCode(body) != "mfa_not_enrolled" {
		t.Errorf("API login after the reset: %d %v", s, body)
	}
	nb := b.browser("kempten.localhost")
	if r := nb.submit(t, "/staff/login", "/staff/login", map[string]string{"email": lead.Email, "password": goodPassword}); r.status != 303 {
		t.Fatalf("login: %d", r.status)
	}
	setup := nb.get(t, "/staff/2fa")
	if m := secretOnPage.FindStringSubmatch(setup.body); m == nil {
		t.Errorf("the next sign-in does not enrol again: %d %.400s", setup.status, setup.body)
	}
	// A second reset has nothing to reset.
	if s, body := a.call(t, "POST", "/api/v1/staff/users/"+lead.ID.String()+"/mfa-reset", reason); s != 409 || errCode(body) != "mfa_not_enrolled_reset" {
		t.Errorf("second reset: %d %v", s, body)
	}
}

func TestWhoMaySeeChildDataFollowsThePermissionCatalogue(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	members := map[string]*member{
		"tenant_admin":           b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, ""),
		"case_worker":            b.staff(t, k, "amt", authz.RoleCaseWorker, uuid.Nil, ""),
		"tagespflege_counsellor": b.staff(t, k, "fachberatung", authz.RoleCounsellor, uuid.Nil, k.district),
		"provider_admin":         b.staff(t, k, "traeger", authz.RoleProvider, k.providers[0], ""),
		"facility_lead":          b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], ""),
		"facility_staff":         b.staff(t, k, "fachkraft", authz.RoleStaff, k.facilities[1], ""),
	}
	gone := b.staff(t, k, "ehemalig", authz.RoleLead, k.facilities[0], "")
	b.exec(`UPDATE account SET status = 'disabled' WHERE tenant_id = ? AND id = ?`, k.t.ID, gone.ID)
	other := b.staff(t, bo, "admin", authz.RoleTenantAdmin, uuid.Nil, "")

	cat, err := authz.ParseCatalogue(configfiles.Permissions)
	if err != nil {
		t.Fatal(err)
	}
	want := cat.ChildDataActions()
	if len(want) == 0 || !slices.Contains(want["facility_staff"], "staff.child.read") {
		t.Fatalf("catalogue child data: %v", want)
	}
	a := b.api("kempten.localhost")
	a.staffLogin(t, members["tenant_admin"])
	status, body := a.call(t, "GET", "/api/v1/staff/child-data-access", nil)
	items, _ := body["items"].([]any)
	if status != 200 {
		t.Fatalf("list: %d %v", status, body)
	}
	got := map[string]map[string]any{}
	for _, it := range items {
		m := it.(map[string]any)
		got[m["email"].(string)] = m
	}
	for role, m := range members {
		item, listed := got[m.Email]
		if listed != (len(want[role]) > 0) {
			t.Errorf("%s listed %v, catalogue says %v", role, listed, want[role])
			continue
		}
		var actions []string
		for _, a := range item["actions"].([]any) {
			actions = append(actions, a.(string))
		}
		sort.Strings(actions)
		if strings.Join(actions, ",") != strings.Join(want[role], ",") {
			t.Errorf("%s: actions %v, want %v", role, actions, want[role])
		}
	}
	for _, m := range []*member{gone, other} {
		if _, listed := got[m.Email]; listed {
			t.Errorf("%s is listed", m.Email)
		}
	}
	if len(got) != len(members) {
		t.Errorf("%d listed, want %d", len(got), len(members))
	}
	ab := b.browser("kempten.localhost")
	ab.staffLogin(t, members["tenant_admin"])
	mustContain(t, ab.get(t, "/staff/child-data-access"), "Wer darf Kinderdaten sehen?", "Kita-Leitung: Kita A "+k.Marker,
		"alle Einrichtungen des Trägers Träger "+k.Marker+"A", "die ganze Stadt", members["facility_staff"].Email)
	for _, role := range []string{"case_worker", "facility_lead"} {
		w := b.api("kempten.localhost")
		w.staffLogin(t, members[role])
		if s, _ := w.call(t, "GET", "/api/v1/staff/child-data-access", nil); s != 403 {
			t.Errorf("%s reads the list: %d", role, s)
		}
	}
	oa := b.api("bochum.localhost")
	oa.staffLogin(t, other)
	if _, body := oa.call(t, "GET", "/api/v1/staff/child-data-access", nil); strings.Contains(strings.ToLower(body2s(body)), "kempten") {
		t.Errorf("bochum's list shows kempten members")
	}
}

func body2s(m map[string]any) string {
	var sb strings.Builder
	for _, it := range m["items"].([]any) {
		sb.WriteString(it.(map[string]any)["email"].(string) + " ")
	}
	return sb.String()
}

// brandingForm is the editor's form as the page fills it, with changes.
func brandingForm(t *testing.T, br *browser, change map[string]string) map[string]string {
	t.Helper()
	page := br.get(t, "/staff/branding")
	if page.status != 200 {
		t.Fatalf("branding page: %d", page.status)
	}
	form := map[string]string{}
	for _, name := range []string{"base", "display_name", "primary_color", "accent_color", "imprint_url", "privacy_url", "claim_de", "claim_en"} {
		m := regexpValue(name).FindStringSubmatch(page.body)
		if m != nil {
			form[name] = htmlUnescape(m[1])
		}
	}
	for k, v := range change {
		form[k] = v
	}
	return form
}

func (b *bundle) versions(t *testing.T, tenantID uuid.UUID) int {
	t.Helper()
	var n int
	if err := b.db.QueryRowContext(context.Background(), `SELECT count(*) FROM tenant_rules WHERE tenant_id = ?`, tenantID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBrandingEditor(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	worker := b.staff(t, k, "amt", authz.RoleCaseWorker, uuid.Nil, "")
	boAdmin := b.staff(t, bo, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	before := b.versions(t, k.t.ID)
	maxChoices := k.t.Rules.Registration.MaxChoices

	ab := b.browser("kempten.localhost")
	ab.staffLogin(t, admin)
	mustContain(t, ab.get(t, "/staff"), `href="/staff/branding"`)
	mustContain(t, ab.get(t, "/staff/branding"), k.t.Rules.Branding.DisplayName, "Kontrast von Weiß auf der Hauptfarbe")

	// Low contrast is refused with the ratio named (German decimal comma), nothing saved.
	r := ab.upload(t, "/staff/branding", "/staff/branding", brandingForm(t, ab, map[string]string{"primary_color": "#777777", "intent": "save", "reason": "Neue Farben"}), "", "", nil)
	if r.status != 422 || !strings.Contains(r.body, "nur 4,48:1") || !strings.Contains(r.body, "mindestens 4,50:1") {
		t.Errorf("low contrast: %d %.600s", r.status, r.body)
	}
	// A malicious SVG is refused.
	evil := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>fetch('/api/v1/staff/users')</script></svg>`)
	r = ab.upload(t, "/staff/branding", "/staff/branding", brandingForm(t, ab, map[string]string{"intent": "save", "reason": "Neues Logo"}), "logo", "logo.svg", evil)
	if r.status != 422 || !strings.Contains(r.body, "Skripte") {
		t.Errorf("script in the SVG: %d %.400s", r.status, r.body)
	}
	for name, content := range map[string][]byte{
		"x.svg": []byte(`<svg><image href="https://evil.example/track.png"/></svg>`),
		"x.png": []byte("GIF89a not a png"),
		"y.png": append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 40)...),
	} {
		if r := ab.upload(t, "/staff/branding", "/staff/branding", brandingForm(t, ab, map[string]string{"intent": "preview"}), "logo", name, content); r.status != 422 {
			t.Errorf("logo %s: %d", name, r.status)
		}
	}
	if n := b.versions(t, k.t.ID); n != before {
		t.Fatalf("refused edits saved %d versions", n-before)
	}

	// The preview shows header and footer with the new branding and saves nothing.
	logo := []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4" height="4" fill="#123456"/></svg>`)
	change := map[string]string{"display_name": "Kita-Portal Testname", "primary_color": "#123456", "claim_de": "Alles für Familien",
		"intent": "preview", "imprint_text_de": "Stadt Kempten\nRathausplatz 29\n\nVertreten durch den Oberbürgermeister"}
	r = ab.upload(t, "/staff/branding", "/staff/branding", brandingForm(t, ab, change), "logo", "logo.svg", logo)
	mustContain(t, r, "Vorschau", `class="brand-name">Kita-Portal Testname`, "Alles für Familien", "/staff/branding/preview.css?accent=",
		"primary=%23123456", `<img src="data:image/svg&#43;xml;base64,`, `name="logo_carry"`, `href="/impressum"`, "Rathausplatz 29")
	if n := b.versions(t, k.t.ID); n != before {
		t.Errorf("the preview saved")
	}
	if home := b.browser("kempten.localhost").get(t, "/"); strings.Contains(home.body, "Kita-Portal Testname") {
		t.Error("the preview changed the portal")
	}
	css := ab.get(t, "/staff/branding/preview.css?primary=%23123456&accent=%23f4d35e")
	if css.status != 200 || !strings.Contains(css.body, "--brand:#123456") {
		t.Errorf("preview css: %d %s", css.status, css.body)
	}
	if r := ab.get(t, "/staff/branding/preview.css?primary=red;}body{display:none&accent=%23f4d35e"); r.status == 200 {
		t.Errorf("preview css takes garbage: %d", r.status)
	}

	// Save: a reason is required; then a new version, audited, in force after the reload.
	carry := regexpValue("logo_carry").FindStringSubmatch(r.body)
	save := brandingForm(t, ab, change)
	save["intent"], save["logo_carry"] = "save", htmlUnescape(carry[1])
	if r := ab.upload(t, "/staff/branding", "/staff/branding", save, "", "", nil); r.status != 422 || !strings.Contains(r.body, "mindestens 3 Zeichen") {
		t.Errorf("save without reason: %d", r.status)
	}
	save["reason"] = "Neues Corporate Design"
	r = ab.upload(t, "/staff/branding", "/staff/branding", save, "", "", nil)
	if r.status != 303 || r.header.Get("Location") != "/staff/branding?done=branding_saved" {
		t.Fatalf("save: %d %.600s", r.status, r.body)
	}
	if n := b.versions(t, k.t.ID); n != before+1 {
		t.Errorf("%d new versions", n-before)
	}
	var source, reason string
	var author uuid.UUID
	_ = b.db.QueryRowContext(context.Background(), `SELECT source, reason, author_id FROM tenant_rules WHERE tenant_id = ? ORDER BY version DESC LIMIT 1`, k.t.ID).Scan(&source, &reason, &author)
	if source != "admin" || reason != "Neues Corporate Design" || author != admin.ID {
		t.Errorf("version: %s %q %s", source, reason, author)
	}
	if rows := b.auditRows(t, k.t.ID, "action = 'tenant.branding_changed'"); len(rows) != 1 || !strings.Contains(rows[0], admin.Email) {
		t.Errorf("audit: %v", rows)
	}
	if err := b.reg.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	kt := b.tenant(t, "kempten")
	if kt.Rules.Registration.MaxChoices != maxChoices || kt.Rules.Branding.PrimaryColor != "#123456" || kt.Rules.Branding.LogoSVG == "" {
		t.Errorf("rules after the save: max choices %d, colour %s", kt.Rules.Registration.MaxChoices, kt.Rules.Branding.PrimaryColor)
	}
	visitor := b.browser("kempten.localhost")
	home := visitor.get(t, "/")
	mustContain(t, home, "Kita-Portal Testname", `href="/impressum"`, "/branding/theme.css?v=")
	if theme := visitor.get(t, "/branding/theme.css"); !strings.Contains(theme.body, "--brand:#123456") {
		t.Errorf("theme: %s", theme.body)
	}
	mustContain(t, visitor.get(t, "/impressum"), "Impressum", "Rathausplatz 29", "Vertreten durch")
	if r := visitor.get(t, "/datenschutz"); r.status != 404 {
		t.Errorf("privacy page without a text: %d", r.status)
	}
	if r := b.browser("bochum.localhost").get(t, "/impressum"); r.status != 404 || strings.Contains(r.body, "Rathausplatz") {
		t.Errorf("bochum serves kempten's imprint: %d", r.status)
	}
	// The page opened before the save is stale now.
	if r := ab.upload(t, "/staff/branding", "/staff/branding", merged(save, map[string]string{"display_name": "Noch ein Name"}), "", "", nil); r.status != 409 {
		t.Errorf("stale save: %d", r.status)
	}

	// The API: read, preview, save a PNG logo; the live city keeps imprint and privacy.
	a := b.api("kempten.localhost")
	a.lang = "en"
	a.staffLogin(t, admin)
	status, cur := a.call(t, "GET", "/api/v1/staff/branding", nil)
	if status != 200 || cur["display_name"] != "Kita-Portal Testname" || cur["logo_type"] != "svg" {
		t.Fatalf("API get: %d %v", status, cur)
	}
	in := map[string]any{"base_version": cur["version"], "reason": "API", "display_name": cur["display_name"], "claim": cur["claim"],
		"primary_color": "#aaaaaa", "accent_color": cur["accent_color"], "imprint_url": "", "imprint_text": cur["imprint_text"],
		"privacy_url": cur["privacy_url"], "privacy_text": map[string]string{}}
	if s, body := a.call(t, "POST", "/api/v1/staff/branding/preview", in); s != 422 || !strings.Contains(body2msg(body), "2.32:1") {
		t.Errorf("API low contrast: %d %v", s, body)
	}
	in["primary_color"] = "#0b5394"
	in["privacy_url"] = ""
	if s, body := a.call(t, "PUT", "/api/v1/staff/branding", in); s != 422 || !strings.Contains(body2codes(body), "tenant_not_launchable") {
		t.Errorf("live city without privacy notice: %d %v", s, body)
	}
	in["privacy_url"] = cur["privacy_url"]
	in["logo_base64"] = base64.StdEncoding.EncodeToString(pngPhoto(64, 64))
	status, saved := a.call(t, "PUT", "/api/v1/staff/branding", in)
	if status != 200 || saved["logo_type"] != "png" || saved["primary_color"] != "#0b5394" {
		t.Fatalf("API save: %d %v", status, saved)
	}
	if png := visitor.get(t, "/branding/logo.png"); png.status != 200 || png.header.Get("Content-Type") != "image/png" {
		t.Errorf("png logo: %d %s", png.status, png.header.Get("Content-Type"))
	}
	for _, tc := range []struct {
		change map[string]any
		status int
		code   string
	}{
		{map[string]any{"display_name": strings.Repeat("x", 81)}, 422, "field_too_long"},
		{map[string]any{"display_name": " "}, 422, "required"},
		{map[string]any{"primary_color": "red"}, 422, "color_invalid"},
		{map[string]any{"imprint_url": "javascript:alert(1)"}, 422, "url_https"},
		{map[string]any{"logo_base64": "%%%"}, 422, "logo_unsupported"},
		{map[string]any{"privacy_text": map[string]string{"en": "only English"}}, 422, "legal_text_german_required"},
		{map[string]any{"base_version": 1}, 409, "branding_stale"},
		{map[string]any{"base_version": "abc"}, 400, ""},
	} {
		body := map[string]any{}
		for k, v := range in {
			body[k] = v
		}
		body["base_version"] = saved["version"]
		delete(body, "logo_base64")
		body["display_name"] = "Anders"
		for k, v := range tc.change {
			body[k] = v
		}
		if s, res := a.call(t, "PUT", "/api/v1/staff/branding", body); s != tc.status || (tc.code != "" && !strings.Contains(body2codes(res), tc.code)) {
			t.Errorf("API %v: %d %v", tc.change, s, res)
		}
	}

	// Nobody else: a case worker, another city's admin.
	w := b.api("kempten.localhost")
	w.staffLogin(t, worker)
	if s, _ := w.call(t, "PUT", "/api/v1/staff/branding", in); s != 403 {
		t.Errorf("case worker saves: %d", s)
	}
	wb := b.browser("kempten.localhost")
	wb.staffLogin(t, worker)
	for _, path := range []string{"/staff/branding", "/staff/branding/preview.css?primary=%23123456&accent=%23123456"} {
		if r := wb.get(t, path); r.status != 403 {
			t.Errorf("case worker on %s: %d", path, r.status)
		}
	}
	oa := b.api("bochum.localhost")
	oa.staffLogin(t, boAdmin)
	oa.host = "kempten.localhost" // bochum's token on kempten's host
	if s, _ := oa.call(t, "PUT", "/api/v1/staff/branding", in); s != 401 && s != 403 && s != 404 {
		t.Errorf("bochum admin on kempten: %d", s)
	}
	if s, _ := oa.call(t, "GET", "/api/v1/staff/branding", nil); s == 200 {
		t.Errorf("bochum admin reads kempten's branding")
	}
	if n := b.versions(t, k.t.ID); n != before+2 {
		t.Errorf("%d versions saved, want 2", n-before)
	}
}

// body2msg and body2codes join an API error's message (or code) with those of its
// field errors, for contains checks.
func body2msg(m map[string]any) string   { return errorParts(m, "message") }
func body2codes(m map[string]any) string { return errorParts(m, "code") }

func errorParts(m map[string]any, key string) string {
	var sb strings.Builder
	e, _ := m["error"].(map[string]any)
	sb.WriteString(anyString(e[key]))
	d, _ := e["details"].(map[string]any)
	if fs, ok := d["errors"].([]any); ok {
		for _, f := range fs {
			if fm, ok := f.(map[string]any); ok {
				sb.WriteString(" " + anyString(fm[key]))
			}
		}
	}
	return sb.String()
}

// regexpValue finds the value of the input (or textarea) named name on a page.
func regexpValue(name string) *regexp.Regexp {
	return regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `"[^>]*?value="([^"]*)"`)
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }

func anyString(v any) string {
	s, _ := v.(string)
	return s
}
