package server_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
)

// auditRows lists "<action> <actor label> <object id>" of a tenant's audit log.
func (b *bundle) auditRows(t *testing.T, tenantID uuid.UUID, where string, args ...any) []string {
	t.Helper()
	var rows []string
	err := b.db.NewRaw(`SELECT action || ' ' || actor_label || ' ' || object_id FROM audit_event WHERE tenant_id = ? AND `+where+` ORDER BY at, id`,
		append([]any{tenantID}, args...)...).Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestFacilityLeadWithSecondFactorSeesOnlyTheirFacility(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")

	br := b.browser("kempten.localhost")
	br.staffLogin(t, lead)
	home := br.get(t, "/staff")
	mustContain(t, home, "Kita A "+k.Marker, "Kita-Leitung: Kita A "+k.Marker)
	if strings.Contains(home.body, "Kita B") || strings.Contains(home.body, "Tagespflege "+k.Marker) {
		t.Errorf("the lead's start page shows other facilities")
	}
	facility := br.get(t, "/staff/facilities/"+k.facilities[0].String())
	mustContain(t, facility, "KindA"+k.Marker)
	if strings.Contains(facility.body, "KindB") {
		t.Error("another facility's child is listed")
	}
	for _, path := range []string{
		"/staff/facilities/" + k.facilities[1].String(), "/staff/facilities/" + k.tagespflege.String(),
		"/staff/facilities/" + bo.facilities[0].String(), "/staff/children/" + k.children[1].String(),
		"/staff/children/" + bo.children[0].String(), "/staff/facilities/not-a-uuid",
	} {
		if r := br.get(t, path); r.status != 404 || strings.Contains(r.body, "marker") {
			t.Errorf("%s: %d", path, r.status)
		}
	}
	child := br.get(t, "/staff/children/"+k.children[0].String())
	mustContain(t, child, "KindA"+k.Marker, "Familienweg"+k.Marker, "Elternteil"+k.Marker, "Dieser Abruf wird mit Ihrem Namen protokolliert")
	for _, path := range []string{"/staff/users", "/staff/audit"} {
		if r := br.get(t, path); r.status != 403 {
			t.Errorf("lead on %s: %d", path, r.status)
		}
	}

	// The same through the API.
	a := b.api("kempten.localhost")
	a.staffLogin(t, lead)
	if status, body := a.call(t, "GET", "/api/v1/staff/facilities", nil); status != 200 || len(body["items"].([]any)) != 1 {
		t.Errorf("API facilities: %d %v", status, body)
	}
	if status, _ := a.call(t, "GET", "/api/v1/staff/children/"+k.children[1].String(), nil); status != 404 {
		t.Errorf("API child of another facility: %d", status)
	}
	if status, body := a.call(t, "GET", "/api/v1/staff/children/"+k.children[0].String(), nil); status != 200 || body["first_name"] != "KindA"+k.Marker {
		t.Errorf("API own child: %d %v", status, body)
	}

	// The admin's audit log says who read which child's data.
	ab := b.browser("kempten.localhost")
	ab.staffLogin(t, admin)
	log := ab.get(t, "/staff/audit?child="+k.children[0].String())
	mustContain(t, log, "child.read", lead.Email, "children.listed")
	reads := b.auditRows(t, k.t.ID, "action = 'child.read' AND ? = ANY(child_ids)", k.children[0])
	if len(reads) != 2 || !strings.Contains(reads[0], lead.Email) {
		t.Errorf("child reads in the audit log: %v", reads)
	}
	if n := len(b.auditRows(t, k.t.ID, "? = ANY(child_ids)", k.children[1])); n != 0 {
		t.Errorf("a child nobody read appears %d times", n)
	}
	var api struct{ Items []map[string]any }
	_ = api
	ah := b.api("kempten.localhost")
	ah.staffLogin(t, admin)
	status, body := ah.call(t, "GET", "/api/v1/staff/audit?action=child.read", nil)
	if items, _ := body["items"].([]any); status != 200 || len(items) != 2 {
		t.Errorf("audit API: %d %v", status, body)
	}
}

func TestEachRoleReachesItsScope(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	all := []uuid.UUID{k.facilities[0], k.facilities[1], k.tagespflege}
	cases := []struct {
		local, role string
		scope       uuid.UUID
		district    string
		sees        []uuid.UUID
	}{
		{"admin", authz.RoleTenantAdmin, uuid.Nil, "", all},
		{"amt", authz.RoleCaseWorker, uuid.Nil, "", all},
		{"traeger", authz.RoleProvider, k.providers[0], "", []uuid.UUID{k.facilities[0], k.tagespflege}},
		{"fachberatung", authz.RoleCounsellor, uuid.Nil, k.district, []uuid.UUID{k.tagespflege}},
		{"leitung", authz.RoleLead, k.facilities[1], "", []uuid.UUID{k.facilities[1]}},
		{"fachkraft", authz.RoleStaff, k.facilities[0], "", []uuid.UUID{k.facilities[0]}},
	}
	for _, tc := range cases {
		m := b.staff(t, k, tc.local, tc.role, tc.scope, tc.district)
		a := b.api("kempten.localhost")
		a.staffLogin(t, m)
		for i, f := range all {
			want := 404
			for _, s := range tc.sees {
				if s == f {
					want = 200
				}
			}
			if status, _ := a.call(t, "GET", "/api/v1/staff/facilities/"+f.String(), nil); status != want {
				t.Errorf("%s on facility %d: %d, want %d", tc.role, i, status, want)
			}
			if status, _ := a.call(t, "GET", "/api/v1/staff/children/"+k.children[i].String(), nil); status != want {
				t.Errorf("%s on child %d: %d, want %d", tc.role, i, status, want)
			}
		}
	}
}

var secretOnPage = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)
var codesOnPage = regexp.MustCompile(`<li>([a-z2-9]{5}-[a-z2-9]{5})</li>`)

