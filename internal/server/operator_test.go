package server_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/operator"
)

// operator creates an operator with an enrolled second factor.
func (b *bundle) operator(t *testing.T) *member {
	t.Helper()
	m := &member{ID: uuid.New(), Email: "ops@kitaportal.test", Secret: auth.NewTOTPSecret()}
	b.exec(`INSERT INTO operator (id, email, name, password_hash, totp_secret, totp_enabled_at) VALUES (?, ?, 'Olga Ops', ?, ?, now())`,
		m.ID, m.Email, passwordHash(t), b.keys.Seal(m.Secret, operator.SealContext(m.ID)))
	return m
}

func (br *browser) operatorLogin(t *testing.T, m *member) {
	t.Helper()
	r := br.submit(t, "/operator/login", "/operator/login", map[string]string{"email": m.Email, "password": goodPassword})
	if r.status != 303 || r.header.Get("Location") != "/operator/2fa" {
		t.Fatalf("operator login: %d %q", r.status, r.header.Get("Location"))
	}
	if r := br.get(t, "/operator"); r.status != 303 || r.header.Get("Location") != "/operator/2fa" {
		t.Fatalf("console before the second factor: %d %q", r.status, r.header.Get("Location"))
	}
	r = br.submit(t, "/operator/2fa", "/operator/2fa", map[string]string{"code": br.b.code(m)})
	if r.status != 303 || r.header.Get("Location") != "/operator" {
		t.Fatalf("operator second factor: %d %.300s", r.status, r.body)
	}
}

