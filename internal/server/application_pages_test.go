package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"

	"kitaportal/internal/authz"
)

// A parent on a phone, without JavaScript: family, child and request through the forms,
// every problem named next to its field, the status page afterwards.
func TestParentFilesARequestThroughTheForms(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	bo := b.tenant(t, "bochum")
	b.place(t, bo, "44787", "bochum")
	kita := b.facility(t, bo, "Kita Stadtpark", "kita", "bochum", "", "krippe", "kindergarten")
	tp := b.facility(t, bo, "Tagespflege Wiesenweg", "tagespflege", "bochum", "mitte", "krippe")
	b.parent(t, "bochum", "pia@bochum.test")
	br := b.browser("bochum.localhost")
	br.parentLogin(t, "pia@bochum.test")

	// Before the address, the request form sends the parent to the family page.
	if r := br.get(t, "/applications/new"); r.status != 303 || r.header.Get("Location") != "/family?done=family_first" {
		t.Fatalf("new request without family: %d %q", r.status, r.header.Get("Location"))
	}
	r := br.submit(t, "/family", "/family", map[string]string{"street": "", "house_number": "x", "plz": "4478", "city": "Bochum",
		"guardians.0.first_name": "Pia", "guardians.0.last_name": "Parent"})
	if r.status != 422 || !contains(r.body, `href="#f-street"`, `href="#f-plz"`, "fünf Ziffern", `value="Bochum"`) {
		t.Fatalf("bad family form: %d", r.status)
	}
	r = br.submit(t, "/family", "/family", map[string]string{"street": "Kortumstraße", "house_number": "12", "plz": "44787", "city": "Bochum",
		"guardians.0.first_name": "Pia", "guardians.0.last_name": "Parent"})
	if r.status != 303 {
		t.Fatalf("family: %d %.300s", r.status, r.body)
	}
	if r = br.get(t, "/family"); !contains(r.body, "Gemeinde Ihres Wohnsitzes: Bochum") {
		t.Errorf("the family page names the municipality")
	}
	r = br.submit(t, "/family/children/new", "/family/children", map[string]string{"first_name": "Mia", "last_name": "Parent", "birth_date": "2025-10-01"})
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/applications/new?child=") {
		t.Fatalf("child: %d %q", r.status, r.header.Get("Location"))
	}
	form := br.get(t, r.header.Get("Location"))
	if form.status != 200 || !contains(form.body, "Kita Stadtpark", "Tagespflege Wiesenweg", "Kindertagespflege (zusätzlich)", `name="choice.5"`) {
		t.Fatalf("request form: %d", form.status)
	}
	child := strings.TrimPrefix(strings.Split(r.header.Get("Location"), "child=")[1], "")
	child = strings.Split(child, "&")[0]
	// A start too soon is named; everything typed stays.
	r = br.submit(t, "/applications/new", "/applications", map[string]string{"child_id": child, "start_date": "2027-01-01", "care_hours": "45",
		"choice.0": kita.String(), "action": "submit"})
	if r.status != 422 || !contains(r.body, `href="#f-start_date"`, "mindestens 3 Monate Vorlauf", `value="2027-01-01"`) {
		t.Fatalf("too soon: %d", r.status)
	}
	r = br.submit(t, "/applications/new", "/applications", map[string]string{"child_id": child, "start_date": "2027-08-01", "care_hours": "45",
		"choice.0": kita.String(), "choice.5": tp.String(), "criteria.single_parent": "yes", "declaration": "yes", "action": "submit"})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "?done=submitted") {
		t.Fatalf("submit: %d %.500s", r.status, r.body)
	}
	page := br.get(t, r.header.Get("Location"))
	if page.status != 200 || !contains(page.body, "Ihre Vormerkung ist eingegangen", "BOC-2026-", "Kita Stadtpark", "Fachberatung Kindertagespflege Mitte", "Verlauf") {
		t.Fatalf("status page: %d", page.status)
	}
	if list := br.get(t, "/applications"); !contains(list.body, "Mia Parent", "Eingegangen") {
		t.Error("the list shows the request")
	}
	if inbox := br.get(t, "/inbox"); !contains(inbox.body, "ist eingegangen") {
		t.Error("the inbox shows the confirmation")
	}
	// English, on the same pages.
	br.get(t, "/language?lang=en&next=/applications")
	if list := br.get(t, "/applications"); !contains(list.body, "My requests", "Received") {
		t.Error("English list")
	}
	// Without a CSRF token nothing changes.
	if r := br.post(t, "/applications", map[string]string{"child_id": child}, ""); r.status != 403 {
		t.Errorf("post without token: %d", r.status)
	}
}

