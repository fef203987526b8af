package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/account"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/server"
	"kitaportal/internal/tenant"
)

// fingerprint is a digest of every row that belongs to tenant id, in every table with a
// tenant_id column (found in the catalog, so tables added later count too).
func (b *bundle) fingerprint(t *testing.T, id uuid.UUID) string {
	t.Helper()
	var tables []string
	if err := b.db.NewRaw(`SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY 1`).Scan(context.Background(), &tables); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, tbl := range append(tables, "tenant") {
		col := "tenant_id"
		if tbl == "tenant" {
			col = "id"
		}
		var sum string
		q := fmt.Sprintf(`SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM %s x WHERE %s = ?`, tbl, col)
		if err := b.db.QueryRowContext(context.Background(), q, id).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, tbl+"="+sum)
	}
	return strings.Join(parts, "\n")
}

// visitor is one principal of Kempten the walk acts as: a browser (cookies and CSRF
// token) or an API client (bearer token).
type visitor struct {
	name    string
	cookies map[string]string
	csrf    string
	bearer  string
}

var pathParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// TestEveryRouteKeepsTenantsApart walks every route of the route table — HTML and API,
// on both surfaces, also routes added after this test was written — as every kind of
// Kempten principal, with ids, tokens and credentials of Bochum in the path, the query
// and the body. No answer may carry Bochum's data, a route with an id must answer
// 401/403/404 (or send the visitor to sign in), nothing may fail with 5xx, and not one
// row of Bochum may change.
func TestEveryRouteKeepsTenantsApart(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/32"})
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	kAdmin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	kLead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	b.parent(t, "kempten", "pia@kempten.test")
	boAdmin := b.staff(t, bo, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	boParent := b.parent(t, "bochum", "paul@bochum.test")

	// Live tokens of Bochum: verification, reset, e-mail change, invitation, support.
	ctx := context.Background()
	issue := func(purpose string, accountID uuid.UUID, payload map[string]any) string {
		tok, err := account.IssueToken(ctx, b.db, bo.t.ID, accountID, purpose, payload, b.clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	pending := uuid.New()
	b.exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'parent', 'new@bochum.test', 'pending')`, bo.t.ID, pending)
	invited := uuid.New()
	b.exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'staff', 'invited@bochum.test', 'pending')`, bo.t.ID, invited)
	tokens := map[string]string{
		"verify":     issue(account.PurposeVerify, pending, map[string]any{"password_hash": passwordHash(t), "first_name": "X", "last_name": "Y", "language": "de"}),
		"reset":      issue(account.PurposeReset, boParent, nil),
		"email":      issue(account.PurposeChangeEmail, boParent, map[string]any{"email": "evil@kempten.test"}),
		"invitation": issue(account.PurposeInvitation, invited, nil),
	}
	op := b.operator(t)
	supportID := uuid.New()
	{
		raw, hash := auth.NewToken()
		b.exec(`INSERT INTO support_access (tenant_id, id, operator_id, reason, starts_at, expires_at, entry_token_hash, entry_expires_at)
			VALUES (?, ?, ?, 'Ticket 1: Prüfung der Trennung', now(), now() + interval '1 hour', ?, now() + interval '1 hour')`, bo.t.ID, supportID, op.ID, hash)
		tokens["support"] = raw
	}
	var boRole uuid.UUID
	if err := b.db.QueryRowContext(ctx, `SELECT id FROM staff_role WHERE account_id = ?`, boAdmin.ID).Scan(&boRole); err != nil {
		t.Fatal(err)
	}
	ids := []string{bo.facilities[0].String(), bo.tagespflege.String(), bo.children[0].String(), bo.families[0].String(), bo.providers[0].String(),
		boAdmin.ID.String(), boParent.String(), boRole.String(), supportID.String(), "bochum", bo.district}
	fields := map[string]string{
		"email": "paul@bochum.test", "password": goodPassword, "current_password": goodPassword, "first_name": "Walker", "last_name": "Test",
		"facility_id": bo.facilities[0].String(), "provider_id": bo.providers[0].String(), "district_key": bo.district,
		"child_id": bo.children[0].String(), "child": bo.children[0].String(), "object": bo.facilities[0].String(),
		"actor": boAdmin.Email, "id": bo.children[0].String(), "role": "tenant_admin", "code": auth.TOTPCode(boAdmin.Secret, b.clock.Now()),
		"reason": "Ticket 2: Trennung prüfen", "minutes": "30", "status": "suspended", "note": "x", "language": "de", "next": "/staff",
	}
	tokenFor := func(path string) string {
		for key, tok := range tokens {
			if strings.Contains(path, key) {
				return tok
			}
		}
		return tokens["verify"]
	}

	// The principals of Kempten.
	var visitors []*visitor
	browse := func(name, csrfPage string, login func(*browser)) {
		br := b.browser("kempten.localhost")
		if login != nil {
			login(br)
		}
		page := br.get(t, csrfPage)
		m := csrfField.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("%s: no CSRF token on %s (%d)", name, csrfPage, page.status)
		}
		visitors = append(visitors, &visitor{name: name, cookies: br.cookies, csrf: m[1]})
	}
	browse("anonymous", "/login", nil)
	browse("parent", "/account", func(br *browser) { br.parentLogin(t, "pia@kempten.test") })
	browse("lead", "/staff", func(br *browser) { br.staffLogin(t, kLead) })
	browse("admin", "/staff", func(br *browser) { br.staffLogin(t, kAdmin) })
	browse("support", "/staff", func(br *browser) {
		raw, hash := auth.NewToken()
		b.exec(`INSERT INTO support_access (tenant_id, id, operator_id, reason, starts_at, expires_at, entry_token_hash, entry_expires_at)
			VALUES (?, ?, ?, 'Ticket 3: Support in Kempten', now(), now() + interval '1 hour', ?, now() + interval '1 hour')`, k.t.ID, uuid.New(), op.ID, hash)
		if r := br.submit(t, "/support/enter?token="+raw, "/support/enter", map[string]string{"token": raw}); r.status != 303 {
			t.Fatalf("support entry: %d", r.status)
		}
	})
	for _, v := range []struct {
		name  string
		login func(*api)
	}{
		{"parent-api", func(a *api) { a.login(t, "pia@kempten.test") }},
		{"lead-api", func(a *api) { a.staffLogin(t, kLead) }},
		{"admin-api", func(a *api) { a.staffLogin(t, kAdmin) }},
	} {
		a := b.api("kempten.localhost")
		v.login(a)
		visitors = append(visitors, &visitor{name: v.name, bearer: a.token})
	}
	// Back-office software with a Kempten key of every scope; the id of a Bochum key is one more id to try.
	machineKey := func(host string, m *member) map[string]any {
		a := b.api(host)
		a.staffLogin(t, m)
		status, body := a.call(t, "POST", "/api/v1/staff/credentials", map[string]any{"name": "Fachverfahren", "scopes": []string{
			"facilities.read", "children.read", "requests.read", "offers.read", "contracts.read", "contracts.write", "availability.write"}})
		if status != 201 {
			t.Fatalf("machine credential on %s: %d %v", host, status, body)
		}
		return body
	}
	visitors = append(visitors, &visitor{name: "machine-api", bearer: machineKey("kempten.localhost", kAdmin)["secret"].(string)})
	boKey := machineKey("bochum.localhost", boAdmin)
	ids = append(ids, boKey["id"].(string))

	before := b.fingerprint(t, bo.t.ID)
	routes, err := server.Routes(b.deps)
	if err != nil {
		t.Fatal(err)
	}
	// Routes that end the visitor's own session or account come last, so every other
	// route is walked signed in.
	var last []server.Route
	ordered := routes[:0:0]
	for _, rt := range routes {
		switch rt.Permission {
		case "auth.logout", "operator.logout", "support.end", "account.delete", "account.change_password":
			last = append(last, rt)
		default:
			ordered = append(ordered, rt)
		}
	}
	var requests, ip atomic.Int64
	for i, rt := range append(ordered, last...) {
		if i == len(ordered) {
			b.stillSignedIn(t, visitors)
		}
		host, forbidden := "kempten.localhost", []string{bo.Marker, "Kita-Portal Bochum"}
		if rt.Surface == tenant.SurfaceVendor {
			host, forbidden = "localhost", []string{bo.Marker} // the landing page lists every city by design
		}
		paths := expand(rt.Path, ids)
		for _, v := range visitors {
			for _, path := range paths {
				res := b.walk(t, host, rt.Method, path, v, fields, tokenFor(path), ip.Add(1))
				requests.Add(1)
				what := fmt.Sprintf("%s %s%s as %s", rt.Method, host, path, v.name)
				if res.status >= 500 {
					t.Errorf("%s: %d\n%.300s", what, res.status, res.body)
				}
				for _, f := range forbidden {
					if strings.Contains(res.body, f) {
						t.Errorf("%s: the answer shows Bochum's data (%q)", what, f)
					}
				}
				if path != rt.Path && !refused(res) {
					t.Errorf("%s: %d %q, want 401/403/404 or a sign-in redirect", what, res.status, res.header.Get("Location"))
				}
			}
		}
	}
	if after := b.fingerprint(t, bo.t.ID); after != before {
		t.Errorf("Bochum's rows changed during the walk:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	t.Logf("walked %d routes with %d requests as %d principals", len(routes), requests.Load(), len(visitors))
	if len(routes) < 60 {
		t.Errorf("only %d routes: is the table complete?", len(routes))
	}
}

// stillSignedIn checks that every signed-in visitor's session survived the walk so far.
func (b *bundle) stillSignedIn(t *testing.T, visitors []*visitor) {
	t.Helper()
	for _, v := range visitors {
		path := "/api/v1/me"
		if v.name == "machine-api" {
			path = "/api/v1/staff/requests" // a machine has no /me
		}
		if v.bearer == "" {
			path = map[string]string{"anonymous": "", "parent": "/account"}[v.name]
			if path == "" && v.name != "anonymous" {
				path = "/staff"
			}
		}
		if path == "" {
			continue
		}
		if r := b.walk(t, "kempten.localhost", "GET", path, v, nil, "", 1); r.status != 200 {
			t.Errorf("%s was signed out during the walk (%s: %d): the routes after that were not walked signed in", v.name, path, r.status)
		}
	}
}

// expand fills every :param of path with each candidate (both params of a two-param path
// with every pair); a path without params is itself.
func expand(path string, candidates []string) []string {
	out := []string{path}
	for _, m := range pathParam.FindAllString(path, -1) {
		var next []string
		for _, p := range out {
			for _, c := range candidates {
				next = append(next, strings.Replace(p, m, url.PathEscape(c), 1))
			}
		}
		out = next
	}
	return out
}

// refused tells whether the answer refused the request: 401, 403, 404, or a redirect to a
// sign-in page.
func refused(r response) bool {
	switch r.status {
	case 401, 403, 404:
		return true
	case 303:
		loc := r.header.Get("Location")
		return strings.HasPrefix(loc, "/login") || strings.HasPrefix(loc, "/staff/login") || strings.HasPrefix(loc, "/operator/login")
	}
	return false
}

// walk sends one request as v: HTML with its cookies and CSRF token (form body or query),
// API with its bearer token (JSON body or query). Each request comes from another
// address, so the per-address rate limits do not hide what the handlers do.
func (b *bundle) walk(t *testing.T, host, method, path string, v *visitor, fields map[string]string, token string, n int64) response {
	t.Helper()
	api := strings.HasPrefix(path, "/api/")
	if api && v.bearer == "" && v.name != "anonymous" {
		return response{status: 401} // a browser principal has no bearer token; the cookie is never read there
	}
	form := url.Values{}
	for k, val := range fields {
		form.Set(k, val)
	}
	form.Set("token", token)
	target := path
	var body string
	ctype := ""
	switch {
	case method == "GET":
		target += "?" + form.Encode()
	case api:
		m := map[string]string{}
		for k := range form {
			m[k] = form.Get(k)
		}
		raw, _ := json.Marshal(m)
		body, ctype = string(raw), "application/json"
	default:
		form.Set("_csrf", v.csrf)
		body, ctype = form.Encode(), "application/x-www-form-urlencoded"
	}
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = host
	r.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if api && v.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+v.bearer)
	}
	if !api {
		for name, val := range v.cookies {
			r.AddCookie(&http.Cookie{Name: name, Value: val})
		}
	}
	return b.do(t, r)
}