func TestOperatorReachesCityDataOnlyThroughLoggedTimeLimitedSupport(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	op := b.operator(t)
	console := b.browser("localhost")
	console.operatorLogin(t, op)
	mustContain(t, console.get(t, "/operator"), "Stadt Kempten (Allgäu)", "Stadt Bochum")

	// The operator's cookie is the base domain's: worthless on a city's host.
	if r := (&browser{b: b, host: "kempten.localhost", cookies: map[string]string{"kp_operator": console.cookies["kp_operator"], "kp_session": console.cookies["kp_operator"]}}).get(t, "/staff"); r.status != 303 {
		t.Errorf("operator cookie on a city host: %d", r.status)
	}
	// No reason, no access; too long, no access.
	if r := console.submit(t, "/operator", "/operator/tenants/kempten/support", map[string]string{"reason": "kurz", "minutes": "30"}); r.status != 422 {
		t.Errorf("support without a reason: %d", r.status)
	}
	if r := console.submit(t, "/operator", "/operator/tenants/kempten/support", map[string]string{"reason": "Ticket 4711 Leitung sieht nichts", "minutes": "600"}); r.status != 422 || !strings.Contains(r.body, "höchstens 60 Minuten") {
		t.Errorf("support for ten hours: %d", r.status)
	}
	if r := console.submit(t, "/operator", "/operator/tenants/atlantis/support", map[string]string{"reason": "Ticket 4711 Leitung sieht nichts", "minutes": "30"}); r.status != 404 {
		t.Errorf("support for an unknown city: %d", r.status)
	}
	r := console.submit(t, "/operator", "/operator/tenants/kempten/support", map[string]string{"reason": "Ticket 4711: Leitung sieht keine Kinder", "minutes": "30"})
	link, err := url.Parse(r.header.Get("Location"))
	if r.status != 303 || err != nil || link.Host != "kempten.localhost:8080" || link.Path != "/support/enter" {
		t.Fatalf("start support: %d %q", r.status, r.header.Get("Location"))
	}
	token := link.Query().Get("token")

	// The link works once, on its own city's host only.
	if r := b.browser("bochum.localhost").submit(t, "/support/enter?token="+token, "/support/enter", map[string]string{"token": token}); r.status != 422 {
		t.Errorf("support link on another city: %d", r.status)
	}
	sup := b.browser("kempten.localhost")
	if r := sup.submit(t, "/support/enter?token="+token, "/support/enter", map[string]string{"token": token}); r.status != 303 || r.header.Get("Location") != "/staff" {
		t.Fatalf("enter: %d %.300s", r.status, r.body)
	}
	if r := b.browser("kempten.localhost").submit(t, "/support/enter?token="+token, "/support/enter", map[string]string{"token": token}); r.status != 422 {
		t.Errorf("support link used twice: %d", r.status)
	}
	mustContain(t, sup.get(t, "/staff"), "Sie sind als Support", "Kita B "+k.Marker)
	mustContain(t, sup.get(t, "/staff/children/"+k.children[1].String()), "KindB"+k.Marker)
	for _, path := range []string{"/staff/audit"} {
		if r := sup.get(t, path); r.status != 403 {
			t.Errorf("support on %s: %d", path, r.status)
		}
	}
	if r := sup.submit(t, "/staff", "/staff/users/invite", map[string]string{"email": "x@example.org", "first_name": "X", "last_name": "Y", "role": "tenant_admin"}); r.status != 403 {
		t.Errorf("support invites: %d", r.status)
	}
	log := strings.Join(b.auditRows(t, k.t.ID, "actor_kind = 'operator'"), "\n")
	for _, want := range []string{"support.started " + op.Email, "support.entered", "child.read support: " + op.Email + " " + k.children[1].String()} {
		if !strings.Contains(log, want) {
			t.Errorf("the city's audit log lacks %q:\n%s", want, log)
		}
	}
	// The access ends by itself …
	b.clock.Advance(31 * time.Minute)
	if r := sup.get(t, "/staff"); r.status != 303 {
		t.Errorf("support after its end: %d", r.status)
	}
	// … or when the operator ends it.
	r = console.submit(t, "/operator", "/operator/tenants/kempten/support", map[string]string{"reason": "Ticket 4712: Rückfrage zur Gruppe", "minutes": "10"})
	link, _ = url.Parse(r.header.Get("Location"))
	sup2 := b.browser("kempten.localhost")
	sup2.submit(t, link.RequestURI(), "/support/enter", map[string]string{"token": link.Query().Get("token")})
	if r := sup2.submit(t, "/staff", "/staff/support/end", nil); r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "/operator?done=support_ended") {
		t.Errorf("end support: %d %q", r.status, r.header.Get("Location"))
	}
	if r := sup2.get(t, "/staff"); r.status != 303 {
		t.Errorf("support after ending it: %d", r.status)
	}
	if n := len(b.auditRows(t, k.t.ID, "action = 'support.ended'")); n != 1 {
		t.Errorf("support.ended entries: %d", n)
	}

	// The console invites a city's first admin.
	r = console.submit(t, "/operator", "/operator/tenants/lueneburg/admins", map[string]string{"email": "admin@lueneburg.test", "first_name": "Lea", "last_name": "Lüne"})
	if r.status != 303 || len(b.mails(t, "staff_invitation")) != 1 {
		t.Errorf("invite first admin: %d", r.status)
	}
	lu := b.tenant(t, "lueneburg")
	if rows := b.auditRows(t, lu.ID, "action = 'staff.invited'"); len(rows) != 1 || !strings.Contains(rows[0], op.Email) {
		t.Errorf("lueneburg's audit log: %v", rows)
	}
	// Staff of a city get nothing on the base domain.
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	kb := b.browser("kempten.localhost")
	kb.staffLogin(t, lead)
	if r := (&browser{b: b, host: "localhost", cookies: kb.cookies}).get(t, "/operator"); r.status != 303 {
		t.Errorf("staff cookie on the console: %d", r.status)
	}
}

// Guessing an operator's password locks out the guessing client, never the operator.
func TestOperatorLoginLockIsPerClient(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/32"})
	op := b.operator(t)
	login := func(ip, password string) response {
		br := b.browser("localhost")
		br.ip = ip
		return br.submit(t, "/operator/login", "/operator/login", map[string]string{"email": op.Email, "password": password})
	}
	const attacker, owner = "198.51.100.66", "203.0.113.10"
	for i := 0; i < 10; i++ {
		if r := login(attacker, "Falsch falsch falsch"); r.status != 401 && r.status != 422 {
			t.Fatalf("wrong password %d: %d", i+1, r.status)
		}
	}
	if r := login(attacker, goodPassword); r.status != 429 {
		t.Errorf("the guessing client with the right password: %d", r.status)
	}
	if r := login(owner, goodPassword); r.status != 303 || r.header.Get("Location") != "/operator/2fa" {
		t.Errorf("the operator from their own client: %d %q", r.status, r.header.Get("Location"))
	}
}
