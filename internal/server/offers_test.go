package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"

	"kitaportal/internal/authz"
	"kitaportal/internal/contract"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/storage"
)

// offerCity is a Kempten portal on a clock at the real moment, with a facility whose
// Krippe group has places, its lead, and a family that filed a request for a start four
// months ahead (inside the six months of lead time: an offer goes out at once).
type offerCity struct {
	b      *bundle
	kita   uuid.UUID
	other  uuid.UUID
	lead   *api
	family *family
	app    string
	start  date.Date
}

func newOfferCity(t *testing.T) *offerCity {
	t.Helper()
	b := setupWith(t, nil, clock.NewManual(time.Now().UTC().Truncate(time.Second)))
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	oc := &offerCity{b: b, start: date.In(b.clock.Now()).FirstOfMonth().AddMonths(4)}
	oc.kita = b.facility(t, k, "Kita Iller", "kita", "kempten", "", "krippe")
	oc.other = b.facility(t, k, "Kita Rottach", "kita", "kempten", "", "krippe")
	b.exec(`INSERT INTO group_capacity (tenant_id, group_id, valid_from, places)
		SELECT tenant_id, id, ?, 2 FROM facility_group WHERE tenant_id = ? AND facility_id IN (?, ?)`,
		date.In(b.clock.Now()).AddMonths(-12), k.ID, oc.kita, oc.other)
	lead := b.staff(t, &city{t: k}, "leitung", authz.RoleLead, oc.kita, "")
	oc.lead = b.api("kempten.localhost")
	oc.lead.staffLogin(t, lead)
	oc.family = b.family(t, "kempten", "pia@kempten.test", "87435", oc.start.AddMonths(-17).String())
	sub := oc.family.file(t, request(oc.family.child, oc.start.String(), 35, oc.kita, oc.other))
	oc.app = sub["id"].(string)
	return oc
}

