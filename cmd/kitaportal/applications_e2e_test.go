package main_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"kitaportal/internal/auth"
	"kitaportal/internal/demo"
	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/testdb"
)

// The pre-registration's "done when", through the real binary with the demo data: the
// demo parent of Kempten is refused a fourth choice and a start 37 months ahead, files a
// request whose confirmation arrives over SMTP, and the demo Kita lead sees it; in
// Bochum a Kindertagespflege choice reaches the district's Fachberatung by mail.
func TestBinaryPreRegistrationDoneWhen(t *testing.T) {
	t.Parallel()
	_, dbURL := testdb.Empty(t)
	httpAddr := freeAddr(t)
	sink, err := mail.StartSink("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	e := env(t, dbURL, "HTTP_ADDR="+httpAddr, "METRICS_ADDR=", "PUBLIC_URL=http://localhost:8080", "SMTP_URL="+sink.URL())
	var seedOut string
	for _, step := range [][]string{{"migrate", "up"}, {"tenants", "sync"}, {"seed", "kempten", "bochum"}} {
		out, err := runCmd(t, e, step...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", step, err, out)
		}
		seedOut = out
	}
	m := demoSecret.FindStringSubmatch(seedOut)
	if m == nil {
		t.Fatalf("no TOTP secret of the Kempten lead in:\n%s", seedOut)
	}
	leadSecret, _ := auth.DecodeTOTPSecret(m[1])
	start(t, e, "serve")
	start(t, e, "worker")
	eventually(t, "the portal to be ready", 20*time.Second, func() bool {
		status, _, err := get(httpAddr, "localhost", "/readyz")
		return err == nil && status == 200
	})
	eventually(t, "the permission rules to be loaded", 10*time.Second, func() bool {
		status, _ := call(t, httpAddr, "kempten.localhost", "GET", "/api/v1/me", "", nil)
		return status == 401
	})
	login := func(host, email string) string {
		t.Helper()
		status, body := call(t, httpAddr, host, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": demo.DemoPassword})
		if status != 200 {
			t.Fatalf("login %s: %d %v", email, status, body)
		}
		return body["token"].(string)
	}

	// Kempten: the demo parent's child without a request (Paul; Lina has the demo
	// offer), the lead's facility and three more Kitas.
	const kh = "kempten.localhost"
	parent := login(kh, "eltern@kempten.demo")
	_, children := call(t, httpAddr, kh, "GET", "/api/v1/children", parent, nil)
	items, _ := children["items"].([]any)
	var child map[string]any
	for _, it := range items {
		if c := it.(map[string]any); c["first_name"] == "Paul" {
			child = c
		}
	}
	if len(items) != 2 || child == nil {
		t.Fatalf("the demo parent's children: %v", children)
	}
	lead := login2FA(t, httpAddr, kh, "leitung@kempten.demo", leadSecret)
	_, fac := call(t, httpAddr, kh, "GET", "/api/v1/staff/facilities", lead, nil)
	leadFacility := fac["items"].([]any)[0].(map[string]any)["id"].(string)
	_, found := call(t, httpAddr, kh, "GET", "/api/v1/facilities?birth_date="+child["birth_date"].(string)+"&start_date=2027-09-01&per_page=50&type=kita&type=krippe", "", nil)
	choices := []map[string]string{{"facility_id": leadFacility}}
	for _, it := range found["items"].([]any) {
		f := it.(map[string]any)
		if id := f["id"].(string); id != leadFacility && f["age_fit"] == true && len(choices) < 4 {
			choices = append(choices, map[string]string{"facility_id": id})
		}
	}
	if len(choices) != 4 {
		t.Fatalf("found %d fitting Kitas", len(choices))
	}
	req := map[string]any{"child_id": child["id"], "start_date": "2027-09-01", "care_hours": 35, "choices": choices}
	if status, body := call(t, httpAddr, kh, "POST", "/api/v1/applications", parent, req); status != 422 ||
		!strings.Contains(fmt.Sprint(body), "höchstens 3 Einrichtungen") {
		t.Errorf("fourth choice: %d %v", status, body)
	}
	far := time.Now().AddDate(0, 37, 0).Format("2006-01-02")
	req["start_date"], req["choices"] = far, choices[:3]
	if status, body := call(t, httpAddr, kh, "POST", "/api/v1/applications", parent, req); status != 422 ||
		!strings.Contains(fmt.Sprint(body), "mehr als 36 Monate") {
		t.Errorf("37 months ahead: %d %v", status, body)
	}
	req["start_date"] = "2027-09-01"
	status, draft := call(t, httpAddr, kh, "POST", "/api/v1/applications", parent, req)
	if status != 201 {
		t.Fatalf("draft: %d %v", status, draft)
	}
	status, sub := call(t, httpAddr, kh, "POST", "/api/v1/applications/"+draft["id"].(string)+"/submit", parent, nil)
	ref, _ := sub["reference"].(string)
	if status != 200 || ref == "" {
		t.Fatalf("submit: %d %v", status, sub)
	}
	eventually(t, "the confirmation mail over SMTP", 60*time.Second, func() bool { return hasMail(sink, "eltern@kempten.demo", ref) })
	status, list := call(t, httpAddr, kh, "GET", "/api/v1/staff/requests?facility="+leadFacility, lead, nil)
	if status != 200 || !strings.Contains(fmt.Sprint(list), ref) {
		t.Errorf("the Kita lead's list lacks %s: %d", ref, status)
	}

	// Bochum: a Kindertagespflege choice on top of a Kita goes to the district's office.
	const bh = "bochum.localhost"
	bp := login(bh, "eltern@bochum.demo")
	_, bc := call(t, httpAddr, bh, "GET", "/api/v1/children", bp, nil)
	bchild := bc["items"].([]any)[0].(map[string]any)
	first := func(typ string) string {
		_, res := call(t, httpAddr, bh, "GET", "/api/v1/facilities?birth_date="+bchild["birth_date"].(string)+"&start_date=2027-08-01&per_page=50&type="+typ, "", nil)
		items, _ := res["items"].([]any)
		for _, it := range items {
			if f := it.(map[string]any); f["age_fit"] == true {
				return f["id"].(string)
			}
		}
		return ""
	}
	kita, tp := first("kita"), first("tagespflege")
	if kita == "" || tp == "" {
		t.Fatalf("no fitting Kita and Tagespflege in Bochum's search")
	}
	status, bd := call(t, httpAddr, bh, "POST", "/api/v1/applications", bp, map[string]any{"child_id": bchild["id"], "start_date": "2027-08-01",
		"care_hours": 35, "choices": []map[string]string{{"facility_id": kita}, {"facility_id": tp}}})
	if status != 201 {
		t.Fatalf("bochum draft: %d %v", status, bd)
	}
	status, bs := call(t, httpAddr, bh, "POST", "/api/v1/applications/"+bd["id"].(string)+"/submit", bp, nil)
	routed := fmt.Sprint(bs["tagespflege"])
	if status != 200 || !strings.Contains(routed, "Fachberatung") {
		t.Fatalf("bochum submit: %d %v", status, bs)
	}
	office := regexp.MustCompile(`ktp-[a-z]+@bochum\.kitaportal\.example`).FindString(routed)
	eventually(t, "the Fachberatung's mail over SMTP", 60*time.Second, func() bool { return hasMail(sink, office, bs["reference"].(string)) })
}

// login2FA signs a staff member in to the API with password and TOTP code.
func login2FA(t *testing.T, addr, host, email string, secret []byte) string {
	t.Helper()
	status, body := call(t, addr, host, "POST", "/api/v1/staff/auth/login", "", map[string]string{
		"email": email, "password": demo.DemoPassword, "code": auth.TOTPCode(secret, time.Now())})
	token, _ := body["token"].(string)
	if status != 200 || token == "" {
		t.Fatalf("staff login %s: %d %v", email, status, body)
	}
	return token
}

// hasMail tells whether the sink received a mail to address whose subject names what.
func hasMail(sink *mail.Sink, to, what string) bool {
	for _, m := range sink.Messages() {
		if strings.Contains(strings.Join(m.To, ","), to) && strings.Contains(m.Subject, what) {
			return true
		}
	}
	return false
}
