package server_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
)

// Machine credentials (issue 19): a city's back-office software reads the city's requests
// with its own key, only within the key's scopes, only on its own city's host, and only
// while the key is neither revoked nor rotated away. The secret is shown once; only the
// tenant admin manages keys; every step is in the audit log.
func TestBackOfficeClientReadsRequestsWithItsOwnKeyAndIsRefusedOutsideItsScope(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	kita := b.facility(t, k, "Kita Iller", "kita", "kempten", "", "krippe")
	f := b.family(t, "kempten", "pia@kempten.test", "87435", "2025-10-01")
	filed := f.file(t, request(f.child, "2027-09-01", 35, kita))
	kc := &city{t: k}
	admin := b.staff(t, kc, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	bo := b.city(t, "bochum")
	boAdmin := b.staff(t, bo, "admin", authz.RoleTenantAdmin, uuid.Nil, "")

	adm := b.api("kempten.localhost")
	adm.staffLogin(t, admin)
	status, created := adm.call(t, "POST", "/api/v1/staff/credentials", map[string]any{
		"name": "Fachverfahren Jugendamt", "scopes": []string{"requests.read"}})
	secret, _ := created["secret"].(string)
	id, _ := created["id"].(string)
	if status != 201 || !strings.HasPrefix(secret, "kp_live_") || len(secret) < 40 || created["revoked"] != false ||
		!strings.HasPrefix(secret, created["prefix"].(string)) || jsonString(created["scopes"]) != `["requests.read"]` {
		t.Fatalf("create: %d %v", status, created)
	}

	// The key reads the city's requests, the list and one request.
	m := b.api("kempten.localhost")
	m.token = secret
	status, list := m.call(t, "GET", "/api/v1/staff/requests", nil)
	items, _ := list["items"].([]any)
	if status != 200 || len(items) != 1 || items[0].(map[string]any)["application_id"] != filed["id"] {
		t.Fatalf("requests with the key: %d %v", status, list)
	}
	if status, one := m.call(t, "GET", "/api/v1/staff/requests/"+filed["id"].(string), nil); status != 200 {
		t.Errorf("one request with the key: %d %v", status, one)
	}

	// Outside its scope: 403 in the API's error format, whatever the route.
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/v1/staff/requests/" + filed["id"].(string) + "/decisions"},
		{"GET", "/api/v1/staff/users"},
		{"GET", "/api/v1/staff/facilities"},
		{"GET", "/api/v1/staff/contracts"},
		{"GET", "/api/v1/staff/audit"},
		{"GET", "/api/v1/staff/credentials"},
		{"POST", "/api/v1/staff/credentials"},
		{"POST", "/api/v1/staff/credentials/" + id + "/rotate"},
		{"GET", "/api/v1/me"},
		{"GET", "/api/v1/family"},
	} {
		status, body := m.call(t, c.method, c.path, map[string]any{"rank": 1, "action": "accept", "name": "x", "scopes": []string{"requests.read"}})
		if status != 403 || errCode(body) != "forbidden" || errMessage(body) == "" {
			t.Errorf("%s %s with a requests.read key: %d %v", c.method, c.path, status, body)
		}
	}
	// No HTML page and no cookie path: on the staff pages the bearer key is nobody.
	br := b.browser("kempten.localhost")
	if r := br.do(t, "GET", "/staff/requests", nil, "Authorization", "Bearer "+secret); r.status != 303 ||
		!strings.HasPrefix(r.header.Get("Location"), "/staff/login") {
		t.Errorf("a staff page with the key: %d %q", r.status, r.header.Get("Location"))
	}
	// Another city's host does not know the key.
	other := b.api("bochum.localhost")
	other.token = secret
	if status, body := other.call(t, "GET", "/api/v1/staff/requests", nil); status != 401 || errCode(body) != "unauthenticated" {
		t.Errorf("the key on bochum's host: %d %v", status, body)
	}
	// Garbage that looks like a key.
	for _, bad := range []string{"kp_live_", secret + "x", secret[:len(secret)-1] + "A", strings.Replace(secret, "kp_live_", "kp_test_", 1)} {
		g := b.api("kempten.localhost")
		g.token = bad
		if status, _ := g.call(t, "GET", "/api/v1/staff/requests", nil); status != 401 {
			t.Errorf("key %q: %d", bad, status)
		}
	}

	// The reads are audited like staff reads, naming the key; its use shows in the list.
	label := "credential: Fachverfahren Jugendamt (" + id + ")"
	reads := b.auditRows(t, k.ID, "actor_kind = 'machine' AND action IN ('requests.listed', 'request.read') AND ? = ANY(child_ids)", uuid.MustParse(f.child))
	if len(reads) != 2 || !strings.Contains(reads[0], label) {
		t.Errorf("the key's reads in the audit log: %v", reads)
	}
	status, keys := adm.call(t, "GET", "/api/v1/staff/credentials", nil)
	listed, _ := keys["items"].([]any)
	if status != 200 || len(listed) != 1 || listed[0].(map[string]any)["last_used_at"] == nil ||
		listed[0].(map[string]any)["created_by"] != admin.ID.String() || strings.Contains(jsonString(keys), secret) {
		t.Errorf("the list: %d %v", status, keys)
	}
	if scopes, _ := keys["scopes"].([]any); len(scopes) < 5 {
		t.Errorf("scopes on offer: %v", keys["scopes"])
	}

	// Rotation: the old secret stops at once, the new one works.
	status, rotated := adm.call(t, "POST", "/api/v1/staff/credentials/"+id+"/rotate", nil)
	fresh, _ := rotated["secret"].(string)
	if status != 200 || fresh == "" || fresh == secret || rotated["id"] != id {
		t.Fatalf("rotate: %d %v", status, rotated)
	}
	if status, _ := m.call(t, "GET", "/api/v1/staff/requests", nil); status != 401 {
		t.Errorf("the old secret after rotation: %d", status)
	}
	m.token = fresh
	if status, _ := m.call(t, "GET", "/api/v1/staff/requests", nil); status != 200 {
		t.Errorf("the new secret: %d", status)
	}
	// Another city's admin does not find the key; revocation ends it.
	boa := b.api("bochum.localhost")
	boa.staffLogin(t, boAdmin)
	for _, action := range []string{"rotate", "revoke"} {
		if status, body := boa.call(t, "POST", "/api/v1/staff/credentials/"+id+"/"+action, nil); status != 404 || errCode(body) != "not_found" {
			t.Errorf("bochum's admin %ss kempten's key: %d %v", action, status, body)
		}
	}
	status, revoked := adm.call(t, "POST", "/api/v1/staff/credentials/"+id+"/revoke", nil)
	if status != 200 || revoked["revoked"] != true || revoked["secret"] != nil {
		t.Fatalf("revoke: %d %v", status, revoked)
	}
	if status, _ := m.call(t, "GET", "/api/v1/staff/requests", nil); status != 401 {
		t.Errorf("a revoked key: %d", status)
	}
	if status, body := adm.call(t, "POST", "/api/v1/staff/credentials/"+id+"/rotate", nil); status != 409 || errCode(body) != "credential_revoked" {
		t.Errorf("rotating a revoked key: %d %v", status, body)
	}

	got := b.auditRows(t, k.ID, "object_kind = 'machine_credential'")
	if len(got) != 3 || !strings.HasPrefix(got[0], "credential.created "+admin.Email) || !strings.HasPrefix(got[1], "credential.rotated "+admin.Email) ||
		!strings.HasPrefix(got[2], "credential.revoked "+admin.Email) {
		t.Errorf("audit of the key's life: %v", got)
	}
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE details::text LIKE ? OR details::text LIKE ?`, "%"+secret+"%", "%"+fresh+"%"); n != 0 {
		t.Errorf("a secret is in the audit log %d times", n)
	}
}

// Only the tenant admin manages keys, through the pages as through the API; bad input is
// refused with a message in the user's language, and the secret is shown exactly once.
func TestOnlyTheTenantAdminManagesMachineCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	amt := b.staff(t, k, "amt", authz.RoleCaseWorker, uuid.Nil, "")

	// The admin's pages: the form, the secret once, the list without it.
	br := b.browser("kempten.localhost")
	br.staffLogin(t, admin)
	mustContain(t, br.get(t, "/staff"), `href="/staff/credentials"`)
	r := br.submit(t, "/staff/credentials", "/staff/credentials", map[string]string{"name": "Kita-Verwaltung Träger", "scopes": "contracts.read"})
	shown := regexp.MustCompile(`<code class="credential-secret">(kp_live_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(r.body)
	if r.status != 200 || shown == nil || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create through the form: %d %q\n%.600s", r.status, r.header.Get("Cache-Control"), r.body)
	}
	secret := shown[1]
	page := br.get(t, "/staff/credentials")
	mustContain(t, page, "Kita-Verwaltung Träger", secret[:12]+"…", "contracts.read", "noch nie")
	if strings.Contains(page.body, secret) {
		t.Error("the list page shows the secret again")
	}
	mustContain(t, br.do(t, "GET", "/staff/credentials", nil, "Accept-Language", "en"), "Machine credentials", "Key starts with", "never")
	m := b.api("kempten.localhost")
	m.token = secret
	if status, _ := m.call(t, "GET", "/api/v1/staff/contracts", nil); status != 200 {
		t.Errorf("contracts.read key on the register: %d", status)
	}
	if status, _ := m.call(t, "POST", "/api/v1/staff/contracts", map[string]any{"facility_id": k.facilities[0]}); status != 403 {
		t.Errorf("contracts.read key writing a contract: %d", status)
	}
	if status, _ := m.call(t, "GET", "/api/v1/staff/children/"+k.children[0].String(), nil); status != 403 {
		t.Errorf("contracts.read key on a child record: %d", status)
	}
	id := b.count(t, `SELECT count(*) FROM machine_credential WHERE tenant_id = ?`, k.t.ID)
	if id != 1 {
		t.Fatalf("%d keys stored", id)
	}
	var keyID string
	if err := b.db.NewRaw(`SELECT id::text FROM machine_credential WHERE tenant_id = ?`, k.t.ID).Scan(t.Context(), &keyID); err != nil {
		t.Fatal(err)
	}
	// Rotate through the page: the new secret once, the old one gone.
	r = br.submit(t, "/staff/credentials", "/staff/credentials/"+keyID+"/rotate", nil)
	again := regexp.MustCompile(`<code class="credential-secret">(kp_live_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(r.body)
	if r.status != 200 || again == nil || again[1] == secret {
		t.Fatalf("rotate through the page: %d", r.status)
	}
	if status, _ := m.call(t, "GET", "/api/v1/staff/contracts", nil); status != 401 {
		t.Errorf("old secret after rotating on the page: %d", status)
	}
	r = br.submit(t, "/staff/credentials", "/staff/credentials/"+keyID+"/revoke", nil)
	if r.status != 303 || r.header.Get("Location") != "/staff/credentials?done=credential_revoked" {
		t.Fatalf("revoke through the page: %d %q", r.status, r.header.Get("Location"))
	}
	mustContain(t, br.get(t, "/staff/credentials?done=credential_revoked"), "Der Maschinenzugang ist widerrufen", "widerrufen")
	m.token = again[1]
	if status, _ := m.call(t, "GET", "/api/v1/staff/contracts", nil); status != 401 {
		t.Errorf("secret after revoking on the page: %d", status)
	}

	// Garbage on the form, in German.
	for _, c := range []struct {
		fields map[string]string
		want   string
	}{
		{map[string]string{"name": "", "scopes": "requests.read"}, "Bitte geben Sie dem Zugang einen Namen."},
		{map[string]string{"name": strings.Repeat("x", 101), "scopes": "requests.read"}, "höchstens 100 Zeichen"},
		{map[string]string{"name": "Ohne Rechte"}, "mindestens eine Berechtigung"},
		{map[string]string{"name": "Zu viel", "scopes": "staff.users.invite"}, "„staff.users.invite“ gibt es nicht"},
	} {
		r := br.submit(t, "/staff/credentials", "/staff/credentials", c.fields)
		if r.status != 422 || !strings.Contains(r.body, c.want) || strings.Contains(r.body, `class="credential-secret"`) {
			t.Errorf("form %v: %d, want %q", c.fields, r.status, c.want)
		}
	}

	// Garbage through the API, in English.
	adm := b.api("kempten.localhost")
	adm.staffLogin(t, admin)
	adm.lang = "en"
	for _, c := range []struct {
		body        any
		status      int
		field, want string
	}{
		{map[string]any{"name": "", "scopes": []string{"requests.read"}}, 422, "name", "Please give the credential a name."},
		{map[string]any{"name": strings.Repeat("ä", 101), "scopes": []string{"requests.read"}}, 422, "name", "at most 100 characters"},
		{map[string]any{"name": "Bidi\u202etrick", "scopes": []string{"requests.read"}}, 422, "name", "control or invisible"},
		{map[string]any{"name": "Nothing", "scopes": []string{}}, 422, "scopes", "at least one scope"},
		{map[string]any{"name": "Too much", "scopes": []string{"requests.read", "requests.decide"}}, 422, "scopes", "“requests.decide” does not exist"},
		{map[string]any{"name": 42, "scopes": "requests.read"}, 400, "", ""},
	} {
		status, body := adm.call(t, "POST", "/api/v1/staff/credentials", c.body)
		if status != c.status || (c.want != "" && !strings.Contains(messageOf(body, c.field), c.want)) {
			t.Errorf("API %v: %d %v, want %d %q on %s", c.body, status, body, c.status, c.want, c.field)
		}
	}
	for _, path := range []string{"/api/v1/staff/credentials/" + uuid.NewString() + "/rotate", "/api/v1/staff/credentials/not-an-id/revoke"} {
		if status, body := adm.call(t, "POST", path, nil); status != 404 || errCode(body) != "not_found" {
			t.Errorf("%s: %d %v", path, status, body)
		}
	}
	// Two live keys cannot share a name; a revoked one's name is free again.
	if status, _ := adm.call(t, "POST", "/api/v1/staff/credentials", map[string]any{"name": "Kita-Verwaltung Träger", "scopes": []string{"offers.read"}}); status != 201 {
		t.Errorf("the name of a revoked key: %d", status)
	}
	if status, body := adm.call(t, "POST", "/api/v1/staff/credentials", map[string]any{"name": "kita-verwaltung träger", "scopes": []string{"offers.read"}}); status != 422 || messageOf(body, "name") == "" {
		t.Errorf("a live key's name again: %d %v", status, body)
	}

	// Another staff role may do none of it.
	ab := b.browser("kempten.localhost")
	ab.staffLogin(t, amt)
	if r := ab.get(t, "/staff/credentials"); r.status != 403 {
		t.Errorf("case worker on the page: %d", r.status)
	}
	if strings.Contains(ab.get(t, "/staff").body, `href="/staff/credentials"`) {
		t.Error("the case worker's start page links the credentials")
	}
	if r := ab.submit(t, "/staff", "/staff/credentials", map[string]string{"name": "Schatten", "scopes": "requests.read"}); r.status != 403 {
		t.Errorf("case worker creating through the form: %d", r.status)
	}
	ca := b.api("kempten.localhost")
	ca.staffLogin(t, amt)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/staff/credentials"},
		{"POST", "/api/v1/staff/credentials"},
		{"POST", "/api/v1/staff/credentials/" + keyID + "/rotate"},
		{"POST", "/api/v1/staff/credentials/" + keyID + "/revoke"},
	} {
		if status, body := ca.call(t, c.method, c.path, map[string]any{"name": "Schatten", "scopes": []string{"requests.read"}}); status != 403 || errCode(body) != "forbidden" {
			t.Errorf("case worker %s %s: %d %v", c.method, c.path, status, body)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM machine_credential WHERE tenant_id = ? AND name = 'Schatten'`, k.t.ID); n != 0 {
		t.Errorf("the case worker made %d keys", n)
	}
}

