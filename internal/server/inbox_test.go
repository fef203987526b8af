package server_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
)

// The inbox keeps every mail in the language it was sent in and the same notice in the
// city's other languages: a reader of the English portal reads a German mail in English
// with a link to the German wording (and the other way round), the mailed wording is
// named, dates are written the reader's way, messages from before keep working and
// nobody opens another family's message.
func TestInboxShowsTheReadersLanguageAndLinksTheWordingThatWasMailed(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	bo := b.tenant(t, "bochum")
	b.place(t, bo, "44787", "bochum")
	kita := b.facility(t, bo, "Kita Stadtpark", "kita", "bochum", "", "krippe", "kindergarten")
	pia := b.family(t, "bochum", "pia@bochum.test", "44787", "2025-10-01") // account in German
	pia.file(t, request(pia.child, "2027-08-01", 45, kita))
	ole := b.family(t, "bochum", "ole@bochum.test", "44787", "2025-09-01")
	b.exec(`UPDATE account SET language = 'en' WHERE tenant_id = ? AND email = ?`, bo.ID, "ole@bochum.test")
	ole.file(t, request(ole.child, "2027-08-01", 35, kita))

	// The mails went out in each guardian's language.
	mails := b.mails(t, "application_submitted")
	if len(mails) != 2 || !strings.Contains(mails[0].Subject, "ist eingegangen") || !strings.Contains(mails[1].Subject, "was received") {
		t.Fatalf("mails: %+v", mails)
	}

	// The API keeps subject and body as sent and adds every wording.
	status, body := pia.api.call(t, "GET", "/api/v1/inbox", nil)
	items, _ := body["items"].([]any)
	if status != 200 || len(items) != 1 {
		t.Fatalf("api inbox: %d %v", status, body)
	}
	msg := items[0].(map[string]any)
	versions, _ := msg["versions"].([]any)
	if msg["lang"] != "de" || msg["mailed"] != true || len(versions) != 2 || !strings.Contains(msg["subject"].(string), "ist eingegangen") {
		t.Fatalf("api message: %v", msg)
	}
	de, en := versions[0].(map[string]any), versions[1].(map[string]any)
	if de["lang"] != "de" || de["sent"] != true || de["subject"] != msg["subject"] || en["lang"] != "en" || en["sent"] != false ||
		!strings.Contains(en["subject"].(string), "was received") || !strings.Contains(en["body"].(string), "1 Aug 2027") {
		t.Errorf("api versions: %v", versions)
	}
	piaMsg := msg["id"].(string)

	// Pia reads the English portal: the English wording, the German one a link away.
	br := b.browser("bochum.localhost")
	br.parentLogin(t, "pia@bochum.test")
	br.get(t, "/language?lang=en&next=/inbox")
	page := br.get(t, "/inbox")
	cards := fragment(page.body, `<ul class="cards">`, "</ul>")
	if page.status != 200 || !contains(cards, "Your request BOC-", "was received", "from 1 Aug 2027", "Desired start: 1 Aug 2027",
		"Translation · Mailed to you in German", `href="/inbox/`+piaMsg+`?lang=de" lang="de" hreflang="de"`, ">Auf Deutsch</a>") ||
		!englishTime.MatchString(cards) {
		t.Fatalf("English inbox of a German mail: %d\n%s", page.status, cards)
	}
	if iso := regexp.MustCompile(`\d{4}-\d{2}-\d{2}`).FindString(cards); iso != "" {
		t.Errorf("an ISO date in the English inbox: %s", iso)
	}
	if strings.Contains(cards, "ist eingegangen") {
		t.Errorf("the English inbox shows the German wording")
	}
	page = br.get(t, "/inbox/"+piaMsg+"?lang=de")
	if page.status != 200 || !contains(page.body, `<h1 id="m-`+piaMsg+`" lang="de">Ihre Vormerkung BOC-`, "zum 01.08.2027",
		"Mailed to you in German", `?lang=en" lang="en" hreflang="en"`, ">In English</a>", "Back to the inbox") ||
		strings.Contains(page.body, "Translation ·") {
		t.Fatalf("the German wording on the English page: %d\n%s", page.status, fragment(page.body, "<main", "</main>"))
	}
	// The German page shows what was mailed, and offers the English wording.
	br.get(t, "/language?lang=de&next=/inbox")
	cards = fragment(br.get(t, "/inbox").body, `<ul class="cards">`, "</ul>")
	if !contains(cards, "Ihre Vormerkung BOC-", "Per E-Mail auf Deutsch versandt", `?lang=en" lang="en" hreflang="en"`, ">In English</a>") ||
		!germanTime.MatchString(cards) ||
		strings.Contains(cards, "Übersetzung") || strings.Contains(cards, `lang="de"`) {
		t.Errorf("German inbox of a German mail:\n%s", cards)
	}

	// And the other way round: Ole was mailed in English and reads the German portal.
	_, body = ole.api.call(t, "GET", "/api/v1/inbox", nil)
	oleMsg := body["items"].([]any)[0].(map[string]any)
	if oleMsg["lang"] != "en" || !strings.Contains(oleMsg["subject"].(string), "was received") {
		t.Fatalf("Ole's message as sent: %v", oleMsg)
	}
	ob := b.browser("bochum.localhost")
	ob.parentLogin(t, "ole@bochum.test")
	ob.get(t, "/language?lang=de&next=/inbox")
	cards = fragment(ob.get(t, "/inbox").body, `<ul class="cards">`, "</ul>")
	if !contains(cards, "Ihre Vormerkung BOC-", "zum 01.08.2027", "Übersetzung · Per E-Mail auf Englisch versandt", `hreflang="en"`, ">In English</a>") {
		t.Errorf("German inbox of an English mail:\n%s", cards)
	}
	if page := ob.get(t, "/inbox/"+oleMsg["id"].(string)+"?lang=en"); page.status != 200 ||
		!contains(page.body, `lang="en">Your request BOC-`, "Per E-Mail auf Englisch versandt", ">Auf Deutsch</a>") {
		t.Errorf("the English wording on the German page: %d", page.status)
	}

	// Another family's message, a made-up id and garbage are not found.
	for _, path := range []string{"/inbox/" + oleMsg["id"].(string), "/inbox/" + oleMsg["id"].(string) + "?lang=en",
		"/inbox/" + uuid.NewString(), "/inbox/not-a-uuid"} {
		if r := br.get(t, path); r.status != 404 || strings.Contains(r.body, "Your request") {
			t.Errorf("%s as Pia: %d", path, r.status)
		}
	}

	// A message from before languages were kept: one wording, no language, still shown.
	var piaID uuid.UUID
	if err := b.db.NewRaw(`SELECT id FROM account WHERE tenant_id = ? AND email = ?`, bo.ID, "pia@bochum.test").Scan(context.Background(), &piaID); err != nil {
		t.Fatal(err)
	}
	old := uuid.New()
	b.exec(`INSERT INTO inbox_message (tenant_id, id, account_id, kind, subject, body, link, created_at)
		VALUES (?, ?, ?, 'application_changed', 'Alte Nachricht', 'Noch ohne Sprachen gespeichert.', '', '2026-11-01T10:00:00Z')`, bo.ID, old, piaID)
	br.get(t, "/language?lang=en&next=/inbox")
	page = br.get(t, "/inbox")
	oldCard := fragment(page.body, "Alte Nachricht", "</li>")
	if page.status != 200 || !contains(oldCard, "1 Nov 2026, 11:00:00", "Noch ohne Sprachen gespeichert.") || strings.Contains(oldCard, "hreflang") ||
		strings.Contains(oldCard, "Mailed") || !contains(page.body, ">Auf Deutsch</a>") {
		t.Errorf("an old message in the English inbox: %d\n%s", page.status, oldCard)
	}
	if r := br.get(t, "/inbox/"+old.String()+"?lang=en"); r.status != 200 || !contains(r.body, "Alte Nachricht", "Noch ohne Sprachen") {
		t.Errorf("an old message's page: %d", r.status)
	}
	_, body = pia.api.call(t, "GET", "/api/v1/inbox", nil)
	for _, it := range body["items"].([]any) {
		m := it.(map[string]any)
		if m["id"] == old.String() {
			if _, has := m["lang"]; has || len(m["versions"].([]any)) != 0 || m["subject"] != "Alte Nachricht" {
				t.Errorf("an old message in the API: %v", m)
			}
		}
	}
}

