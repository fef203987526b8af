package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"kitaportal/internal/account"
	"kitaportal/internal/notify"
	"kitaportal/web"
)

const goodPassword = "Zitronenfalter tanzen im Mai"

func TestParentRegistersVerifiesAndSignsIn(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	br := b.browser("kempten.localhost")
	r := br.submit(t, "/register", "/register", map[string]string{
		"first_name": "Mia", "last_name": "Müller", "email": "Mia.Mueller@Example.org", "password": goodPassword})
	// Post/redirect/get: a reload of the answer registers nothing twice.
	if r.status != 303 || r.header.Get("Location") != "/register/sent" {
		t.Fatalf("register: %d %q %.800s", r.status, r.header.Get("Location"), r.body)
	}
	r = br.get(t, "/register/sent")
	mustContain(t, r, "Bitte bestätigen Sie Ihre E-Mail-Adresse")
	ms := b.mails(t, "account_verification")
	if len(ms) != 1 || ms[0].To != "mia.mueller@example.org" || !strings.Contains(ms[0].Subject, "Kinderbetreuung Kempten") ||
		!strings.Contains(ms[0].Text, "http://kempten.localhost:8080/verify?token=") || !strings.Contains(ms[0].HTML, "#") {
		t.Fatalf("verification mail: %+v", ms)
	}
	// Signing in before the address is confirmed fails like a wrong password.
	r = br.submit(t, "/login", "/login", map[string]string{"email": "mia.mueller@example.org", "password": goodPassword})
	if r.status != 401 || !strings.Contains(r.body, "stimmen nicht") {
		t.Fatalf("login before verification: %d", r.status)
	}
	token := b.lastToken(t, "account_verification", "mia.mueller@example.org")
	// A link of Kempten means nothing in Bochum.
	if r := b.browser("bochum.localhost").submit(t, "/verify?token="+token, "/verify", map[string]string{"token": token}); r.status != 422 {
		t.Errorf("kempten token on bochum: %d", r.status)
	}
	r = br.submit(t, "/verify?token="+token, "/verify", map[string]string{"token": token})
	if r.status != 303 || r.header.Get("Location") != "/login?done=verified" {
		t.Fatalf("verify: %d %q %.500s", r.status, r.header.Get("Location"), r.body)
	}
	mustContain(t, br.get(t, "/login?done=verified"), "Ihre E-Mail-Adresse ist bestätigt")
	r = br.submit(t, "/login", "/login", map[string]string{"email": "MIA.mueller@example.org", "password": goodPassword})
	if r.status != 303 || r.header.Get("Location") != "/account" {
		t.Fatalf("login: %d %q %.600s", r.status, r.header.Get("Location"), r.body)
	}
	mustContain(t, br.get(t, "/account"), "Mein Konto", "mia.mueller@example.org", "Mia")
	// The token is used up.
	r = br.submit(t, "/verify?token="+token, "/verify", map[string]string{"token": token})
	if r.status != 422 || !strings.Contains(r.body, "ungültig oder abgelaufen") {
		t.Errorf("replayed token: %d", r.status)
	}
	// Nothing of Bochum: the session is Kempten's alone.
	bochum := &browser{b: b, host: "bochum.localhost", cookies: map[string]string{"kp_session": br.cookies["kp_session"]}}
	if r := bochum.get(t, "/account"); r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Errorf("kempten session on bochum: %d %q", r.status, r.header.Get("Location"))
	}
	// The same address in Bochum is a different account (none yet).
	if r := bochum.submit(t, "/login", "/login", map[string]string{"email": "mia.mueller@example.org", "password": goodPassword}); r.status != 401 {
		t.Errorf("kempten account signs in on bochum: %d", r.status)
	}
	// Sign-out ends the session on the server.
	sid := br.cookies["kp_session"]
	r = br.submit(t, "/account", "/logout", nil)
	if r.status != 303 || br.cookies["kp_session"] != "" {
		t.Errorf("logout: %d, cookie %q", r.status, br.cookies["kp_session"])
	}
	stale := &browser{b: b, host: "kempten.localhost", cookies: map[string]string{"kp_session": sid}}
	if r := stale.get(t, "/account"); r.status != 303 {
		t.Errorf("a signed-out session still works: %d", r.status)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		publicURL, name string
		secure          bool
	}{{"http://localhost:8080", "kp_session", false}, {"https://localhost", "__Host-kp_session", true}} {
		b := setup(t, map[string]string{"PUBLIC_URL": tc.publicURL})
		b.parent(t, "kempten", "pia@example.org")
		br := b.browser("kempten.localhost")
		r := br.submit(t, "/login", "/login", map[string]string{"email": "pia@example.org", "password": goodPassword})
		var c *http.Cookie
		for _, ck := range (&http.Response{Header: r.header}).Cookies() {
			if ck.Name == tc.name {
				c = ck
			}
		}
		if c == nil {
			t.Fatalf("%s: no %s cookie in %v", tc.publicURL, tc.name, r.header.Values("Set-Cookie"))
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.secure || c.Domain != "" || c.Path != "/" {
			t.Errorf("%s: cookie %+v", tc.publicURL, c)
		}
	}
}

func TestRegistrationAndResetDoNotRevealAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.parent(t, "kempten", "known@example.org")
	answer := func(email string) (int, string) {
		br := b.browser("kempten.localhost")
		r := br.submit(t, "/register", "/register", map[string]string{"first_name": "Ida", "last_name": "Iske", "email": email, "password": goodPassword})
		if r.status == 303 {
			r = br.get(t, r.header.Get("Location"))
		}
		return r.status, r.body[strings.Index(r.body, "<main"):]
	}
	s1, known := answer("known@example.org")
	s2, unknown := answer("unknown@example.org")
	if s1 != 200 || s2 != 200 || strings.ReplaceAll(known, "known", "") != strings.ReplaceAll(unknown, "unknown", "") {
		t.Errorf("registration answers differ: %d %d", s1, s2)
	}
	if ms := b.mails(t, "account_exists"); len(ms) != 1 || ms[0].To != "known@example.org" {
		t.Errorf("the known address gets a note instead of a link: %+v", ms)
	}
	if ms := b.mails(t, "account_verification"); len(ms) != 1 || ms[0].To != "unknown@example.org" {
		t.Errorf("verification mails: %+v", ms)
	}

	// Sign-in: unknown address and wrong password look the same.
	login := func(email, pw string) (int, map[string]any) {
		return b.api("kempten.localhost").call(t, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw})
	}
	s1, b1 := login("known@example.org", "Falsches Passwort 123")
	s2, b2 := login("nobody@example.org", "Falsches Passwort 123")
	if s1 != 401 || s2 != 401 || b1["error"].(map[string]any)["message"] != b2["error"].(map[string]any)["message"] {
		t.Errorf("sign-in failures differ: %d %v / %d %v", s1, b1, s2, b2)
	}

	// Reset: same answer; the request only records a job, the job decides.
	a := b.api("kempten.localhost")
	for _, email := range []string{"known@example.org", "nobody@example.org"} {
		if status, body := a.call(t, "POST", "/api/v1/auth/password/forgot", map[string]string{"email": email}); status != 202 || body["status"] != "reset_requested" {
			t.Errorf("forgot %s: %d %v", email, status, body)
		}
	}
	b.runResetJobs(t)
	if ms := b.mails(t, "password_reset"); len(ms) != 1 || ms[0].To != "known@example.org" {
		t.Fatalf("reset mails: %+v", ms)
	}
}

// runResetJobs runs the recorded reset-request jobs as the worker would.
func (b *bundle) runResetJobs(t *testing.T) {
	t.Helper()
	var payloads []string
	if err := b.db.NewRaw(`SELECT payload::text FROM outbox WHERE task_type = ? AND relayed_at IS NULL ORDER BY id`, account.TaskResetRequest).
		Scan(context.Background(), &payloads); err != nil {
		t.Fatal(err)
	}
	mails, err := notify.NewTemplates(web.FS, b.deps.Views.Catalogue())
	if err != nil {
		t.Fatal(err)
	}
	svc := account.NewService(account.Deps{DB: b.db, Mails: mails, Clock: b.clock, Links: notify.NewLinks(b.deps.Config.TenantURL)})
	jobs := account.NewResetJobs(svc, b.reg)
	for _, p := range payloads {
		if err := jobs.Handle(context.Background(), asynq.NewTask(account.TaskResetRequest, []byte(p))); err != nil {
			t.Fatal(err)
		}
	}
	b.exec(`UPDATE outbox SET relayed_at = now() WHERE task_type = ?`, account.TaskResetRequest)
}