func TestInvitationTwoFactorEnrolmentAndRecoveryCodes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	ab := b.browser("kempten.localhost")
	ab.staffLogin(t, admin)

	// Bad invitations are refused with their reasons, nothing is created.
	for _, tc := range []struct {
		fields map[string]string
		status int
		want   string
	}{
		{map[string]string{"email": "neu@kempten.test", "first_name": "Nina", "last_name": "Neu", "role": "facility_lead", "facility_id": bo.facilities[0].String()}, 404, "existiert nicht"},
		{map[string]string{"email": "neu@kempten.test", "first_name": "Nina", "last_name": "Neu", "role": "facility_lead"}, 422, "brauchen wir die Zuständigkeit"},
		{map[string]string{"email": "neu@kempten", "first_name": "Nina", "last_name": "Neu\u202e", "role": "superuser"}, 422, "gültige E-Mail-Adresse"},
	} {
		r := ab.submit(t, "/staff/users", "/staff/users/invite", tc.fields)
		if r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("invite %v: %d, want %d with %q\n%.400s", tc.fields, r.status, tc.status, tc.want, r.body)
		}
	}
	if n := len(b.mails(t, "staff_invitation")); n != 0 {
		t.Fatalf("%d invitations went out for refused forms", n)
	}

	r := ab.submit(t, "/staff/users", "/staff/users/invite", map[string]string{
		"email": "Neu@Kempten.test", "first_name": "Nina", "last_name": "Neu", "role": "facility_lead", "facility_id": k.facilities[0].String()})
	if r.status != 303 || r.header.Get("Location") != "/staff/users?done=invited" {
		t.Fatalf("invite: %d %.400s", r.status, r.body)
	}
	mails := b.mails(t, "staff_invitation")
	if len(mails) != 1 || mails[0].To != "neu@kempten.test" || !strings.Contains(mails[0].Text, "Kita-Leitung") ||
		!strings.Contains(mails[0].HTML, "Kinderbetreuung Kempten") {
		t.Fatalf("invitation mail: %+v", mails)
	}
	token := b.lastToken(t, "staff_invitation", "neu@kempten.test")

	// The link of one city means nothing in another.
	other := b.browser("bochum.localhost")
	if r := other.submit(t, "/staff/invitation?token="+token, "/staff/invitation", map[string]string{"token": token, "password": goodPassword}); r.status != 422 {
		t.Errorf("kempten invitation on bochum: %d", r.status)
	}
	nb := b.browser("kempten.localhost")
	if r := nb.submit(t, "/staff/invitation?token="+token, "/staff/invitation", map[string]string{"token": token, "password": "passwort123"}); r.status != 422 || !strings.Contains(r.body, "zu leicht zu erraten") {
		t.Errorf("weak password on invitation: %d", r.status)
	}
	r = nb.submit(t, "/staff/invitation?token="+token, "/staff/invitation", map[string]string{"token": token, "password": goodPassword})
	if r.status != 303 {
		t.Fatalf("accept invitation: %d %.300s", r.status, r.body)
	}

	// First sign-in: the password leads to the enrolment page with a QR code.
	r = nb.submit(t, "/staff/login", "/staff/login", map[string]string{"email": "neu@kempten.test", "password": goodPassword})
	if r.status != 303 || r.header.Get("Location") != "/staff/2fa" {
		t.Fatalf("login: %d %q", r.status, r.header.Get("Location"))
	}
	if r := nb.get(t, "/staff"); r.status != 303 || r.header.Get("Location") != "/staff/2fa" {
		t.Errorf("the staff area before the second factor: %d %q", r.status, r.header.Get("Location"))
	}
	setup := nb.get(t, "/staff/2fa")
	mustContain(t, setup, `src="data:image/png;base64,`, "Zwei-Faktor-Anmeldung einrichten")
	m := secretOnPage.FindStringSubmatch(setup.body)
	if m == nil {
		t.Fatalf("no secret on the enrolment page")
	}
	secret, err := auth.DecodeTOTPSecret(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if r := nb.submit(t, "/staff/2fa", "/staff/2fa/setup", map[string]string{"code": "000000"}); r.status != 422 || !strings.Contains(r.body, "Der Code stimmt nicht") {
		t.Errorf("wrong enrolment code: %d", r.status)
	}
	b.clock.Advance(31 * time.Second)
	r = nb.submit(t, "/staff/2fa", "/staff/2fa/setup", map[string]string{"code": auth.TOTPCode(secret, b.clock.Now())})
	codes := codesOnPage.FindAllStringSubmatch(r.body, -1)
	if r.status != 200 || len(codes) != 10 {
		t.Fatalf("enrolment: %d, %d codes\n%.500s", r.status, len(codes), r.body)
	}
	mustContain(t, nb.get(t, "/staff"), "Kita A "+k.Marker)

	// Later sign-in with a recovery code: works once.
	for i, want := range []int{303, 422} {
		fresh := b.browser("kempten.localhost")
		fresh.submit(t, "/staff/login", "/staff/login", map[string]string{"email": "neu@kempten.test", "password": goodPassword})
		r := fresh.submit(t, "/staff/2fa", "/staff/2fa", map[string]string{"code": strings.ToUpper(codes[0][1])})
		if r.status != want {
			t.Errorf("recovery code, use %d: %d", i+1, r.status)
		}
	}
	log := b.auditRows(t, k.t.ID, "action IN ('staff.invited', 'staff.role_granted', 'staff.invitation_accepted', 'auth.mfa_enrolled', 'auth.recovery_code_used', 'auth.mfa_failed')")
	joined := strings.Join(log, "\n")
	for _, want := range []string{"staff.invited " + admin.Email, "staff.role_granted " + admin.Email, "staff.invitation_accepted neu@kempten.test",
		"auth.mfa_enrolled neu@kempten.test", "auth.recovery_code_used neu@kempten.test", "auth.mfa_failed"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit log lacks %q:\n%s", want, joined)
		}
	}
}

