package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/oauth2-proxy/mockoidc"

	"kitaportal/internal/tenant"
)

// oidcUser is a provider account of the test provider, with the claims of a
// BundID-style identity (verified name, acr); issuer, if set, forges the token's issuer.
type oidcUser struct {
	sub, email    string
	verified      bool
	given, family string
	acr           string
	issuer        string
}

func (u oidcUser) ID() string { return u.sub }

func (u oidcUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": u.sub, "email": u.email})
}

type oidcTestClaims struct {
	*mockoidc.IDTokenClaims
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	ACR           string `json:"acr,omitempty"`
}

func (u oidcUser) Claims(_ []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if u.issuer != "" {
		c.Issuer = u.issuer
	}
	return &oidcTestClaims{IDTokenClaims: c, Email: u.email, EmailVerified: u.verified, GivenName: u.given, FamilyName: u.family, ACR: u.acr}, nil
}

type oidcRig struct {
	b *bundle
	m *mockoidc.MockOIDC
	t *tenant.Tenant
}

// oidcSetup starts the test provider and configures it as kempten's sign-in.
func oidcSetup(t *testing.T) *oidcRig {
	t.Helper()
	b := setup(t, nil)
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	os.Setenv("KP_TEST_OIDC_SECRET", m.ClientSecret)
	tn := b.tenant(t, "kempten")
	r := *tn.Rules
	r.SignIn = &tenant.SignIn{OIDC: &tenant.OIDCSignIn{Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecretEnv: "KP_TEST_OIDC_SECRET",
		Scopes: []string{"email", "profile"}, Label: tenant.Text{"de": "Mit BundID anmelden", "en": "Sign in with BundID"},
		TrustLevels: map[string]tenant.Text{"STORK-QAA-Level-3": {"de": "substanziell", "en": "substantial"}}}}
	ctx := context.Background()
	if _, err := tenant.NewStore(b.db).SaveVersion(ctx, tn.ID, tn.RulesVersion, &r, uuid.New(), "oidc test"); err != nil {
		t.Fatal(err)
	}
	if err := b.reg.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return &oidcRig{b: b, m: m, t: b.tenant(t, "kempten")}
}