// errMessage is the human text of an error answer.
func errMessage(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// A key with contracts.write enters a contract like a facility's software would; the
// register's audit names the key, and the key still cannot decide requests.
func TestAKeyWithContractsWriteEntersAContract(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	kita := b.facility(t, k, "Kita Iller", "kita", "kempten", "", "krippe")
	b.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places) SELECT tenant_id, id, '2024-01-01', 5 FROM facility_group WHERE tenant_id = ?`, k.ID)
	f := b.family(t, "kempten", "pia@kempten.test", "87435", "2025-10-01")
	f.file(t, request(f.child, "2027-09-01", 35, kita)) // the child is known to the city by its request
	admin := b.staff(t, &city{t: k}, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	adm := b.api("kempten.localhost")
	adm.staffLogin(t, admin)
	status, key := adm.call(t, "POST", "/api/v1/staff/credentials", map[string]any{"name": "Kita-Verwaltung", "scopes": []string{"contracts.write", "contracts.read"}})
	if status != 201 {
		t.Fatalf("create: %d %v", status, key)
	}
	m := b.api("kempten.localhost")
	m.token = key["secret"].(string)
	status, body := m.call(t, "POST", "/api/v1/staff/contracts", map[string]any{"facility_id": kita.String(), "child_id": f.child,
		"care_hours": 35, "start_date": "2027-09-01"})
	if status != 201 {
		t.Fatalf("contract by the key: %d %v", status, body)
	}
	if rows := b.auditRows(t, k.ID, "action = 'contract.created' AND actor_kind = 'machine'"); len(rows) != 1 || !strings.Contains(rows[0], "credential: Kita-Verwaltung") {
		t.Errorf("the contract's audit: %v", rows)
	}
	if status, _ := m.call(t, "GET", "/api/v1/staff/contracts", nil); status != 200 {
		t.Errorf("contracts.read: %d", status)
	}
	if status, _ := m.call(t, "GET", "/api/v1/staff/requests", nil); status != 403 {
		t.Errorf("requests without requests.read: %d", status)
	}
}
