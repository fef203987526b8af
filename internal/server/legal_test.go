package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// Every page of every demo city links the city's imprint and privacy notice, in the
// page's language: the start page, the search's answers, an error page and the paused
// page.
func TestEveryDemoPageLinksImprintAndPrivacyNotice(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	sites := map[string]string{
		"herzberg":  "https://www.herzberg-elster.de/",
		"leipzig":   "https://www.leipzig.de/",
		"kempten":   "https://www.kempten.de/",
		"bochum":    "https://www.bochum.de/",
		"lueneburg": "https://www.hansestadt-lueneburg.de/",
	}
	for slug, site := range sites {
		host := slug + ".localhost"
		de := []string{`<a href="` + site + `impressum">Impressum</a>`, `<a href="` + site + `datenschutz">Datenschutz</a>`}
		en := []string{`<a href="` + site + `impressum">Legal notice</a>`, `<a href="` + site + `datenschutz">Privacy</a>`}
		for _, page := range []struct {
			path   string
			status int
		}{
			{"/", 200},
			{"/?" + householdKey, 200},
			{"/?" + householdKey + "&plz=123", 422},
			{"/facilities/" + uuid.NewString(), 404},
		} {
			r := b.get(t, host, page.path)
			if r.status != page.status {
				t.Errorf("%s%s: status %d, want %d", host, page.path, r.status, page.status)
			}
			mustContain(t, r, de...)
			if rules := b.tenant(t, slug).Rules; len(rules.Languages) > 1 {
				mustContain(t, b.get(t, host, page.path, "Accept-Language", "en"), en...)
			}
		}
	}
	// The paused page still names who runs the portal.
	b.exec(`UPDATE tenant SET status = 'suspended' WHERE slug = 'bochum'`)
	if err := b.reg.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := b.get(t, "bochum.localhost", "/")
	if r.status != 503 {
		t.Errorf("paused: %d", r.status)
	}
	mustContain(t, r, `<a href="https://www.bochum.de/impressum">Impressum</a>`, `<a href="https://www.bochum.de/datenschutz">Datenschutz</a>`)
}

// The operator console refuses to take a city live while its rules lack an imprint or a
// privacy notice, naming the fields; the city keeps its status and nothing is logged.
func TestOperatorCannotTakeACityLiveWithoutImprint(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	op := b.operator(t)
	console := b.browser("localhost")
	console.operatorLogin(t, op)

	if r := console.submit(t, "/operator", "/operator/tenants/lueneburg/status", map[string]string{"status": "suspended", "note": "Umstellung"}); r.status != 303 {
		t.Fatalf("suspend: %d %.300s", r.status, r.body)
	}
	// A newer rules version without imprint and privacy notice.
	b.exec(`INSERT INTO tenant_rules (tenant_id, version, rules, checksum, source)
		SELECT tenant_id, version + 1, rules #- '{branding,imprint_url}' #- '{branding,privacy_url}', 'test', 'admin:test'
		FROM tenant_rules WHERE tenant_id = (SELECT id FROM tenant WHERE slug = 'lueneburg') ORDER BY version DESC LIMIT 1`)
	if err := b.reg.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	lu := b.tenant(t, "lueneburg")
	if lu.Rules.Branding.ImprintURL != "" {
		t.Fatal("the rules still have an imprint")
	}
	before := len(b.auditRows(t, lu.ID, "action = 'tenant.status_changed'"))

	r := console.submit(t, "/operator", "/operator/tenants/lueneburg/status", map[string]string{"status": "active", "note": ""})
	if r.status != 422 {
		t.Fatalf("activate without imprint: %d %.300s", r.status, r.body)
	}
	mustContain(t, r, "Die Stadt kann noch nicht live gehen: In ihren Regeln fehlen branding.imprint_url, branding.privacy_url")
	if got := b.tenant(t, "lueneburg").Status; got != "suspended" {
		t.Errorf("status after the refusal: %s", got)
	}
	var status string
	if err := b.db.QueryRowContext(context.Background(), `SELECT status FROM tenant WHERE slug = 'lueneburg'`).Scan(&status); err != nil || status != "suspended" {
		t.Errorf("stored status %q %v", status, err)
	}
	if after := len(b.auditRows(t, lu.ID, "action = 'tenant.status_changed'")); after != before {
		t.Errorf("a refused go-live was logged as a status change: %d → %d", before, after)
	}

	// A complete city goes live again.
	if r := console.submit(t, "/operator", "/operator/tenants/kempten/status", map[string]string{"status": "suspended"}); r.status != 303 {
		t.Fatalf("suspend kempten: %d", r.status)
	}
	if r := console.submit(t, "/operator", "/operator/tenants/kempten/status", map[string]string{"status": "active"}); r.status != 303 {
		t.Fatalf("resume kempten: %d %.300s", r.status, r.body)
	}
	if got := b.tenant(t, "kempten").Status; got != "active" || !strings.Contains(b.get(t, "kempten.localhost", "/").body, "Kinderbetreuung Kempten") {
		t.Errorf("kempten after resuming: %s", got)
	}
}