func TestSecondFactorCodesWorkOnceAndAreRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	br := b.browser("kempten.localhost")
	br.staffLogin(t, lead)
	used := auth.TOTPCode(lead.Secret, b.clock.Now())

	again := b.browser("kempten.localhost")
	again.submit(t, "/staff/login", "/staff/login", map[string]string{"email": lead.Email, "password": goodPassword})
	if r := again.submit(t, "/staff/2fa", "/staff/2fa", map[string]string{"code": used}); r.status != 422 {
		t.Errorf("a code used before was accepted: %d", r.status)
	}
	// Without the second factor the API refuses a staff token and the area stays closed.
	a := b.api("kempten.localhost")
	if status, body := a.call(t, "POST", "/api/v1/staff/auth/login", map[string]string{"email": lead.Email, "password": goodPassword, "code": "123456"}); status != 422 || errCode(body) != "validation_failed" && errCode(body) != "mfa_code_wrong" {
		t.Errorf("API login with a wrong code: %d %v", status, body)
	}
	limited := false
	for i := 0; i < 8; i++ {
		r := again.submit(t, "/staff/2fa", "/staff/2fa", map[string]string{"code": "999999"})
		if r.status == 429 {
			limited = strings.Contains(r.body, "Zu viele Versuche")
			break
		}
	}
	if !limited {
		t.Error("guessing codes was not rate limited")
	}
}