// A counsellor's queue notice is German (the office's mail); the staff inbox offers it
// in English too, and another account's message is not found there.
func TestStaffInboxOffersTheNoticeInTheReadersLanguage(t *testing.T) {
	t.Parallel()
	b := setupApplications(t)
	bo := b.tenant(t, "bochum")
	b.place(t, bo, "44787", "bochum")
	tp := b.facility(t, bo, "Tagespflege Sonnenschein", "tagespflege", "bochum", "wattenscheid", "krippe")
	counsellor := b.staff(t, &city{t: bo}, "ktp-wat", authz.RoleCounsellor, uuid.Nil, "wattenscheid")
	f := b.family(t, "bochum", "pia@bochum.test", "44787", "2025-10-01")
	f.file(t, request(f.child, "2027-08-01", 35, tp))
	_, body := f.api.call(t, "GET", "/api/v1/inbox", nil)
	parentMsg := body["items"].([]any)[0].(map[string]any)["id"].(string)

	ca := b.api("bochum.localhost")
	ca.staffLogin(t, counsellor)
	status, body := ca.call(t, "GET", "/api/v1/staff/inbox", nil)
	items, _ := body["items"].([]any)
	if status != 200 || len(items) != 1 {
		t.Fatalf("staff inbox api: %d %v", status, body)
	}
	msg := items[0].(map[string]any)
	if msg["lang"] != "de" || msg["mailed"] != false || len(msg["versions"].([]any)) != 2 {
		t.Fatalf("the counsellor's notice: %v", msg)
	}
	id := msg["id"].(string)

	br := b.browser("bochum.localhost")
	br.staffLogin(t, counsellor)
	br.get(t, "/language?lang=en&next=/staff/inbox")
	page := br.get(t, "/staff/inbox")
	cards := fragment(page.body, `<ul class="cards">`, "</ul>")
	if page.status != 200 || !contains(cards, "New childminding request BOC-", "(Wattenscheid)", "Desired start: 1 Aug 2027",
		"Translation · Sent to you in German", `href="/staff/inbox/`+id+`?lang=de"`, ">Auf Deutsch</a>") {
		t.Fatalf("English staff inbox: %d\n%s", page.status, cards)
	}
	if iso := regexp.MustCompile(`\d{4}-\d{2}-\d{2}`).FindString(cards); iso != "" {
		t.Errorf("an ISO date in the English staff inbox: %s", iso)
	}
	page = br.get(t, "/staff/inbox/"+id+"?lang=de")
	if page.status != 200 || !contains(page.body, `lang="de">Neue Anfrage Kindertagespflege BOC-`, "Sent to you in German", ">In English</a>", `href="/staff/inbox"`) {
		t.Errorf("the German notice on the English staff page: %d", page.status)
	}
	if r := br.get(t, "/staff/inbox/"+parentMsg); r.status != 404 {
		t.Errorf("the parent's message in the staff inbox: %d", r.status)
	}
}

// How the inbox writes when a message came, in English and in German.
var (
	englishTime = regexp.MustCompile(`<p class="muted small">\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}:\d{2}`)
	germanTime  = regexp.MustCompile(`<p class="muted small">\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}`)
)

// fragment is the part of s from the first start to the next end after it ("" if absent).
func fragment(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j+len(end)]
	}
	return s
}
