package server_test

import (
	"strings"
	"testing"
)

const goodPassword = "Zitronenfalter tanzen im Mai"

func TestParentRegistersVerifiesAndSignsIn(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	br := b.browser("kempten.localhost")
	r := br.submit(t, "/register", "/register", map[string]string{
		"first_name": "Mia", "last_name": "Müller", "email": "Mia.Mueller@Example.org", "password": goodPassword})
	if r.status != 200 {
		t.Fatalf("register: %d %.800s", r.status, r.body)
	}
	mustContain(t, r, "Bitte bestätigen Sie Ihre E-Mail-Adresse")
	ms := b.mails(t, "account_verification")
	if len(ms) != 1 || ms[0].To != "mia.mueller@example.org" || !strings.Contains(ms[0].Subject, "Kinderbetreuung Kempten") {
		t.Fatalf("verification mail: %+v", ms)
	}
	// Signing in before the address is confirmed fails like a wrong password.
	r = br.submit(t, "/login", "/login", map[string]string{"email": "mia.mueller@example.org", "password": goodPassword})
	if r.status != 401 || !strings.Contains(r.body, "stimmen nicht") {
		t.Fatalf("login before verification: %d", r.status)
	}
	token := b.lastToken(t, "account_verification", "mia.mueller@example.org")
	r = br.submit(t, "/verify?token="+token, "/verify", map[string]string{"token": token})
	if r.status != 303 || r.header.Get("Location") != "/login?done=verified" {
		t.Fatalf("verify: %d %q %.500s", r.status, r.header.Get("Location"), r.body)
	}
	r = br.submit(t, "/login", "/login", map[string]string{"email": "MIA.mueller@example.org", "password": goodPassword})
	if r.status != 303 || r.header.Get("Location") != "/account" {
		t.Fatalf("login: %d %q %.600s", r.status, r.header.Get("Location"), r.body)
	}
	mustContain(t, br.get(t, "/account"), "Mein Konto", "mia.mueller@example.org", "Mia Müller")
	// The token is used up.
	r = br.submit(t, "/verify?token="+token, "/verify", map[string]string{"token": token})
	if r.status != 422 || !strings.Contains(r.body, "ungültig oder abgelaufen") {
		t.Errorf("replayed token: %d", r.status)
	}
}