func TestPasswordResetEndsSessionsAndLinksExpire(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.parent(t, "kempten", "pia@example.org")
	old := b.api("kempten.localhost")
	old.login(t, "pia@example.org")

	br := b.browser("kempten.localhost")
	br.submit(t, "/password/forgot", "/password/forgot", map[string]string{"email": "pia@example.org"})
	br.submit(t, "/password/forgot", "/password/forgot", map[string]string{"email": "pia@example.org"})
	b.runResetJobs(t)
	first, second := b.mails(t, "password_reset")[0], b.mails(t, "password_reset")[1]
	firstToken, secondToken := linkToken.FindStringSubmatch(first.Text)[1], linkToken.FindStringSubmatch(second.Text)[1]

	if r := br.submit(t, "/password/reset?token="+secondToken, "/password/reset", map[string]string{"token": secondToken, "password": "123456789a"}); r.status != 422 || !strings.Contains(r.body, "zu leicht zu erraten") {
		t.Errorf("weak new password: %d", r.status)
	}
	r := br.submit(t, "/password/reset?token="+secondToken, "/password/reset", map[string]string{"token": secondToken, "password": "Neue Blumen im Garten"})
	if r.status != 303 || r.header.Get("Location") != "/login?done=password_reset" {
		t.Fatalf("reset: %d %.300s", r.status, r.body)
	}
	if status, _ := old.call(t, "GET", "/api/v1/me", nil); status != 401 {
		t.Errorf("a token from before the reset still works: %d", status)
	}
	for _, tok := range []string{secondToken, firstToken} { // used, and superseded by the one used
		if r := br.submit(t, "/password/reset?token="+tok, "/password/reset", map[string]string{"token": tok, "password": "Noch ein neues Passwort"}); r.status != 422 {
			t.Errorf("token %s…: %d", tok[:6], r.status)
		}
	}
	if ms := b.mails(t, "password_changed"); len(ms) != 1 {
		t.Errorf("no note about the changed password: %d", len(ms))
	}
	// A link older than its lifetime is refused.
	br.submit(t, "/password/forgot", "/password/forgot", map[string]string{"email": "pia@example.org"})
	b.runResetJobs(t)
	late := b.lastToken(t, "password_reset", "pia@example.org")
	b.clock.Advance(account.ResetTTL + time.Minute)
	if r := br.submit(t, "/password/reset?token="+late, "/password/reset", map[string]string{"token": late, "password": "Spät ist es geworden"}); r.status != 422 {
		t.Errorf("expired link: %d", r.status)
	}
}