func TestRolesGrantRevokeAndDisable(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	aa := b.api("kempten.localhost")
	aa.staffLogin(t, admin)
	la := b.api("kempten.localhost")
	la.staffLogin(t, lead)

	if status, _ := la.call(t, "GET", "/api/v1/staff/facilities/"+k.facilities[1].String(), nil); status != 404 {
		t.Fatalf("before the grant: %d", status)
	}
	if status, body := aa.call(t, "POST", "/api/v1/staff/users/"+lead.ID.String()+"/roles", map[string]any{"role": "provider_admin", "provider_id": k.providers[1]}); status != 201 {
		t.Fatalf("grant: %d %v", status, body)
	}
	if status, _ := la.call(t, "GET", "/api/v1/staff/facilities/"+k.facilities[1].String(), nil); status != 200 {
		t.Errorf("after the grant: %d", status)
	}
	_, members := aa.call(t, "GET", "/api/v1/staff/users", nil)
	var roleID string
	for _, m := range members["items"].([]any) {
		mm := m.(map[string]any)
		for _, r := range mm["roles"].([]any) {
			if rr := r.(map[string]any); rr["role"] == "provider_admin" {
				roleID = rr["id"].(string)
			}
		}
	}
	if status, body := aa.call(t, "DELETE", "/api/v1/staff/users/"+lead.ID.String()+"/roles/"+roleID, nil); status != 200 {
		t.Fatalf("revoke: %d %v", status, body)
	}
	if status, _ := la.call(t, "GET", "/api/v1/staff/facilities/"+k.facilities[1].String(), nil); status != 404 {
		t.Errorf("after the revocation: %d", status)
	}
	// The city's last admin keeps the role; nobody disables themselves.
	var adminRole string
	_ = b.db.QueryRowContext(context.Background(), `SELECT id FROM staff_role WHERE account_id = ?`, admin.ID).Scan(&adminRole)
	if status, body := aa.call(t, "DELETE", "/api/v1/staff/users/"+admin.ID.String()+"/roles/"+adminRole, nil); status != 409 || errCode(body) != "last_admin" {
		t.Errorf("revoking the last admin: %d %v", status, body)
	}
	if status, body := aa.call(t, "POST", "/api/v1/staff/users/"+admin.ID.String()+"/disable", nil); status != 409 || errCode(body) != "disable_self" {
		t.Errorf("disabling oneself: %d %v", status, body)
	}
	// Disabling ends the lead's sessions at once.
	if status, _ := aa.call(t, "POST", "/api/v1/staff/users/"+lead.ID.String()+"/disable", nil); status != 200 {
		t.Fatalf("disable: %d", status)
	}
	if status, _ := la.call(t, "GET", "/api/v1/staff/facilities", nil); status != 401 {
		t.Errorf("a disabled member's token still works: %d", status)
	}
	if roles := b.authz.RolesOf(lead.ID, k.t.ID); len(roles) != 0 {
		t.Errorf("a disabled member keeps casbin roles: %v", roles)
	}
	if status, _ := aa.call(t, "POST", "/api/v1/staff/users/"+uuid.NewString()+"/disable", nil); status != 404 {
		t.Errorf("unknown member: %d", status)
	}
}