// Staff export their list as CSV for Excel; a name that starts like a formula stays text.
func TestRequestListExportIsCSVForExcelAndAudited(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	h := b.tenant(t, "herzberg")
	b.place(t, h, "04916", "herzberg")
	kita := b.facility(t, h, "Kita Elsteraue", "kita", "herzberg", "", "krippe")
	f := b.family(t, "herzberg", "pia@herzberg.test", "04916", "2025-10-01")
	b.exec(`UPDATE child SET first_name = '=HYPERLINK("x")' WHERE tenant_id = ?`, h.ID)
	f.file(t, request(f.child, "2027-08-01", 40, kita))
	lead := b.staff(t, &city{t: h}, "leitung", authz.RoleLead, kita, "")
	br := b.browser("herzberg.localhost")
	br.staffLogin(t, lead)
	if r := br.get(t, "/staff/requests?status=bogus"); r.status != 422 || !strings.Contains(r.body, "Diesen Stand gibt es nicht") {
		t.Errorf("garbage filter: %d", r.status)
	}
	r := br.get(t, "/staff/requests.csv?sort=start")
	if r.status != 200 || !strings.HasPrefix(r.body, "\ufeffaktenzeichen;kind_vorname") || !strings.Contains(r.body, `"'=HYPERLINK(""x"")"`) ||
		!strings.Contains(r.header.Get("Content-Disposition"), "vormerkungen.csv") {
		t.Fatalf("csv: %d %q\n%s", r.status, r.header.Get("Content-Disposition"), r.body)
	}
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE tenant_id = ? AND action = 'export.created' AND actor_id = ?`, h.ID, lead.ID); n != 1 {
		t.Errorf("export audited %d times", n)
	}
}

// Real answers of the pre-registration API match the OpenAPI file.
func TestPreRegistrationAnswersMatchTheOpenAPIFile(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	kita := b.facility(t, k, "Kita Iller", "kita", "kempten", "", "krippe")
	f := b.family(t, "kempten", "pia@kempten.test", "87435", "2025-10-01")
	sub := f.file(t, request(f.child, "2027-09-01", 35, kita))
	lead := b.staff(t, &city{t: k}, "leitung", authz.RoleLead, kita, "")
	la := b.api("kempten.localhost")
	la.staffLogin(t, lead)

	doc, err := openapi3.NewLoader().LoadFromData([]byte(b.get(t, "kempten.localhost", "/api/v1/openapi.json").body))
	if err != nil {
		t.Fatal(err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	id := sub["id"].(string)
	for _, rq := range []struct {
		a      *api
		method string
		path   string
		body   any
		status int
	}{
		{f.api, "GET", "/api/v1/family", nil, 200},
		{f.api, "GET", "/api/v1/children", nil, 200},
		{f.api, "GET", "/api/v1/applications", nil, 200},
		{f.api, "GET", "/api/v1/applications/" + id, nil, 200},
		{f.api, "GET", "/api/v1/applications/" + uuid.NewString(), nil, 404},
		{f.api, "POST", "/api/v1/applications", request(f.child, "2027-09-01", 35, kita), 422},
		{f.api, "POST", "/api/v1/applications/" + id + "/submit", nil, 200},
		{f.api, "GET", "/api/v1/inbox", nil, 200},
		{f.api, "GET", "/api/v1/tickets", nil, 200},
		{la, "GET", "/api/v1/staff/requests", nil, 200},
		{la, "GET", "/api/v1/staff/requests/" + id, nil, 200},
		{la, "GET", "/api/v1/staff/inbox", nil, 200},
		{f.api, "POST", "/api/v1/applications/" + id + "/withdraw", map[string]string{"reason": "anderer Platz"}, 200},
	} {
		status, _ := rq.a.call(t, rq.method, rq.path, rq.body)
		if status != rq.status {
			t.Errorf("%s %s: %d, want %d", rq.method, rq.path, status, rq.status)
			continue
		}
		// Again, raw, to validate the bytes.
		var raw io.Reader
		if rq.body != nil {
			raw = strings.NewReader(jsonString(rq.body))
		}
		req := httptest.NewRequest(rq.method, rq.path, raw)
		req.Host = "kempten.localhost"
		req.Header.Set("Authorization", "Bearer "+rq.a.token)
		req.Header.Set("Content-Type", "application/json")
		res := b.do(t, req)
		route, params, err := router.FindRoute(httptest.NewRequest(rq.method, rq.path, nil))
		if err != nil {
			t.Errorf("%s %s: not in openapi.json: %v", rq.method, rq.path, err)
			continue
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: res.status, Header: http.Header(res.header), Body: io.NopCloser(bytes.NewReader([]byte(res.body)))})
		if err != nil {
			t.Errorf("%s %s (%d): the answer does not match the description: %v", rq.method, rq.path, res.status, err)
		}
	}
}