func TestBadInputGetsClearErrorsInTheUsersLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.api("kempten.localhost")
	a.lang = "en"
	cases := []struct {
		name  string
		body  map[string]string
		field string
		code  string
		text  string
	}{
		{"common password", map[string]string{"email": "a@example.org", "password": "Passwort2024!", "first_name": "Ann", "last_name": "Arp"}, "password", "password_common", "too easy to guess"},
		{"1337 password", map[string]string{"email": "a@example.org", "password": "P4ssw0rd!!", "first_name": "Ann", "last_name": "Arp"}, "password", "password_common", "too easy to guess"},
		{"short password", map[string]string{"email": "a@example.org", "password": "kurz", "first_name": "Ann", "last_name": "Arp"}, "password", "password_too_short", "at least 10"},
		{"password with name", map[string]string{"email": "a@example.org", "password": "Arpeggio und Mondlicht", "first_name": "Ann", "last_name": "Arpeggio"}, "password", "password_personal", "your name"},
		{"malformed e-mail", map[string]string{"email": "a@@example", "password": goodPassword, "first_name": "Ann", "last_name": "Arp"}, "email", "email_invalid", "valid e-mail"},
		{"look-alike e-mail", map[string]string{"email": "аnna@example.org", "password": goodPassword, "first_name": "Ann", "last_name": "Arp"}, "email", "email_invalid", "Latin letters"},
		{"bidi override in name", map[string]string{"email": "a@example.org", "password": goodPassword, "first_name": "Ann\u202egnp.exe", "last_name": "Arp"}, "first_name", "name_invalid_characters", "invisible"},
		{"zero-width in name", map[string]string{"email": "a@example.org", "password": goodPassword, "first_name": "An\u200bn", "last_name": "Arp"}, "first_name", "name_invalid_characters", "invisible"},
		{"control character", map[string]string{"email": "a@example.org", "password": goodPassword, "first_name": "Ann", "last_name": "Ar\x07p"}, "last_name", "name_invalid_characters", "control"},
		{"oversized name", map[string]string{"email": "a@example.org", "password": goodPassword, "first_name": strings.Repeat("A", 300), "last_name": "Arp"}, "first_name", "field_too_long", "at most 100"},
		{"oversized e-mail", map[string]string{"email": strings.Repeat("a", 300) + "@example.org", "password": goodPassword, "first_name": "Ann", "last_name": "Arp"}, "email", "field_too_long", "at most 254"},
		{"oversized password", map[string]string{"email": "a@example.org", "password": strings.Repeat("x", 5000), "first_name": "Ann", "last_name": "Arp"}, "password", "password_too_long", "at most 128"},
	}
	for _, tc := range cases {
		status, body := a.call(t, "POST", "/api/v1/auth/register", tc.body)
		e, _ := body["error"].(map[string]any)
		details, _ := e["details"].(map[string]any)
		found := false
		for _, it := range details["errors"].([]any) {
			item := it.(map[string]any)
			if item["field"] == tc.field && item["code"] == tc.code && strings.Contains(item["message"].(string), tc.text) {
				found = true
			}
		}
		if status != 422 || !found {
			t.Errorf("%s: %d %v", tc.name, status, body)
		}
	}
	// A decomposed umlaut is stored composed (NFC).
	if status, _ := a.call(t, "POST", "/api/v1/auth/register", map[string]string{"email": "nfc@example.org", "password": goodPassword,
		"first_name": "Jo\u0308rg", "last_name": "Mu\u0308ller"}); status != 201 {
		t.Fatalf("decomposed umlauts refused: %d", status)
	}
	// The names live with the verification token until the address is confirmed.
	var payload string
	_ = b.db.QueryRowContext(context.Background(), `SELECT payload::text FROM account_token ORDER BY created_at DESC LIMIT 1`).Scan(&payload)
	var p map[string]string
	_ = json.Unmarshal([]byte(payload), &p)
	if p["first_name"] != "Jörg" || p["last_name"] != "Müller" || strings.Contains(payload, "Zitronenfalter") {
		t.Errorf("stored names %q %q (and never the password)", p["first_name"], p["last_name"])
	}
	// Garbage instead of JSON.
	if status, body := a.call(t, "POST", "/api/v1/auth/login", "not json"); status != 400 || errCode(body) != "invalid_json" {
		t.Errorf("garbage body: %d %v", status, body)
	}
	// A form without its CSRF token is refused and says so.
	br := b.browser("kempten.localhost")
	r := br.post(t, "/register", map[string]string{"email": "a@example.org", "password": goodPassword, "first_name": "A", "last_name": "B"}, "")
	if r.status != 403 || !strings.Contains(r.body, "Das Formular ist abgelaufen") {
		t.Errorf("missing CSRF token: %d", r.status)
	}
	r = br.post(t, "/register", map[string]string{"email": "a@example.org"}, "forged-token")
	if r.status != 403 {
		t.Errorf("forged CSRF token: %d", r.status)
	}
}

func TestBruteForceIsRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/32"})
	b.parent(t, "kempten", "pia@example.org")
	// Per account: ten tries in a quarter of an hour, from ever new addresses.
	var last int
	var body map[string]any
	for i := 0; i < 11; i++ {
		a := b.api("kempten.localhost")
		a.ip = "198.51.100." + string(rune('1'+i%9)) + "0"
		last, body = a.call(t, "POST", "/api/v1/auth/login", map[string]string{"email": "pia@example.org", "password": "Falsch falsch falsch"})
	}
	if last != 429 || errCode(body) != "rate_limited" || !strings.Contains(body["error"].(map[string]any)["message"].(string), "Minuten") {
		t.Errorf("11th try: %d %v", last, body)
	}
	// The right password still gets the owner in: guessing cannot lock an account out.
	a := b.api("kempten.localhost")
	a.ip = "203.0.113.9"
	if status, body := a.call(t, "POST", "/api/v1/auth/login", map[string]string{"email": "pia@example.org", "password": goodPassword}); status != 200 {
		t.Errorf("right password during the limit: %d %v", status, body)
	}
	// Another city's account of the same address is not affected.
	b.parent(t, "bochum", "pia@example.org")
	other := b.api("bochum.localhost")
	other.ip = "203.0.113.9"
	other.login(t, "pia@example.org")
	// Per address: registrations from one address stop after twenty.
	reg := b.api("kempten.localhost")
	reg.ip = "192.0.2.77"
	for i := 0; i < 21; i++ {
		last, body = reg.call(t, "POST", "/api/v1/auth/register", map[string]string{"email": "x" + string(rune('a'+i)) + "@example.org",
			"password": goodPassword, "first_name": "X", "last_name": "Y"})
	}
	if last != 429 {
		t.Errorf("21st registration from one address: %d %v", last, body)
	}
}

func TestLoginLockIsPerClient(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/32"})
	b.parent(t, "kempten", "lea@example.org")
	login := func(ip, password string) (int, map[string]any) {
		a := b.api("kempten.localhost")
		a.ip = ip
		return a.call(t, "POST", "/api/v1/auth/login", map[string]string{"email": "lea@example.org", "password": password})
	}
	const attacker, owner, other = "198.51.100.66", "203.0.113.10", "203.0.113.11"
	for i := 0; i < 10; i++ {
		if status, body := login(attacker, "Falsch falsch falsch"); status != 401 {
			t.Fatalf("wrong password %d: %d %v", i+1, status, body)
		}
	}
	// The guessing client is locked out, with the right password too (no password check
	// happens, so the lock gives nothing away).
	for _, pw := range []string{"Falsch falsch falsch", goodPassword} {
		if status, body := login(attacker, pw); status != 429 || errCode(body) != "rate_limited" {
			t.Errorf("locked client, %q: %d %v", pw, status, body)
		}
	}
	// Wrong passwords from another client are answered "too many", and that client soon
	// is locked out as well.
	for i := 0; i < 3; i++ {
		if status, body := login(other, "Falsch falsch falsch"); status != 429 || errCode(body) != "rate_limited" {
			t.Errorf("wrong password from another client %d: %d %v", i+1, status, body)
		}
	}
	if status, _ := login(other, goodPassword); status != 429 {
		t.Errorf("fourth try from the other client: %d", status)
	}
	// The owner's client signs in with the right password, and doing so lifts the
	// account's count: a later typo is an ordinary failure.
	if status, body := login(owner, goodPassword); status != 200 {
		t.Fatalf("owner from another client: %d %v", status, body)
	}
	if status, body := login(owner, "Vertippt vertippt"); status != 401 || errCode(body) != "login_failed" {
		t.Errorf("owner's typo after sign-in: %d %v", status, body)
	}
	if status, _ := login(owner, goodPassword); status != 200 {
		t.Errorf("owner again: %d", status)
	}
	// The attacker's client stays locked until its window ends.
	if status, _ := login(attacker, goodPassword); status != 429 {
		t.Errorf("attacker after the owner's sign-in: %d", status)
	}
}