// Kempten through the API: the lead offers a place, the family sees and accepts it,
// the contract exists and the child's other request ended; every answer matches the
// OpenAPI description; foreign and repeated calls answer as they should.
func TestOffersThroughTheAPI(t *testing.T) {
	t.Parallel()
	oc := newOfferCity(t)
	status, made := oc.lead.call(t, "POST", "/api/v1/staff/offers", map[string]any{"application_id": oc.app, "rank": 1})
	if status != 201 || made["status"] != "open" {
		t.Fatalf("make: %d %v", status, made)
	}
	id := made["id"].(string)
	status, again := oc.lead.call(t, "POST", "/api/v1/staff/offers", map[string]any{"application_id": oc.app, "rank": 1})
	if status != 409 {
		t.Errorf("a second offer on the same choice: %d %v", status, again)
	}
	status, list := oc.family.api.call(t, "GET", "/api/v1/offers", nil)
	if items, _ := list["items"].([]any); status != 200 || len(items) != 1 {
		t.Fatalf("family's offers: %d %v", status, list)
	}
	stranger := oc.b.family(t, "kempten", "tom@kempten.test", "87435", oc.start.AddMonths(-20).String())
	if status, body := stranger.api.call(t, "POST", "/api/v1/offers/"+id+"/accept", nil); status != 404 {
		t.Errorf("another family's accept: %d %v", status, body)
	}
	status, acc := oc.family.api.call(t, "POST", "/api/v1/offers/"+id+"/accept", nil)
	if status != 200 || acc["status"] != "contracted" || acc["contract_id"] == nil {
		t.Fatalf("accept: %d %v", status, acc)
	}
	if status, twice := oc.family.api.call(t, "POST", "/api/v1/offers/"+id+"/accept", nil); status != 200 || twice["contract_id"] != acc["contract_id"] {
		t.Errorf("accepting twice: %d %v", status, twice)
	}
	if status, body := oc.family.api.call(t, "POST", "/api/v1/offers/"+id+"/decline", map[string]string{"reason": "doch nicht"}); status != 409 {
		t.Errorf("declining an accepted offer: %d %v", status, body)
	}
	_, app := oc.family.api.call(t, "GET", "/api/v1/applications/"+oc.app, nil)
	choices, _ := app["choices"].([]any)
	if app["status"] != "contracted" || len(choices) != 2 || choices[1].(map[string]any)["status"] != "ended" {
		t.Errorf("request after acceptance: %v", app)
	}

	doc, err := openapi3.NewLoader().LoadFromData([]byte(oc.b.get(t, "kempten.localhost", "/api/v1/openapi.json").body))
	if err != nil {
		t.Fatal(err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, rq := range []struct {
		a      *api
		method string
		path   string
		body   string
		status int
	}{
		{oc.family.api, "GET", "/api/v1/offers", "", 200},
		{oc.family.api, "GET", "/api/v1/offers/" + id, "", 200},
		{oc.family.api, "GET", "/api/v1/offers/" + uuid.NewString(), "", 404},
		{oc.family.api, "POST", "/api/v1/offers/" + id + "/accept", "", 200},
		{oc.family.api, "POST", "/api/v1/offers/" + id + "/decline", `{"reason":"x"}`, 409},
		{oc.lead, "GET", "/api/v1/staff/offers", "", 200},
		{oc.lead, "GET", "/api/v1/staff/offers/" + id, "", 200},
		{oc.lead, "POST", "/api/v1/staff/offers/" + id + "/withdraw", `{"reason":"zu spät"}`, 409},
		{oc.lead, "POST", "/api/v1/staff/offers", `{"application_id":"` + oc.app + `","rank":2}`, 404}, // another facility's choice
	} {
		var raw io.Reader
		if rq.body != "" {
			raw = strings.NewReader(rq.body)
		}
		req := httptest.NewRequest(rq.method, rq.path, raw)
		req.Host = "kempten.localhost"
		req.Header.Set("Authorization", "Bearer "+rq.a.token)
		req.Header.Set("Content-Type", "application/json")
		res := oc.b.do(t, req)
		if res.status != rq.status {
			t.Errorf("%s %s: %d, want %d: %.300s", rq.method, rq.path, res.status, rq.status, res.body)
			continue
		}
		route, params, err := router.FindRoute(httptest.NewRequest(rq.method, rq.path, nil))
		if err != nil {
			t.Errorf("%s %s: not in openapi.json: %v", rq.method, rq.path, err)
			continue
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: res.status, Header: http.Header(res.header), Body: io.NopCloser(bytes.NewReader([]byte(res.body)))}); err != nil {
			t.Errorf("%s %s (%d): the answer does not match the description: %v", rq.method, rq.path, res.status, err)
		}
	}
}

// The pages, without JavaScript: the lead offers from the request page, the family
// reads the offer and accepts it with the form; errors come back in the user's language.
func TestOffersThroughThePages(t *testing.T) {
	t.Parallel()
	oc := newOfferCity(t)
	k := oc.b.tenant(t, "kempten")
	lead := oc.b.staff(t, &city{t: k}, "leitung2", authz.RoleLead, oc.kita, "")
	staff := oc.b.browser("kempten.localhost")
	staff.staffLogin(t, lead)
	page := "/staff/requests/" + oc.app
	if r := staff.get(t, page); r.status != 200 || !strings.Contains(r.body, "Platz anbieten") {
		t.Fatalf("request page: %d, want the offer form: %.500s", r.status, r.body)
	}
	r := staff.submit(t, page, "/staff/offers", map[string]string{"application_id": oc.app, "rank": "1"})
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/staff/offers/") {
		t.Fatalf("offer: %d %q %.300s", r.status, r.header.Get("Location"), r.body)
	}
	offerPath := strings.TrimPrefix(strings.Split(r.header.Get("Location"), "?")[0], "/staff")
	if r := staff.get(t, "/staff"+offerPath); r.status != 200 || !strings.Contains(r.body, "Angebot zurückziehen") {
		t.Errorf("staff offer page: %d %.300s", r.status, r.body)
	}
	// The facility's page: the open offer, and the next requests in the city's order.
	other := oc.b.family(t, "kempten", "ida@kempten.test", "87435", oc.start.AddMonths(-16).String())
	next := other.file(t, request(other.child, oc.start.String(), 35, oc.kita))
	if r := staff.get(t, "/staff/offers?facility="+oc.kita.String()); r.status != 200 || !strings.Contains(r.body, "Offene Angebote") ||
		!strings.Contains(r.body, "/staff/requests/"+next["id"].(string)) || strings.Contains(r.body, "/staff/requests/"+oc.app+`"`) {
		t.Errorf("facility's offers page: %d %.800s", r.status, r.body)
	}
	// Offering the second choice as well: refused in a lock city, in German.
	if r := staff.submit(t, page, "/staff/offers", map[string]string{"application_id": oc.app, "rank": "2"}); r.status != 404 && r.status != 409 && r.status != 422 {
		t.Errorf("second offer: %d", r.status)
	}

	parent := oc.b.browser("kempten.localhost")
	parent.parentLogin(t, oc.family.email)
	if r := parent.get(t, "/offers"); r.status != 200 || !strings.Contains(r.body, "Kita Iller") {
		t.Fatalf("offers page: %d %.300s", r.status, r.body)
	}
	if r := parent.get(t, offerPath); r.status != 200 || !strings.Contains(r.body, "Platz verbindlich annehmen") {
		t.Fatalf("offer page: %d %.300s", r.status, r.body)
	}
	r = parent.submit(t, offerPath, offerPath+"/accept", nil)
	if r.status != 303 {
		t.Fatalf("accept: %d %.300s", r.status, r.body)
	}
	if r := parent.get(t, offerPath+"?done=offer_accepted"); !strings.Contains(r.body, "Vertrag erstellt") || !strings.Contains(r.body, "contract.pdf") {
		t.Errorf("after accepting: %.600s", r.body)
	}
	// Declining what was accepted: the page says why, nothing changes.
	if r := parent.submit(t, offerPath, offerPath+"/decline", map[string]string{"reason": "doch nicht"}); r.status != 409 ||
		!strings.Contains(r.body, "nicht (mehr) offen") {
		t.Errorf("decline after accept: %d %.300s", r.status, r.body)
	}
	if r := parent.get(t, "/offers/"+uuid.NewString()); r.status != 404 {
		t.Errorf("unknown offer: %d", r.status)
	}

	// The contract: its document is made by the worker's job; then family and lead
	// download it, and the lead notes the signed papers.
	var contractID uuid.UUID
	if err := oc.b.db.QueryRowContext(context.Background(), `SELECT contract_id FROM offer WHERE id = ?`,
		strings.TrimPrefix(offerPath, "/offers/")).Scan(&contractID); err != nil {
		t.Fatal(err)
	}
	if r := parent.get(t, offerPath+"/contract.pdf"); r.status != 409 {
		t.Errorf("download before the document exists: %d", r.status)
	}
	files, err := storage.NewLocal(oc.b.deps.Config.StorageDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := contract.NewDocuments(oc.b.db, files, oc.b.reg, oc.b.clock, slog.New(slog.NewTextHandler(io.Discard, nil))).Make(context.Background(), k, contractID); err != nil {
		t.Fatal(err)
	}
	for _, dl := range []struct {
		br   *browser
		path string
	}{{parent, offerPath + "/contract.pdf"}, {staff, "/staff/contracts/" + contractID.String() + "/document.pdf"}} {
		r := dl.br.get(t, dl.path)
		if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(r.body, "%PDF-") ||
			!strings.Contains(r.header.Get("Content-Disposition"), "Betreuungsvertrag-Parent-") {
			t.Errorf("%s: %d %q %q", dl.path, r.status, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
		}
	}
	contractPage := "/staff/contracts/" + contractID.String()
	if r := staff.get(t, contractPage); !strings.Contains(r.body, "noch nicht eingegangen") {
		t.Errorf("contract page before the papers: %.300s", r.body)
	}
	if r := staff.submit(t, contractPage, contractPage+"/papers", nil); r.status != 303 {
		t.Fatalf("papers: %d", r.status)
	}
	if r := staff.get(t, contractPage); !strings.Contains(r.body, "Unterschriebene Unterlagen erhalten am") {
		t.Errorf("contract page after the papers: %.300s", r.body)
	}
}
