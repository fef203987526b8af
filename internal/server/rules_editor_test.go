package server_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
)

var (
	formTag     = regexp.MustCompile(`(?s)<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>`)
	inputTag    = regexp.MustCompile(`<input[^>]*>`)
	selectTag   = regexp.MustCompile(`(?s)<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	selectedOpt = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	attr        = func(tag, name string) (string, bool) {
		m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return "", false
		}
		return html.UnescapeString(m[1]), true
	}
	choiceSelect = regexp.MustCompile(`<select id="f-choice\.\d+"`)
)

// formOf reads the fields of the form with action on page as a browser would send them:
// inputs with their values, ticked boxes, the selected option of each select.
func formOf(t *testing.T, page, action string) map[string]string {
	t.Helper()
	for _, m := range formTag.FindAllStringSubmatch(page, -1) {
		if html.UnescapeString(m[1]) != action {
			continue
		}
		out := map[string]string{}
		for _, in := range inputTag.FindAllString(m[2], -1) {
			name, ok := attr(in, "name")
			if !ok || name == "_csrf" {
				continue
			}
			typ, _ := attr(in, "type")
			value, _ := attr(in, "value")
			if typ == "checkbox" {
				if strings.Contains(in, " checked") {
					out[name] = value
				}
				continue
			}
			out[name] = value
		}
		for _, s := range selectTag.FindAllStringSubmatch(m[2], -1) {
			v := ""
			if o := selectedOpt.FindStringSubmatch(s[2]); o != nil {
				v = html.UnescapeString(o[1])
			}
			out[html.UnescapeString(s[1])] = v
		}
		return out
	}
	t.Fatalf("no form with action %s on the page\n%.500s", action, page)
	return nil
}

// rulesCity is kempten with a tenant admin, a case worker and a parent whose child can
// be registered.
type rulesCity struct {
	b      *bundle
	admin  *member
	worker *member
	parent *browser
	child  string
}

func setupRules(t *testing.T) *rulesCity {
	t.Helper()
	b := setupApplications(t)
	kt := b.tenant(t, "kempten")
	c := b.city(t, "kempten")
	rc := &rulesCity{b: b,
		admin:  b.staff(t, c, "anna", authz.RoleTenantAdmin, uuid.Nil, ""),
		worker: b.staff(t, c, "carl", authz.RoleCaseWorker, uuid.Nil, ""),
	}
	b.place(t, kt, "87435", "kempten")
	f := b.family(t, "kempten", "pia@kempten.test", "87435", "2026-03-01")
	rc.child = f.child
	rc.parent = b.browser("kempten.localhost")
	rc.parent.parentLogin(t, f.email)
	return rc
}

// choices counts the choice selects of the parent's request form.
func (rc *rulesCity) choices(t *testing.T) int {
	t.Helper()
	r := rc.parent.get(t, "/applications/new?child="+rc.child)
	if r.status != 200 {
		t.Fatalf("request form: %d %.300s", r.status, r.body)
	}
	return len(choiceSelect.FindAllString(r.body, -1))
}

func (rc *rulesCity) version(t *testing.T) int {
	t.Helper()
	return rc.b.count(t, `SELECT max(version) FROM tenant_rules WHERE tenant_id = ?`, rc.b.tenant(t, "kempten").ID)
}

// reload publishes the stored rules as every process's registry does each few seconds.
func (rc *rulesCity) reload(t *testing.T) {
	t.Helper()
	if err := rc.b.reg.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Done when: in kempten the tenant admin raises the maximum of choices from 3 to 4 in
// the browser (preview, then save with a reason), a parent sees 4 choices on the next
// page load, the audit shows who did it and why, and restoring the old version gives 3.
func TestTenantAdminRaisesMaxChoicesAndRestores(t *testing.T) {
	t.Parallel()
	rc := setupRules(t)
	if n := rc.choices(t); n != 3 {
		t.Fatalf("before: %d choice selects, want 3", n)
	}
	before := rc.version(t)

	br := rc.b.browser("kempten.localhost")
	br.staffLogin(t, rc.admin)
	if home := br.get(t, "/staff"); !contains(home.body, `href="/staff/rules"`) {
		t.Errorf("the staff home links the rules editor")
	}
	page := br.get(t, "/staff/rules")
	if page.status != 200 || !contains(page.body, "Höchstzahl der Wünsche", `name="registration.max_choices"`, "Kriterienkatalog", "Elternbeiträge", "Planungsbezirke") {
		t.Fatalf("rules form: %d", page.status)
	}
	fields := formOf(t, page.body, "/staff/rules/preview")
	if fields["registration.max_choices"] != "3" || fields["base"] != strconv.Itoa(before) {
		t.Fatalf("form opened on max %q, base %q", fields["registration.max_choices"], fields["base"])
	}
	fields["registration.max_choices"] = "4"
	token := csrfField.FindStringSubmatch(page.body)[1]
	preview := br.post(t, "/staff/rules/preview", fields, token)
	if preview.status != 200 || !contains(preview.body, "Höchstzahl der Wünsche 3 → 4", "<code>registration.max_choices</code>") {
		t.Fatalf("preview: %d %.2000s", preview.status, preview.body)
	}
	if strings.Count(preview.body, "<code>") != 1 {
		t.Errorf("the preview lists more changes than the one made: %d", strings.Count(preview.body, "<code>"))
	}
	if rc.version(t) != before {
		t.Fatal("the preview saved")
	}
	save := formOf(t, preview.body, "/staff/rules")
	save["reason"] = "Stadtratsbeschluss: vier Wünsche"
	r := br.post(t, "/staff/rules", save, token)
	if r.status != 303 || r.header.Get("Location") != "/staff/rules?done=rules_saved" {
		t.Fatalf("save: %d %q %.1000s", r.status, r.header.Get("Location"), r.body)
	}
	if rc.version(t) != before+1 {
		t.Fatalf("version %d after save, want %d", rc.version(t), before+1)
	}

	rc.reload(t)
	if n := rc.choices(t); n != 4 {
		t.Errorf("after the save: %d choice selects, want 4", n)
	}
	audit := br.get(t, "/staff/audit?action=rules.saved")
	if !contains(audit.body, "rules.saved", "Stadtratsbeschluss: vier Wünsche", rc.admin.Email) {
		t.Errorf("the audit log does not show who saved and why: %.3000s", audit.body)
	}
	versions := br.get(t, "/staff/rules/versions")
	if !contains(versions.body, "Stadtratsbeschluss: vier Wünsche", "Anna Test", "im Portal bearbeitet", "Datei (tenants/kempten.yaml)") {
		t.Errorf("versions page: %.3000s", versions.body)
	}

	// Restore the file's version: 3 choices again, as a new version.
	old := br.get(t, "/staff/rules/versions/"+strconv.Itoa(before))
	if old.status != 200 || !contains(old.body, "<code>registration.max_choices</code>") {
		t.Fatalf("compare: %d %.1000s", old.status, old.body)
	}
	restore := formOf(t, old.body, "/staff/rules/versions/"+strconv.Itoa(before)+"/restore")
	restore["reason"] = "Beschluss aufgehoben"
	r = br.post(t, "/staff/rules/versions/"+strconv.Itoa(before)+"/restore", restore, token)
	if r.status != 303 {
		t.Fatalf("restore: %d %.1000s", r.status, r.body)
	}
	rc.reload(t)
	if n := rc.choices(t); n != 3 {
		t.Errorf("after the restore: %d choice selects, want 3", n)
	}
	var reason, action string
	if err := rc.b.db.QueryRowContext(context.Background(), `SELECT reason FROM tenant_rules WHERE tenant_id = ? ORDER BY version DESC LIMIT 1`,
		rc.b.tenant(t, "kempten").ID).Scan(&reason); err != nil || reason != "restore of v"+strconv.Itoa(before)+": Beschluss aufgehoben" {
		t.Errorf("restored version's reason %q (%v)", reason, err)
	}
	if err := rc.b.db.QueryRowContext(context.Background(), `SELECT action FROM audit_event WHERE tenant_id = ? AND actor_id = ? ORDER BY at DESC, id DESC LIMIT 1`,
		rc.b.tenant(t, "kempten").ID, rc.admin.ID).Scan(&action); err != nil || action != "rules.restored" {
		t.Errorf("restore audited as %q (%v)", action, err)
	}
}

// A broken rule is named next to its input in German, the input kept, nothing saved;
// the second of two admins editing at once is told and keeps what they typed; a save
// needs a reason.
func TestRulesFormRefusesBadInputAndStaleEdits(t *testing.T) {
	t.Parallel()
	rc := setupRules(t)
	before := rc.version(t)
	a := rc.b.browser("kempten.localhost")
	a.staffLogin(t, rc.admin)
	b := rc.b.browser("kempten.localhost")
	b.staffLogin(t, rc.admin)

	page := a.get(t, "/staff/rules")
	token := csrfField.FindStringSubmatch(page.body)[1]
	fields := formOf(t, page.body, "/staff/rules/preview")
	bad := merged(fields, map[string]string{"registration.max_choices": "0", "registration.notice_months": "drei",
		"criteria.catalogue[1].points": "500", "districts[0].fachberatung.email": "nirgends"})
	r := a.post(t, "/staff/rules/preview", bad, token)
	if r.status != 422 || !contains(r.body, `href="#f-registration.notice_months"`, "Bitte eine ganze Zahl eingeben", `value="drei"`) {
		t.Fatalf("garbage number: %d %.2000s", r.status, r.body)
	}
	bad["registration.notice_months"] = "3"
	r = a.post(t, "/staff/rules/preview", bad, token)
	if r.status != 422 || !contains(r.body, `id="f-registration.max_choices-error"`, "Höchstzahl der Wünsche: Muss zwischen 1 und 10 liegen (0 eingegeben).",
		"Kriterienkatalog – Punkte (Zeile 2): Muss zwischen -100 und 100 liegen",
		`id="f-criteria.catalogue[1].points-error"`, `id="f-districts[0].fachberatung.email-error"`, "Bitte eine E-Mail-Adresse angeben", `value="500"`) {
		t.Fatalf("invalid rules: %d %.3000s", r.status, r.body)
	}
	huge := merged(fields, map[string]string{"registration.max_choices": "99999999999999999999999"})
	if r = a.post(t, "/staff/rules/preview", huge, token); r.status != 422 || !contains(r.body, "Bitte eine ganze Zahl eingeben") {
		t.Errorf("absurd number: %d", r.status)
	}
	if rc.version(t) != before {
		t.Fatal("a refused form saved something")
	}

	// Admin B opens the form, admin A saves, B's preview and save are stale.
	pageB := b.get(t, "/staff/rules")
	tokenB := csrfField.FindStringSubmatch(pageB.body)[1]
	fieldsB := formOf(t, pageB.body, "/staff/rules/preview")
	fieldsB["offers.response_days"] = "21"
	previewB := b.post(t, "/staff/rules/preview", fieldsB, tokenB)
	if previewB.status != 200 {
		t.Fatalf("B's preview: %d", previewB.status)
	}

	preview := a.post(t, "/staff/rules/preview", merged(fields, map[string]string{"registration.max_choices": "5"}), token)
	save := formOf(t, preview.body, "/staff/rules")
	if r = a.post(t, "/staff/rules", save, token); r.status != 422 || !contains(r.body, "Bitte geben Sie eine Begründung an") {
		t.Errorf("save without a reason: %d", r.status)
	}
	save["reason"] = "fünf"
	if r = a.post(t, "/staff/rules", save, token); r.status != 303 {
		t.Fatalf("A's save: %d %.500s", r.status, r.body)
	}

	saveB := formOf(t, previewB.body, "/staff/rules")
	saveB["reason"] = "längere Antwortfrist"
	r = b.post(t, "/staff/rules", saveB, tokenB)
	if r.status != 409 || !contains(r.body, "Inzwischen wurde eine neue Fassung gespeichert", `value="21"`, `name="base" value="`+strconv.Itoa(before+1)+`"`) {
		t.Fatalf("B's stale save: %d %.2000s", r.status, r.body)
	}
	if rc.version(t) != before+1 {
		t.Errorf("the stale save wrote a version")
	}
	// B reviews again on the new base: the diff shows B's change and that B's form
	// would undo A's (B still has 3 choices typed), so nothing is silently lost.
	again := b.post(t, "/staff/rules/preview", formOf(t, r.body, "/staff/rules/preview"), tokenB)
	if again.status != 200 || !contains(again.body, "<code>offers.response_days</code>", "<code>registration.max_choices</code>") {
		t.Errorf("B's second preview: %d %.2000s", again.status, again.body)
	}
}

// Only a tenant admin edits; a case worker is refused, an admin of another city and a
// support-less stranger reach nothing of kempten's rules.
func TestRulesEditorAccess(t *testing.T) {
	t.Parallel()
	rc := setupRules(t)
	w := rc.b.browser("kempten.localhost")
	w.staffLogin(t, rc.worker)
	if r := w.get(t, "/staff/rules"); r.status != 403 {
		t.Errorf("case worker reads the rules form: %d", r.status)
	}
	page := w.get(t, "/staff")
	if contains(page.body, `href="/staff/rules"`) {
		t.Errorf("the case worker's home links the rules editor")
	}
	token := csrfField.FindStringSubmatch(page.body)[1]
	if r := w.post(t, "/staff/rules/preview", map[string]string{"base": "1", "registration.max_choices": "9"}, token); r.status != 403 {
		t.Errorf("case worker previews: %d", r.status)
	}
	if r := w.post(t, "/staff/rules/versions/1/restore", map[string]string{"base": "1", "reason": "x"}, token); r.status != 403 {
		t.Errorf("case worker restores: %d", r.status)
	}
	api := rc.b.api("kempten.localhost")
	api.staffLogin(t, rc.worker)
	if status, body := api.call(t, "PUT", "/api/v1/staff/rules", map[string]any{"rules": map[string]any{}, "base_version": 1, "reason": "x"}); status != 403 {
		t.Errorf("case worker PUT: %d %v", status, body)
	}

	// Bochum's tenant admin: their sign-in does not exist on kempten's host.
	bo := rc.b.city(t, "bochum")
	boAdmin := rc.b.staff(t, bo, "bea", authz.RoleTenantAdmin, uuid.Nil, "")
	boAPI := rc.b.api("bochum.localhost")
	boAPI.staffLogin(t, boAdmin)
	boAPI.host = "kempten.localhost"
	if status, _ := boAPI.call(t, "GET", "/api/v1/staff/rules", nil); status != 401 && status != 403 && status != 404 {
		t.Errorf("bochum's admin reads kempten's rules: %d", status)
	}
	if status, _ := boAPI.call(t, "POST", "/api/v1/staff/rules/versions/1/restore", map[string]any{"base_version": 1, "reason": "x"}); status != 401 && status != 403 && status != 404 {
		t.Errorf("bochum's admin restores kempten's rules: %d", status)
	}
	boAPI.host = "bochum.localhost"
	status, body := boAPI.call(t, "GET", "/api/v1/staff/rules", nil)
	if rules, _ := body["rules"].(map[string]any); status != 200 || rules["slug"] != "bochum" {
		t.Errorf("bochum's admin on bochum: %d %v", status, body["version"])
	}
	// A version number of kempten's is none of bochum's business either way: bochum's
	// own list is all bochum sees.
	kv := rc.version(t)
	if status, _ := boAPI.call(t, "POST", "/api/v1/staff/rules/versions/"+strconv.Itoa(kv+50)+"/restore", map[string]any{"base_version": 1, "reason": "x"}); status != 404 && status != 409 {
		t.Errorf("restore of an unknown version: %d", status)
	}
}

// The JSON API: the rules in force, 400 for garbage, 422 naming the field in the
// caller's language, 409 for a stale base, 201 for a new version, the list, a restore.
func TestRulesAPI(t *testing.T) {
	t.Parallel()
	rc := setupRules(t)
	api := rc.b.api("kempten.localhost")
	api.staffLogin(t, rc.admin)
	status, cur := api.call(t, "GET", "/api/v1/staff/rules", nil)
	if status != 200 {
		t.Fatalf("get: %d %v", status, cur)
	}
	base := int(cur["version"].(float64))
	rules := cur["rules"].(map[string]any)
	reg := rules["registration"].(map[string]any)

	req := httpReq(rc.b, "PUT", "/api/v1/staff/rules", `{"rules": {"registration": {"max_choices": 1e40}}, "base_version": 1}`, api.token)
	if res := rc.b.do(t, req); res.status != 400 || !strings.Contains(res.body, "invalid_json") {
		t.Errorf("absurd number: %d %s", res.status, res.body)
	}
	req = httpReq(rc.b, "PUT", "/api/v1/staff/rules", `{"rules": [1,2`, api.token)
	if res := rc.b.do(t, req); res.status != 400 {
		t.Errorf("garbage JSON: %d %s", res.status, res.body)
	}
	if status, body := api.call(t, "PUT", "/api/v1/staff/rules", map[string]any{"reason": "x"}); status != 422 ||
		!contains(strings.Join(fieldErrors(body), " "), "rules:rules_body_required", "base_version:rules_base_required") {
		t.Errorf("empty body: %d %v", status, body)
	}

	reg["max_choices"] = 2147483647
	api.lang = "en"
	status, body := api.call(t, "PUT", "/api/v1/staff/rules", map[string]any{"rules": rules, "base_version": base, "reason": "many"})
	if status != 422 || !contains(strings.Join(fieldErrors(body), " "), "rules.registration.max_choices:rules_between") ||
		messageOf(body, "rules.registration.max_choices") != "Must be from 1 to 10 (2147483647 entered)." {
		t.Errorf("invalid: %d %v", status, body)
	}
	api.lang = ""

	// The city's first district has a childminder: removing it is refused, nothing saved.
	districts := rules["districts"].([]any)
	rules["districts"] = districts[1:]
	reg["max_choices"] = 3
	if status, body = api.call(t, "PUT", "/api/v1/staff/rules", map[string]any{"rules": rules, "base_version": base, "reason": "weniger Bezirke"}); status != 422 ||
		errCode(body) != "rules_district_in_use" {
		t.Errorf("district in use: %d %v", status, body)
	}
	rules["districts"] = districts

	reg["max_choices"] = 4
	status, body = api.call(t, "POST", "/api/v1/staff/rules/preview", map[string]any{"rules": rules, "base_version": base})
	if im, _ := body["impact"].(map[string]any); status != 200 || im["max_choices"] == nil {
		t.Errorf("preview: %d %v", status, body)
	}
	if status, body = api.call(t, "PUT", "/api/v1/staff/rules", map[string]any{"rules": rules, "base_version": base, "reason": ""}); status != 422 || errCode(body) != "rules_reason_required" {
		t.Errorf("no reason: %d %v", status, body)
	}
	if status, body = api.call(t, "PUT", "/api/v1/staff/rules", map[string]any{"rules": rules, "base_version": base - 1, "reason": "x"}); status != 409 || errCode(body) != "rules_stale" {
		t.Errorf("stale: %d %v", status, body)
	}
	status, body = api.call(t, "PUT", "/api/v1/staff/rules", map[string]any{"rules": rules, "base_version": base, "reason": "vier"})
	if status != 201 || int(body["version"].(float64)) != base+1 {
		t.Fatalf("put: %d %v", status, body)
	}
	status, body = api.call(t, "GET", "/api/v1/staff/rules/versions", nil)
	items, _ := body["items"].([]any)
	if status != 200 || len(items) < 2 || items[0].(map[string]any)["reason"] != "vier" || items[0].(map[string]any)["author_name"] != "Anna Test" {
		t.Errorf("versions: %d %v", status, body)
	}
	if status, body = api.call(t, "POST", "/api/v1/staff/rules/versions/"+strconv.Itoa(base)+"/restore", map[string]any{"base_version": base + 1, "reason": "zurück"}); status != 201 {
		t.Errorf("restore: %d %v", status, body)
	}
	if status, _ = api.call(t, "POST", "/api/v1/staff/rules/versions/abc/restore", map[string]any{"base_version": 1, "reason": "x"}); status != 404 {
		t.Errorf("restore of version abc: %d", status)
	}
	rc.reload(t)
	if k := rc.b.tenant(t, "kempten"); k.Rules.Registration.MaxChoices != 3 || k.RulesVersion != base+2 {
		t.Errorf("after restore: v%d with %d choices", k.RulesVersion, k.Rules.Registration.MaxChoices)
	}
}

// httpReq is a raw API request to kempten with a bearer token (bodies api.call cannot
// send: broken JSON, numbers beyond int).
func httpReq(_ *bundle, method, path, body, token string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = "kempten.localhost"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}