func TestAPIAccountFlow(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.api("kempten.localhost")
	status, body := a.call(t, "POST", "/api/v1/auth/register", map[string]string{"email": "api@example.org", "password": goodPassword,
		"first_name": "Ali", "last_name": "Api", "language": "en"})
	if status != 201 || body["status"] != "verification_sent" {
		t.Fatalf("register: %d %v", status, body)
	}
	if ms := b.mails(t, "account_verification"); len(ms) != 1 || ms[0].Lang != "en" || !strings.Contains(ms[0].Subject, "Please confirm") {
		t.Errorf("the mail is not in the chosen language: %+v", ms)
	}
	token := b.lastToken(t, "account_verification", "api@example.org")
	if status, body := a.call(t, "POST", "/api/v1/auth/verify", map[string]string{"token": token + "x"}); status != 422 || errCode(body) != "token_invalid" {
		t.Errorf("wrong token: %d %v", status, body)
	}
	if status, _ := a.call(t, "POST", "/api/v1/auth/verify", map[string]string{"token": token}); status != 200 {
		t.Fatalf("verify: %d", status)
	}
	a.login(t, "api@example.org")
	status, me := a.call(t, "GET", "/api/v1/me", nil)
	if status != 200 || me["email"] != "api@example.org" || me["kind"] != "parent" || me["language"] != "en" {
		t.Errorf("me: %d %v", status, me)
	}
	if status, body := a.call(t, "PATCH", "/api/v1/me", map[string]string{"first_name": "Alina"}); status != 200 || body["first_name"] != "Alina" || body["last_name"] != "Api" {
		t.Errorf("patch me: %d %v", status, body)
	}
	// The token works only on its own city's host, and never as a cookie.
	other := b.api("bochum.localhost")
	other.token = a.token
	if status, body := other.call(t, "GET", "/api/v1/me", nil); status != 401 || errCode(body) != "unauthenticated" {
		t.Errorf("kempten token on bochum: %d %v", status, body)
	}
	asCookie := &browser{b: b, host: "kempten.localhost", cookies: map[string]string{"kp_session": a.token}}
	if r := asCookie.get(t, "/account"); r.status != 303 {
		t.Errorf("bearer token as cookie: %d", r.status)
	}
	// Parents have no business in the staff API.
	if status, _ := a.call(t, "GET", "/api/v1/staff/facilities", nil); status != 403 {
		t.Errorf("parent on the staff API: %d", status)
	}
	if status, _ := a.call(t, "POST", "/api/v1/auth/logout", nil); status != 200 {
		t.Errorf("logout: %d", status)
	}
	if status, _ := a.call(t, "GET", "/api/v1/me", nil); status != 401 {
		t.Errorf("a revoked token still works: %d", status)
	}
	// Tokens expire.
	a.login(t, "api@example.org")
	b.clock.Advance(31 * 24 * time.Hour)
	if status, _ := a.call(t, "GET", "/api/v1/me", nil); status != 401 {
		t.Errorf("an expired token still works: %d", status)
	}
}

