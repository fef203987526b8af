package server_test

import (
	"encoding/xml"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/date"
)

// Webhooks (issue 16): the tenant admin registers an endpoint (never one on a loopback or
// private address), a filed request becomes a delivery of application.submitted, the log
// shows it and a replay sends the same event again; nobody else manages or sees another
// city's endpoints. The export of a filed request is a structured document in JSON and XML,
// scoped like the staff read.
func TestWebhookEndpointsAndTheRequestExport(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	kita := b.facility(t, k, "Kita Iller", "kita", "kempten", "", "krippe")
	f := b.family(t, "kempten", "pia@kempten.test", "87435", "2025-10-01")
	kc := &city{t: k}
	admin := b.staff(t, kc, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	worker := b.staff(t, kc, "case", authz.RoleCaseWorker, uuid.Nil, "")
	bo := b.city(t, "bochum")
	boAdmin := b.staff(t, bo, "admin", authz.RoleTenantAdmin, uuid.Nil, "")

	adm := b.api("kempten.localhost")
	adm.staffLogin(t, admin)

	// Server-side request forgery is refused at registration, with a clear message.
	for _, c := range []struct{ url, code string }{
		{"http://93.184.216.34/hook", "webhook_url_not_https"},
		{"https://127.0.0.1:8443/hook", "webhook_url_not_public"},
		{"https://[::1]/hook", "webhook_url_not_public"},
		{"https://10.20.30.40/hook", "webhook_url_not_public"},
		{"https://169.254.169.254/latest/meta-data/", "webhook_url_not_public"},
		{"https://localhost/hook", "webhook_url_not_public"},
		{"not a url", "webhook_url_not_https"},
	} {
		status, body := adm.call(t, "POST", "/api/v1/staff/webhooks", map[string]any{"url": c.url, "events": []string{"application.submitted"}})
		if status != 422 || !has(fieldErrors(body), "url:"+c.code) || messageOf(body, "url") == "" {
			t.Errorf("register %s: %d %v", c.url, status, body)
		}
	}
	if status, body := adm.call(t, "POST", "/api/v1/staff/webhooks", map[string]any{"url": "https://93.184.216.34/hook", "events": []string{"application.deleted"}}); status != 422 ||
		!has(fieldErrors(body), "events:webhook_event_unknown") {
		t.Errorf("unknown event: %d %v", status, body)
	}
	status, created := adm.call(t, "POST", "/api/v1/staff/webhooks", map[string]any{
		"url": "https://93.184.216.34/hook", "events": []string{"application.submitted", "application.withdrawn"}, "description": "Fachverfahren"})
	id, _ := created["id"].(string)
	if secret, _ := created["secret"].(string); status != 201 || !strings.HasPrefix(secret, "whsec_") || created["enabled"] != true || id == "" {
		t.Fatalf("create: %d %v", status, created)
	}
	if _, list := adm.call(t, "GET", "/api/v1/staff/webhooks", nil); strings.Contains(jsonString(list), "whsec_") {
		t.Errorf("the list shows a secret: %v", list)
	}

	// Filing a request emits application.submitted in the same transaction.
	filed := f.file(t, request(f.child, "2027-09-01", 35, kita))
	reqID := filed["id"].(string)
	status, log := adm.call(t, "GET", "/api/v1/staff/webhooks/"+id+"/deliveries", nil)
	items, _ := log["items"].([]any)
	if status != 200 || len(items) != 1 {
		t.Fatalf("deliveries: %d %v", status, log)
	}
	first := items[0].(map[string]any)
	if first["event_type"] != "application.submitted" || first["status"] != "pending" {
		t.Errorf("delivery %v", first)
	}
	status, replay := adm.call(t, "POST", "/api/v1/staff/webhooks/"+id+"/deliveries/"+first["id"].(string)+"/replay", nil)
	if status != 202 || replay["event_id"] != first["event_id"] || replay["replay_of"] != first["id"] {
		t.Errorf("replay: %d %v", status, replay)
	}
	if _, log := adm.call(t, "GET", "/api/v1/staff/webhooks/"+id+"/deliveries", nil); len(log["items"].([]any)) != 2 {
		t.Errorf("after the replay: %v", log)
	}
	if status, body := adm.call(t, "PATCH", "/api/v1/staff/webhooks/"+id, map[string]any{"enabled": false}); status != 200 || body["enabled"] != false {
		t.Errorf("disable: %d %v", status, body)
	}
	if status, body := adm.call(t, "POST", "/api/v1/staff/webhooks/"+id+"/rotate", map[string]any{"mode": "sideways"}); status != 422 {
		t.Errorf("rotate with a bad mode: %d %v", status, body)
	}
	if status, body := adm.call(t, "POST", "/api/v1/staff/webhooks/"+id+"/rotate", map[string]any{"mode": "grace"}); status != 200 ||
		!strings.HasPrefix(body["secret"].(string), "whsec_") || body["secret"] == created["secret"] || body["previous_secret_until"] == nil {
		t.Errorf("rotate: %d %v", status, body)
	}

	// A case worker neither sees nor manages webhooks.
	cw := b.api("kempten.localhost")
	cw.staffLogin(t, worker)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/staff/webhooks"}, {"POST", "/api/v1/staff/webhooks"}, {"GET", "/api/v1/staff/webhooks/" + id},
		{"GET", "/api/v1/staff/webhooks/" + id + "/deliveries"}, {"POST", "/api/v1/staff/webhooks/" + id + "/rotate"},
	} {
		if status, body := cw.call(t, c.method, c.path, map[string]any{"url": "https://93.184.216.34/x", "events": []string{"offer.made"}}); status != 403 || errCode(body) != "forbidden" {
			t.Errorf("case worker %s %s: %d %v", c.method, c.path, status, body)
		}
	}
	// Another city's admin: kempten's endpoint does not exist there.
	other := b.api("bochum.localhost")
	other.staffLogin(t, boAdmin)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/staff/webhooks/" + id}, {"PATCH", "/api/v1/staff/webhooks/" + id},
		{"GET", "/api/v1/staff/webhooks/" + id + "/deliveries"}, {"POST", "/api/v1/staff/webhooks/" + id + "/rotate"},
		{"POST", "/api/v1/staff/webhooks/" + id + "/deliveries/" + first["id"].(string) + "/replay"},
	} {
		if status, body := other.call(t, c.method, c.path, map[string]any{"enabled": true}); status != 404 {
			t.Errorf("bochum %s %s: %d %v", c.method, c.path, status, body)
		}
	}
	if _, list := other.call(t, "GET", "/api/v1/staff/webhooks", nil); len(list["items"].([]any)) != 0 {
		t.Errorf("bochum lists %v", list)
	}
	if status, _ := adm.call(t, "GET", "/api/v1/staff/webhooks/not-a-uuid", nil); status != 400 && status != 404 {
		t.Errorf("garbage id: %d", status)
	}

	// The export: JSON and XML, for staff who may read the request.
	status, doc := cw.call(t, "GET", "/api/v1/staff/requests/"+reqID+"/export.json", nil)
	if status != 200 || doc["id"] != reqID || doc["schema"] != "urn:kitaportal:submission:kita-request:1" {
		t.Fatalf("export.json: %d %v", status, doc)
	}
	care, _ := doc["care"].(map[string]any)
	choices, _ := doc["choices"].([]any)
	child, _ := doc["child"].(map[string]any)
	applicant, _ := doc["applicant"].(map[string]any)
	if care["desired_start"] != "2027-09-01" || care["weekly_hours"] != float64(35) || len(choices) != 1 ||
		choices[0].(map[string]any)["facility_id"] != kita.String() || child["first_name"] == "" || child["birth_date"] != "2025-10-01" ||
		applicant["plz"] != "87435" || doc["reference"] == "" {
		t.Errorf("export.json: %v", doc)
	}
	req := httptest.NewRequest("GET", "/api/v1/staff/requests/"+reqID+"/export.xml", nil)
	req.Host = "kempten.localhost"
	req.Header.Set("Authorization", "Bearer "+cw.token)
	res := b.do(t, req)
	var x struct {
		XMLName xml.Name `xml:"submission"`
		Schema  string   `xml:"schema,attr"`
		ID      string   `xml:"id"`
		Start   string   `xml:"care>desiredStart"`
		Hours   int      `xml:"care>weeklyHours"`
		Choices []struct {
			Rank     int    `xml:"rank,attr"`
			Facility string `xml:"facilityId"`
		} `xml:"choices>choice"`
	}
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/xml") || xml.Unmarshal([]byte(res.body), &x) != nil ||
		x.ID != reqID || x.Start != "2027-09-01" || x.Hours != 35 || len(x.Choices) != 1 || x.Choices[0].Facility != kita.String() || x.Choices[0].Rank != 1 {
		t.Errorf("export.xml: %d %s", res.status, res.body)
	}
	for _, p := range []string{"/export.json", "/export.xml"} {
		if status, _ := other.call(t, "GET", "/api/v1/staff/requests/"+reqID+p, nil); status != 404 {
			t.Errorf("bochum exports kempten's request %s: %d", p, status)
		}
		if status, _ := cw.call(t, "GET", "/api/v1/staff/requests/"+uuid.NewString()+p, nil); status != 404 {
			t.Errorf("unknown request %s: %d", p, status)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM audit_event WHERE action = 'request.document_exported' AND object_id = ?`, reqID); n != 2 {
		t.Errorf("exports audited: %d, want 2", n)
	}

	// The page of the tenant admin lists the endpoint with its deliveries.
	br := b.browser("kempten.localhost")
	br.staffLogin(t, admin)
	if r := br.get(t, "/staff/webhooks"); r.status != 200 || !strings.Contains(r.body, "https://93.184.216.34/hook") || !strings.Contains(r.body, "/staff/webhooks/"+id+"/enabled") {
		t.Errorf("page: %d", r.status)
	}
}

// Every step of a request's life after filing becomes exactly one event per subscribed
// endpoint, emitted in the transaction of the step: the offer made and accepted, the
// request moving on, the contract created. (The delivery itself is the worker's:
// internal/webhook's tests run it against a local receiver.)
func TestTheLifeOfARequestEmitsEachEventOnce(t *testing.T) {
	t.Parallel()
	oc := newOfferCity(t)
	endpoint := uuid.New()
	oc.b.exec(`INSERT INTO webhook_endpoint (tenant_id, id, url, events, enabled, secret_sealed, created_at, updated_at)
		SELECT id, ?, 'https://93.184.216.34/hook', ARRAY['application.submitted', 'application.changed', 'application.withdrawn',
			'offer.made', 'offer.accepted', 'offer.declined', 'offer.expired', 'contract.created', 'contract.ended'], true, '\x00', now(), now()
		FROM tenant WHERE slug = 'kempten'`, endpoint)
	status, made := oc.lead.call(t, "POST", "/api/v1/staff/offers", map[string]any{"application_id": oc.app, "rank": 1})
	if status != 201 {
		t.Fatalf("make: %d %v", status, made)
	}
	offerID := made["id"].(string)
	status, acc := oc.family.api.call(t, "POST", "/api/v1/offers/"+offerID+"/accept", nil)
	if status != 200 || acc["contract_id"] == nil {
		t.Fatalf("accept: %d %v", status, acc)
	}
	if status, _ := oc.family.api.call(t, "POST", "/api/v1/offers/"+offerID+"/accept", nil); status != 200 {
		t.Fatalf("accept again: %d", status)
	}
	contractID := acc["contract_id"].(string)
	// A change of scope after the first month continues the contract as a new one: the
	// back office hears of it as of any new contract.
	_, k := oc.lead.call(t, "GET", "/api/v1/staff/contracts/"+contractID, nil)
	from := date.MustParse(k["start_date"].(string)).AddMonths(1)
	hours := 25
	if k["care_hours"].(float64) == 25 {
		hours = 35
	}
	status, changed := oc.lead.call(t, "POST", "/api/v1/staff/contracts/"+contractID+"/scope", map[string]any{"care_hours": hours, "from": from.String()})
	if status != 200 && status != 201 {
		t.Fatalf("scope change: %d %v", status, changed)
	}
	continuation, _ := changed["id"].(string)
	if status, body := oc.lead.call(t, "POST", "/api/v1/staff/contracts/"+contractID+"/cancel", nil); status != 200 && status != 204 {
		t.Fatalf("cancel: %d %v", status, body)
	}
	count := func(typ, object string) int {
		return oc.b.count(t, `SELECT count(*) FROM webhook_delivery d JOIN webhook_event e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
			WHERE d.endpoint_id = ? AND e.type = ? AND e.object_id = ?`, endpoint, typ, object)
	}
	if n := count("offer.made", offerID); n != 1 {
		t.Errorf("offer.made: %d", n)
	}
	if n := count("offer.accepted", offerID); n != 1 { // accepting twice is one acceptance
		t.Errorf("offer.accepted: %d", n)
	}
	if n := count("application.changed", oc.app); n < 2 { // offered, accepted, contracted
		t.Errorf("application.changed: %d", n)
	}
	if n := count("contract.created", contractID); n != 1 {
		t.Errorf("contract.created: %d", n)
	}
	if n := count("contract.ended", contractID); n != 1 {
		t.Errorf("contract.ended: %d", n)
	}
	if n := count("contract.created", continuation); continuation == "" || n != 1 {
		t.Errorf("contract.created of the continuation %q: %d", continuation, n)
	}
	// Each delivery is handed to the worker through the outbox, once.
	if d, o := oc.b.count(t, `SELECT count(*) FROM webhook_delivery WHERE endpoint_id = ?`, endpoint),
		oc.b.count(t, `SELECT count(*) FROM outbox WHERE task_type = 'webhook:deliver'`); d == 0 || d != o {
		t.Errorf("%d deliveries, %d outbox jobs", d, o)
	}
}