var noRedirect = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize starts the sign-in in br and lets the provider answer for u; tamper may
// change the authorization request first. It returns the callback path.
func (rg *oidcRig) authorize(t *testing.T, br *browser, u oidcUser, tamper func(url.Values)) string {
	t.Helper()
	r := br.get(t, "/login/oidc")
	if r.status != 303 {
		t.Fatalf("start: %d %.300s", r.status, r.body)
	}
	au, err := url.Parse(r.header.Get("Location"))
	if err != nil || !strings.HasPrefix(au.String(), rg.m.AuthorizationEndpoint()) {
		t.Fatalf("start goes to %q", r.header.Get("Location"))
	}
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorization request lacks PKCE, nonce or state: %v", q)
	}
	if tamper != nil {
		tamper(q)
		au.RawQuery = q.Encode()
	}
	rg.m.QueueUser(u)
	res, err := noRedirect.Get(au.String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cb, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("provider answered %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	return "/login/oidc/callback?" + cb.RawQuery
}

func (rg *oidcRig) accountOf(t *testing.T, sub string) (id uuid.UUID, n int) {
	t.Helper()
	err := rg.b.db.NewRaw(`SELECT account_id FROM account_identity WHERE tenant_id = ? AND issuer = ? AND subject = ?`, rg.t.ID, rg.m.Issuer(), sub).
		Scan(context.Background(), &id)
	if err != nil {
		t.Fatalf("identity of %s: %v", sub, err)
	}
	if err := rg.b.db.NewRaw(`SELECT count(*) FROM account_identity WHERE tenant_id = ?`, rg.t.ID).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return id, n
}

// oidcRefused asserts an error page with the message and no session.
func oidcRefused(t *testing.T, br *browser, r response, status int, text string) {
	t.Helper()
	if r.status != status || !strings.Contains(r.body, text) {
		t.Fatalf("want %d with %q, got %d %.600s", status, text, r.status, r.body)
	}
	if _, ok := br.cookies["kp_session"]; ok {
		t.Fatalf("a refused sign-in left a session cookie")
	}
}

func TestOIDCSignIn(t *testing.T) {
	rg := oidcSetup(t)
	b := rg.b
	anna := oidcUser{sub: "bundid-anna", email: "anna@kempten.test", verified: true, given: "Anna", family: "Amsel", acr: "STORK-QAA-Level-3"}

	t.Run("login page shows the button only where configured", func(t *testing.T) {
		if r := b.browser("kempten.localhost").get(t, "/login"); !strings.Contains(r.body, "Mit BundID anmelden") || !strings.Contains(r.body, `href="/login/oidc`) {
			t.Fatalf("kempten login page lacks the button: %.400s", r.body)
		}
		if r := b.browser("bochum.localhost").get(t, "/login"); strings.Contains(r.body, "/login/oidc") {
			t.Fatal("bochum shows a provider it does not have")
		}
		if r := b.browser("bochum.localhost").get(t, "/login/oidc"); r.status != 404 {
			t.Fatalf("bochum /login/oidc: %d", r.status)
		}
	})

	var annaID uuid.UUID
	t.Run("first sign-in creates the account with the verified name", func(t *testing.T) {
		br := b.browser("kempten.localhost")
		r := br.get(t, rg.authorize(t, br, anna, nil))
		if r.status != 303 || r.header.Get("Location") != "/account" || br.cookies["kp_session"] == "" {
			t.Fatalf("callback: %d %q %.300s", r.status, r.header.Get("Location"), r.body)
		}
		var n int
		annaID, n = rg.accountOf(t, anna.sub)
		if n != 1 {
			t.Fatalf("%d identities", n)
		}
		var first, last, email string
		var verified *time.Time
		if err := b.db.NewRaw(`SELECT first_name, last_name, email, email_verified_at FROM account WHERE tenant_id = ? AND id = ?`, rg.t.ID, annaID).
			Scan(context.Background(), &first, &last, &email, &verified); err != nil {
			t.Fatal(err)
		}
		if first != "Anna" || last != "Amsel" || email != anna.email || verified == nil {
			t.Fatalf("account %q %q %q %v", first, last, email, verified)
		}
		var acr string
		_ = b.db.NewRaw(`SELECT acr FROM account_identity WHERE tenant_id = ? AND account_id = ?`, rg.t.ID, annaID).Scan(context.Background(), &acr)
		if acr != "STORK-QAA-Level-3" {
			t.Fatalf("acr %q", acr)
		}
		if r := br.get(t, "/account"); r.status != 200 || !strings.Contains(r.body, "Mit BundID anmelden") ||
			!strings.Contains(r.body, "bestätigter Name: Anna Amsel") || !strings.Contains(r.body, "Vertrauensniveau: substanziell") {
			t.Fatalf("account page does not show the verified name and trust level: %d %.2000s", r.status, r.body)
		}
		if r := br.get(t, "/family"); r.status != 200 || !strings.Contains(r.body, `value="Amsel"`) {
			t.Fatalf("family form does not start from the verified name: %d", r.status)
		}
	})

	t.Run("second sign-in reuses the account", func(t *testing.T) {
		br := b.browser("kempten.localhost")
		if r := br.get(t, rg.authorize(t, br, anna, nil)); r.status != 303 || br.cookies["kp_session"] == "" {
			t.Fatalf("callback: %d %.300s", r.status, r.body)
		}
		if id, n := rg.accountOf(t, anna.sub); id != annaID || n != 1 {
			t.Fatalf("second sign-in: account %s (want %s), %d identities", id, annaID, n)
		}
	})

	t.Run("replayed state", func(t *testing.T) {
		br := b.browser("kempten.localhost")
		cb := rg.authorize(t, br, anna, nil)
		state := br.cookies["kp_oidc"]
		if r := br.get(t, cb); r.status != 303 {
			t.Fatalf("first use: %d", r.status)
		}
		replay := b.browser("kempten.localhost")
		replay.cookies["kp_oidc"] = state // even with the cookie of the first browser
		oidcRefused(t, replay, replay.get(t, cb), 400, "Anmeldung ist ungültig oder abgelaufen")
	})

	t.Run("forged state", func(t *testing.T) {
		br := b.browser("kempten.localhost")
		cb := rg.authorize(t, br, anna, nil)
		u, _ := url.Parse(cb)
		q := u.Query()
		q.Set("state", "forged-"+q.Get("state")[:10])
		br.cookies["kp_oidc"] = q.Get("state")
		oidcRefused(t, br, br.get(t, "/login/oidc/callback?"+q.Encode()), 400, "Anmeldung ist ungültig oder abgelaufen")
		// a state from another browser (login CSRF): the victim's browser lacks the cookie
		other := b.browser("kempten.localhost")
		oidcRefused(t, other, other.do(t, "GET", rg.authorize(t, b.browser("kempten.localhost"), anna, nil), nil, "Accept-Language", "en"), 400,
			"This sign-in is invalid or has expired")
	})

	t.Run("wrong nonce", func(t *testing.T) {
		br := b.browser("kempten.localhost")
		cb := rg.authorize(t, br, anna, func(q url.Values) { q.Set("nonce", "not-the-nonce-we-sent") })
		oidcRefused(t, br, br.get(t, cb), 401, "gehört nicht zu dieser Anmeldung")
		var n int
		if err := b.db.NewRaw(`SELECT count(*) FROM audit_event WHERE tenant_id = ? AND action = 'auth.login_failed' AND details->>'reason' = 'oidc_nonce'`, rg.t.ID).
			Scan(context.Background(), &n); err != nil || n != 1 {
			t.Fatalf("audit entries of the refusal: %d %v", n, err)
		}
	})

	t.Run("foreign issuer", func(t *testing.T) {
		br := b.browser("kempten.localhost")
		evil := anna
		evil.issuer = "https://idp.evil.example"
		oidcRefused(t, br, br.get(t, rg.authorize(t, br, evil, nil)), 401, "nicht vom Identitätsanbieter dieser Stadt")
	})

	t.Run("expired token", func(t *testing.T) {
		br := b.browser("kempten.localhost")
		rg.m.FastForward(-time.Hour) // the provider's clock: the token expired 50 minutes ago
		cb := rg.authorize(t, br, anna, nil)
		r := br.get(t, cb)
		rg.m.FastForward(time.Hour)
		oidcRefused(t, br, r, 401, "Bestätigung des Identitätsanbieters ist abgelaufen")
	})

	t.Run("matching e-mail: linked only when the provider verified it", func(t *testing.T) {
		pia := b.parent(t, "kempten", "pia@kempten.test")
		br := b.browser("kempten.localhost")
		unverified := oidcUser{sub: "bundid-pia", email: "pia@kempten.test"}
		oidcRefused(t, br, br.get(t, rg.authorize(t, br, unverified, nil)), 409, "mit Ihrem Passwort an")
		// signed in with the password, the same provider account links to this account
		br.parentLogin(t, "pia@kempten.test")
		if r := br.get(t, rg.authorize(t, br, unverified, nil)); r.status != 303 {
			t.Fatalf("linking while signed in: %d %.300s", r.status, r.body)
		}
		if id, _ := rg.accountOf(t, "bundid-pia"); id != pia {
			t.Fatalf("linked to %s, want %s", id, pia)
		}
		ole := b.parent(t, "kempten", "ole@kempten.test")
		br2 := b.browser("kempten.localhost")
		if r := br2.get(t, rg.authorize(t, br2, oidcUser{sub: "bundid-ole", email: "ole@kempten.test", verified: true}, nil)); r.status != 303 {
			t.Fatalf("verified e-mail: %d %.300s", r.status, r.body)
		}
		if id, _ := rg.accountOf(t, "bundid-ole"); id != ole {
			t.Fatalf("linked to %s, want %s", id, ole)
		}
	})

	t.Run("subject linked to another account", func(t *testing.T) {
		b.parent(t, "kempten", "max@kempten.test")
		br := b.browser("kempten.localhost")
		br.parentLogin(t, "max@kempten.test")
		session := br.cookies["kp_session"]
		r := br.get(t, rg.authorize(t, br, anna, nil)) // anna's subject belongs to anna's account
		if r.status != 409 || !strings.Contains(r.body, "bereits mit einem anderen Konto") || br.cookies["kp_session"] != session {
			t.Fatalf("want 409 and the old session, got %d %.400s", r.status, r.body)
		}
		if id, _ := rg.accountOf(t, anna.sub); id != annaID {
			t.Fatal("the identity moved")
		}
	})

	t.Run("other city does not know the identity", func(t *testing.T) {
		var n int
		_ = b.db.NewRaw(`SELECT count(*) FROM account_identity WHERE tenant_id <> ?`, rg.t.ID).Scan(context.Background(), &n)
		if n != 0 {
			t.Fatalf("%d identities elsewhere", n)
		}
	})
}