func TestChangeEmailAndPassword(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.parent(t, "kempten", "pia@example.org")
	b.parent(t, "kempten", "taken@example.org")
	br := b.browser("kempten.localhost")
	br.parentLogin(t, "pia@example.org")
	other := b.api("kempten.localhost")
	other.login(t, "pia@example.org")

	if r := br.submit(t, "/account", "/account/password", map[string]string{"current_password": "falsch", "password": "Ganz neue Worte hier"}); r.status != 422 || !strings.Contains(r.body, "Das aktuelle Passwort stimmt nicht") {
		t.Errorf("wrong current password: %d", r.status)
	}
	if r := br.submit(t, "/account", "/account/password", map[string]string{"current_password": goodPassword, "password": "Ganz neue Worte hier"}); r.status != 303 {
		t.Fatalf("change password: %d %.300s", r.status, r.body)
	}
	if status, _ := other.call(t, "GET", "/api/v1/me", nil); status != 401 {
		t.Errorf("other sessions survive a password change: %d", status)
	}
	mustContain(t, br.get(t, "/account?done=password_changed"), "Ihr Passwort wurde geändert")

	if r := br.submit(t, "/account", "/account/email", map[string]string{"current_password": "Ganz neue Worte hier", "email": "pia.neu@example.org"}); r.status != 303 {
		t.Fatalf("change e-mail: %d %.300s", r.status, r.body)
	}
	token := b.lastToken(t, "email_change", "pia.neu@example.org")
	r := br.submit(t, "/account/email/confirm?token="+token, "/account/email/confirm", map[string]string{"token": token})
	if r.status != 303 || r.header.Get("Location") != "/account?done=email_changed" {
		t.Fatalf("confirm: %d %q", r.status, r.header.Get("Location"))
	}
	mustContain(t, br.get(t, "/account"), "pia.neu@example.org")
	if ms := b.mails(t, "email_changed"); len(ms) != 1 || ms[0].To != "pia@example.org" {
		t.Errorf("the old address is not told: %+v", ms)
	}
	// Taking an address that another account of the city has is refused after the link.
	br.submit(t, "/account", "/account/email", map[string]string{"current_password": "Ganz neue Worte hier", "email": "taken@example.org"})
	token = b.lastToken(t, "email_change", "taken@example.org")
	if r := br.submit(t, "/account/email/confirm?token="+token, "/account/email/confirm", map[string]string{"token": token}); r.status != 422 || !strings.Contains(r.body, "schon ein anderes Konto") {
		t.Errorf("taken address: %d", r.status)
	}
}

