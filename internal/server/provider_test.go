package server_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
)

// The provider portal through the real router: a provider admin keeps the profile,
// photos, closures and groups of their facilities; everyone else is kept out.

// upload posts a multipart form with one file, as a browser does, with the page's CSRF
// token.
func (br *browser) upload(t *testing.T, page, action string, fields map[string]string, fileField, fileName string, content []byte) response {
	t.Helper()
	form := br.get(t, page)
	m := csrfField.FindStringSubmatch(form.body)
	if m == nil {
		t.Fatalf("no CSRF token on %s (status %d)", page, form.status)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", m[1])
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if fileField != "" {
		fw, _ := w.CreateFormFile(fileField, fileName)
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	return br.do(t, "POST", action, &body, "Content-Type", w.FormDataContentType())
}

// pngPhoto is a w×h picture.
func pngPhoto(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{G: 180, A: 255})
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// merged is form with the fields of change replaced.
func merged(form, change map[string]string) map[string]string {
	out := make(map[string]string, len(form))
	for k, v := range form {
		out[k] = v
	}
	for k, v := range change {
		out[k] = v
	}
	return out
}

func TestProviderAdminKeepsProfilePhotosAndClosures(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k, bo := b.city(t, "kempten"), b.city(t, "bochum")
	admin := b.staff(t, k, "traeger", authz.RoleProvider, k.providers[0], "")
	br := b.browser("kempten.localhost")
	br.staffLogin(t, admin)

	home := br.get(t, "/staff/provider")
	mustContain(t, home, "Kita A "+k.Marker, "Tagespflege "+k.Marker)
	if strings.Contains(home.body, "Kita B "+k.Marker) {
		t.Error("the provider admin sees another provider's facility")
	}
	id := k.facilities[0].String()
	page := "/staff/facilities/" + id + "/profile"
	mustContain(t, br.get(t, page), "Kita A "+k.Marker, `name="opening_hours.mon"`)

	r := br.submit(t, page, page, map[string]string{
		"name": "Kita A " + k.Marker, "description": "Wir spielen viel draußen.", "concepts": "montessori",
		"opening_hours.mon": "7:00-12:00, 13:00-17:30", "opening_hours.tue": "07:00-17:00", "age_min_months": "12", "age_max_months": "72",
		"lunch": "on", "phone": "0831 123-45", "email": "kita-a@example.org", "website": "https://kita-a.example.org"})
	if r.status != 303 {
		t.Fatalf("save profile: %d\n%.800s", r.status, r.body)
	}
	api := b.get(t, "kempten.localhost", "/api/v1/facilities/"+id)
	mustContain(t, api, "Wir spielen viel draußen.", `"montessori"`, `"13:00","17:30"`)
	if got := b.auditRows(t, k.t.ID, "action = 'facility.profile_changed'"); len(got) != 1 || !strings.Contains(got[0], admin.Email) {
		t.Errorf("audit: %v", got)
	}

	// Bad input: shown again with every problem in German, nothing saved.
	r = br.submit(t, page, page, map[string]string{"name": "", "opening_hours.wed": "25:00-26:00", "age_min_months": "60",
		"age_max_months": "12", "website": "javascript:alert(1)", "description": "x"})
	if r.status != 422 {
		t.Fatalf("bad profile: %d", r.status)
	}
	mustContain(t, r, "Bitte ausfüllen.", "Bitte Zeiten wie 07:00-17:00", "Das Höchstalter muss über dem Aufnahmealter liegen.", "Bitte eine Webadresse")
	if n := b.count(t, `SELECT count(*) FROM facility WHERE id = ? AND description = 'x'`, k.facilities[0]); n != 0 {
		t.Error("an invalid profile was saved")
	}

	// Photos: a real one is scaled and stored; garbage, a tiny picture and a bomb are refused.
	r = br.upload(t, page, "/staff/facilities/"+id+"/photos", map[string]string{"alt": "Der Garten"}, "photo", "garten.png", pngPhoto(2400, 1200))
	if r.status != 303 {
		t.Fatalf("photo: %d\n%.600s", r.status, r.body)
	}
	photo := b.get(t, "kempten.localhost", "/facilities/"+id+"/photos/1")
	if photo.status != 200 || photo.header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("public photo: %d %s", photo.status, photo.header.Get("Content-Type"))
	}
	if cfg, _, err := image.DecodeConfig(strings.NewReader(photo.body)); err != nil || cfg.Width != 1600 {
		t.Errorf("stored photo: %+v %v", cfg, err)
	}
	bomb := pngPhoto(400, 400)
	copy(bomb[16:24], []byte{0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60})
	for name, content := range map[string][]byte{"php": []byte("<?php echo 1; ?>"), "tiny": pngPhoto(40, 40), "bomb": bomb} {
		r := br.upload(t, page, "/staff/facilities/"+id+"/photos", map[string]string{"alt": "x"}, "photo", name+".png", content)
		if r.status != 422 || !strings.Contains(r.body, "field-error") {
			t.Errorf("%s: %d", name, r.status)
		}
	}
	if r := br.upload(t, page, "/staff/facilities/"+id+"/photos", map[string]string{"alt": ""}, "photo", "a.png", pngPhoto(800, 600)); r.status != 422 {
		t.Errorf("photo without text alternative: %d", r.status)
	}
	if n := b.count(t, `SELECT count(*) FROM facility_photo WHERE facility_id = ?`, k.facilities[0]); n != 1 {
		t.Errorf("%d photos stored", n)
	}
	if r := br.submit(t, page, "/staff/facilities/"+id+"/photos/1/delete", nil); r.status != 303 {
		t.Errorf("remove photo: %d", r.status)
	}
	if r := b.get(t, "kempten.localhost", "/facilities/"+id+"/photos/1"); r.status != 404 {
		t.Errorf("removed photo still served: %d", r.status)
	}

	// Closures: one is entered; an overlapping one and one in the past are refused.
	closures := "/staff/facilities/" + id + "/closures"
	if r := br.submit(t, page, closures, map[string]string{"first_day": "2099-07-20", "last_day": "2099-08-07", "reason": "Sommer"}); r.status != 303 {
		t.Fatalf("closure: %d %.500s", r.status, r.body)
	}
	mustContain(t, b.get(t, "kempten.localhost", "/facilities/"+id), "Schließzeiten", "20.07.2099 – 07.08.2099: Sommer")
	mustContain(t, b.get(t, "kempten.localhost", "/api/v1/facilities/"+id), `"closures":[{"first_day":"2099-07-20","last_day":"2099-08-07","reason":"Sommer"}]`)
	r = br.submit(t, page, closures, map[string]string{"first_day": "01.08.2099", "last_day": "10.08.2099"})
	mustContain(t, r, "überschneidet sich")
	r = br.submit(t, page, closures, map[string]string{"first_day": "2001-01-01", "last_day": "2001-01-02"})
	mustContain(t, r, "Vergangenheit")

	// Out of scope, other city, not an id: 404; nothing of Bochum changes.
	for _, other := range []string{k.facilities[1].String(), bo.facilities[0].String(), "nope"} {
		if r := br.get(t, "/staff/facilities/"+other+"/profile"); r.status != 404 {
			t.Errorf("profile of %s: %d", other, r.status)
		}
		r := br.submit(t, page, "/staff/facilities/"+other+"/profile", map[string]string{"name": "Übernommen", "age_min_months": "0", "age_max_months": "72"})
		if r.status != 404 {
			t.Errorf("save profile of %s: %d", other, r.status)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM facility WHERE name = 'Übernommen'`); n != 0 {
		t.Error("a facility out of scope was changed")
	}
}

func TestFacilityStaffReadsButCannotChange(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	fachkraft := b.staff(t, k, "fachkraft", authz.RoleStaff, k.facilities[0], "")
	br := b.browser("kempten.localhost")
	br.staffLogin(t, fachkraft)
	page := "/staff/facilities/" + k.facilities[0].String() + "/profile"
	mustContain(t, br.get(t, page), "Sie können diese Angaben ansehen, aber nicht ändern.", "<fieldset disabled>")
	if r := br.submit(t, page, page, map[string]string{"name": "Umbenannt", "age_min_months": "0", "age_max_months": "72"}); r.status != 403 {
		t.Errorf("facility staff saved a profile: %d", r.status)
	}
	a := b.api("kempten.localhost")
	a.staffLogin(t, fachkraft)
	status, body := a.call(t, "PUT", "/api/v1/staff/facilities/"+k.facilities[0].String()+"/profile", map[string]any{"name": "Umbenannt", "age_max_months": 72})
	if status != 403 || errCode(body) != "forbidden" {
		t.Errorf("API: %d %v", status, body)
	}
	if status, _ := a.call(t, "GET", "/api/v1/staff/facilities/"+k.facilities[0].String()+"/profile", nil); status != 200 {
		t.Errorf("API read: %d", status)
	}
}

func TestProfileAPIInEnglishWithFieldErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	lead := b.staff(t, k, "leitung", authz.RoleLead, k.facilities[0], "")
	a := b.api("kempten.localhost")
	a.lang = "en"
	a.staffLogin(t, lead)
	path := "/api/v1/staff/facilities/" + k.facilities[0].String() + "/profile"
	status, body := a.call(t, "PUT", path, map[string]any{"name": "Kita A", "age_min_months": 0, "age_max_months": 72,
		"opening_hours": map[string]any{"mon": [][2]string{{"17:00", "07:00"}}, "xyz": [][2]string{{"07:00", "08:00"}}}, "concepts": []string{"zauberei"}})
	if status != 422 || errCode(body) != "validation_failed" {
		t.Fatalf("%d %v", status, body)
	}
	raw, _ := json.Marshal(body)
	for _, want := range []string{"opening_hours.mon", "opening_hours.xyz", "concepts", "Opening (17:00) must come before closing (07:00)."} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("answer lacks %q: %s", want, raw)
		}
	}
	status, body = a.call(t, "PUT", path, map[string]any{"name": "Kita A neu", "age_min_months": 0, "age_max_months": 72,
		"opening_hours": map[string]any{"mon": [][2]string{{"07:00", "16:00"}}}, "concepts": []string{"waldorf"}})
	if status != 200 || body["name"] != "Kita A neu" {
		t.Errorf("%d %v", status, body)
	}
	if status, _ := a.call(t, "GET", "/api/v1/staff/facilities/"+uuid.NewString()+"/profile", nil); status != 404 {
		t.Errorf("unknown facility: %d", status)
	}
}