func TestDeleteAccountKeepsOnlyWhatTheLawRequires(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	pia := b.parent(t, "kempten", "pia@example.org")
	// Pia's family 0 has a contract (kept). Ole's family has none (deleted with his
	// account); Ida's is shared with Eva, who still manages it (kept, Ida leaves).
	b.exec(`UPDATE guardian SET user_id = ?, email = 'pia@example.org', phone = '0831 123' WHERE tenant_id = ? AND family_id = ?`, pia, k.t.ID, k.families[0])
	ole := b.parent(t, "kempten", "ole@example.org")
	b.exec(`INSERT INTO family (tenant_id, id) VALUES (?, '11111111-1111-4111-8111-111111111111')`, k.t.ID)
	b.exec(`INSERT INTO guardian (tenant_id, family_id, user_id, first_name, last_name) VALUES (?, '11111111-1111-4111-8111-111111111111', ?, 'Ole', 'P')`, k.t.ID, ole)
	b.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, expected_birth_date) VALUES (?, '22222222-2222-4222-8222-222222222222', '11111111-1111-4111-8111-111111111111', 'Ungeboren', 'P', '2027-01-01')`, k.t.ID)
	ida, eva := b.parent(t, "kempten", "ida@example.org"), b.parent(t, "kempten", "eva@example.org")
	b.exec(`INSERT INTO family (tenant_id, id) VALUES (?, '33333333-3333-4333-8333-333333333333')`, k.t.ID)
	b.exec(`INSERT INTO guardian (tenant_id, family_id, user_id, first_name, last_name) VALUES (?, '33333333-3333-4333-8333-333333333333', ?, 'Ida', 'Q'),
		(?, '33333333-3333-4333-8333-333333333333', ?, 'Eva', 'Q')`, k.t.ID, ida, k.t.ID, eva)
	b.exec(`INSERT INTO child (tenant_id, family_id, first_name, last_name, birth_date) VALUES (?, '33333333-3333-4333-8333-333333333333', 'Geteilt', 'Q', '2025-01-01')`, k.t.ID)
	for _, who := range []string{"ole@example.org", "ida@example.org"} {
		ob := b.browser("kempten.localhost")
		ob.parentLogin(t, who)
		if r := ob.submit(t, "/account/delete", "/account/delete", map[string]string{"current_password": goodPassword}); r.status != 200 {
			t.Fatalf("%s deletes: %d", who, r.status)
		}
	}

	br := b.browser("kempten.localhost")
	br.parentLogin(t, "pia@example.org")
	mustContain(t, br.get(t, "/account/delete"), "Aufbewahrt werden nur abgeschlossene Betreuungsverträge")
	if r := br.submit(t, "/account/delete", "/account/delete", map[string]string{"current_password": "falsch"}); r.status != 422 {
		t.Errorf("wrong password: %d", r.status)
	}
	r := br.submit(t, "/account/delete", "/account/delete", map[string]string{"current_password": goodPassword})
	if r.status != 200 || !strings.Contains(r.body, "bewahren wir auf, solange das Gesetz es verlangt") {
		t.Fatalf("delete: %d %.400s", r.status, r.body)
	}
	count := func(q string, args ...any) int {
		var n int
		if err := b.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM family WHERE id = '11111111-1111-4111-8111-111111111111'`); n != 0 {
		t.Error("the family without a contract was kept")
	}
	if n := count(`SELECT count(*) FROM guardian WHERE family_id = '33333333-3333-4333-8333-333333333333' AND user_id = ?`, eva); n != 1 {
		t.Error("Eva's family went with Ida's account")
	}
	if n := count(`SELECT count(*) FROM guardian WHERE user_id = ?`, ida); n != 0 {
		t.Error("Ida is still linked")
	}
	if n := count(`SELECT count(*) FROM contract WHERE child_id = ?`, k.children[0]); n != 1 {
		t.Error("the contract was deleted")
	}
	if n := count(`SELECT count(*) FROM guardian WHERE family_id = ? AND (user_id IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL) AND last_name = 'Elternteil'||?`,
		k.families[0], k.Marker); n != 0 {
		t.Error("contact data stayed on the kept family")
	}
	if n := count(`SELECT count(*) FROM account WHERE id = ? AND status = 'deleted' AND first_name = '' AND password_hash IS NULL AND email LIKE 'deleted-%'`, pia); n != 1 {
		t.Error("the account is not anonymised")
	}
	if n := count(`SELECT count(*) FROM auth_session WHERE account_id = ?`, pia); n != 0 {
		t.Error("sessions survived the deletion")
	}
	if ms := b.mails(t, "account_deleted"); len(ms) != 3 || ms[2].To != "pia@example.org" || !strings.Contains(ms[2].Text, "bewahren wir auf") {
		t.Errorf("confirmation mail: %+v", ms)
	}
	// The address is free for a new registration.
	a := b.api("kempten.localhost")
	if status, _ := a.call(t, "POST", "/api/v1/auth/register", map[string]string{"email": "pia@example.org", "password": goodPassword, "first_name": "Pia", "last_name": "Neu"}); status != 201 {
		t.Errorf("re-registration: %d", status)
	}
	if len(b.mails(t, "account_verification")) != 1 {
		t.Error("a new registration of the freed address gets no verification link")
	}
}

// An account that signs in only through the city's identity provider has no password to
// ask for: deleting it is confirmed with its e-mail address instead.
func TestAnAccountWithoutPasswordIsDeletedWithItsEmail(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	ben := b.parent(t, "kempten", "ben@example.org")
	br := b.browser("kempten.localhost")
	br.parentLogin(t, "ben@example.org")
	b.exec(`UPDATE account SET password_hash = NULL WHERE tenant_id = ? AND id = ?`, k.t.ID, ben) // as an OIDC sign-up leaves it
	mustContain(t, br.get(t, "/account/delete"), "Ihre E-Mail-Adresse zur Bestätigung", `type="email"`)
	if r := br.submit(t, "/account/delete", "/account/delete", map[string]string{"current_password": "someone@example.org"}); r.status != 422 ||
		!strings.Contains(r.body, "stimmt nicht mit der Ihres Kontos überein") {
		t.Fatalf("a wrong address: %d", r.status)
	}
	if r := br.submit(t, "/account/delete", "/account/delete", map[string]string{"current_password": " Ben@Example.org "}); r.status != 200 {
		t.Fatalf("deletion with the address: %d %.300s", r.status, r.body)
	}
	if n := b.count(t, `SELECT count(*) FROM account WHERE tenant_id = ? AND email = 'ben@example.org'`, k.t.ID); n != 0 {
		t.Errorf("the account still has its address after deletion")
	}
}
