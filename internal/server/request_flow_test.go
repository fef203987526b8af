package server_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// The request form starts from the search (issue 21, point 1): the facilities a parent
// ticked, with the child's birth date, start and scope, come as the ordered list of
// wishes, each with its distance and expected availability; those that cannot take the
// child then are set apart with the reason; ids of other cities and garbage are left out
// with a note. Without JavaScript the list's buttons draw the form again in the new
// order and save nothing; the request filed keeps that order.
func TestRequestFormStartsFromTheSearchAndReordersWithoutJavaScript(t *testing.T) {
	t.Parallel()
	rf := setupRequestFlow(t)
	br := rf.br

	form := br.get(t, rf.newURL(url.Values{"facility": {rf.birke.String(), rf.kindergarten.String(), rf.ahorn.String(), rf.tp.String(),
		rf.short.String(), rf.foreign.String(), "nope", rf.birke.String()}}))
	if form.status != 200 {
		t.Fatalf("request form: %d %.500s", form.status, form.body)
	}
	list := shortlistOf(t, form.body)
	// The child with the search's birth date is chosen, start and scope carried over.
	if !contains(form.body, `<option value="`+rf.child+`" selected>`, `value="2027-08-01"`, `<option value="45" selected>`) {
		t.Errorf("the child, start and scope are not carried over")
	}
	// The Kitas in the order ticked, Kindertagespflege on top (Bochum), each posted in its field.
	if got := hiddenChoices(list); got != "0="+rf.birke.String()+" 1="+rf.ahorn.String()+" 5="+rf.tp.String() {
		t.Errorf("the list posts %s", got)
	}
	if !contains(list, "1. Wunsch", "<strong>Kita Birke</strong>", "2. Wunsch", "<strong>Kita Ahorn</strong>", "Kindertagespflege 1") ||
		strings.Index(list, "Kita Birke") > strings.Index(list, "Kita Ahorn") {
		t.Errorf("the list is not in the order ticked:\n%s", list)
	}
	// Distance from the family's address (its postcode's centre), expected availability for the start.
	if !contains(list, "1,1 km von Ihrer Adresse", "0,0 km von Ihrer Adresse", "voraussichtlich frei", "keine Angabe") {
		t.Errorf("distance or availability missing:\n%s", list)
	}
	// The Kindergarten and the Kita of 25 hours cannot take a Krippe child for 45 hours:
	// set apart with the reason, not posted as choices.
	unfit := between(list, `class="unfit"`, "</section>")
	if !contains(unfit, "Kindergarten Eiche", "betreut zum gewünschten Beginn keine Kinder dieses Alters (Unter 3 Jahren)",
		"Kita Kurz", "bietet höchstens 25 statt 45 Stunden") {
		t.Errorf("the unfit facilities are not set apart with reasons:\n%s", unfit)
	}
	if strings.Contains(hiddenChoices(list), rf.kindergarten.String()) || strings.Contains(hiddenChoices(list), rf.short.String()) {
		t.Error("an unfit facility would be submitted")
	}
	// The other city's facility and the garbage are left out, and the parent is told.
	if !contains(list, "2 Angaben zu Einrichtungen konnten wir keiner Einrichtung dieser Stadt zuordnen") || strings.Contains(list, rf.foreign.String()) {
		t.Errorf("foreign and garbage ids:\n%s", list)
	}
	// The selects for the places left offer only what fits and is not on the list yet.
	adds := between(list, `class="shortlist-add"`, "</fieldset>")
	if !contains(adds, `name="choice.2"`, rf.fits.String()) || strings.Contains(adds, rf.kindergarten.String()) ||
		strings.Contains(adds, rf.short.String()) || strings.Contains(adds, `value="`+rf.ahorn.String()+`"`) {
		t.Errorf("the fallback selects offer what does not fit:\n%s", adds)
	}
	// The first wish cannot move up, the last not down.
	if !regexp.MustCompile(`value="up:`+rf.birke.String()+`"[^>]*disabled`).MatchString(list) ||
		!regexp.MustCompile(`value="down:`+rf.ahorn.String()+`"[^>]*disabled`).MatchString(list) {
		t.Error("the ends of the list are not disabled")
	}

	// Without JavaScript: "nach oben" at Kita Ahorn draws the form again, Ahorn first,
	// the focus back on its button, nothing saved.
	posted := url.Values{"child_id": {rf.child}, "start_date": {"2027-08-01"}, "care_hours": {"45"},
		"choice.0": {rf.birke.String()}, "choice.1": {rf.ahorn.String()}, "choice.5": {rf.tp.String()},
		"facility": {rf.kindergarten.String(), rf.short.String()}, "criteria.single_parent": {"yes"}}
	r := rf.post(t, posted, "move", "up:"+rf.ahorn.String())
	list = shortlistOf(t, r.body)
	if r.status != 200 || hiddenChoices(list) != "0="+rf.ahorn.String()+" 1="+rf.birke.String()+" 5="+rf.tp.String() {
		t.Fatalf("after moving up: %d %s", r.status, hiddenChoices(list))
	}
	if !contains(r.body, "„Kita Ahorn“ ist jetzt Wunsch 1.", `name="criteria.single_parent" value="yes" checked`) ||
		!regexp.MustCompile(`value="down:`+rf.ahorn.String()+`"[^>]*autofocus`).MatchString(list) {
		t.Errorf("the move is not told, the focus not kept or a field lost:\n%s", list)
	}
	if !contains(between(list, `class="unfit"`, "</section>"), "Kindergarten Eiche", "Kita Kurz") {
		t.Error("the set-apart facilities are not carried along")
	}
	if n := rf.b.count(t, `SELECT count(*) FROM application WHERE tenant_id = ?`, rf.bo.ID); n != 0 {
		t.Errorf("a button saved %d requests", n)
	}
	// "nach unten" at the last one and garbage change nothing and never fail.
	for _, move := range []string{"down:" + rf.ahorn.String(), "up:" + rf.birke.String(), "up:" + uuid.NewString(), "sideways:" + rf.ahorn.String(), "up:nope", "remove:" + rf.foreign.String()} {
		r := rf.post(t, posted, "move", move)
		if r.status != 200 || hiddenChoices(shortlistOf(t, r.body)) != "0="+rf.birke.String()+" 1="+rf.ahorn.String()+" 5="+rf.tp.String() {
			t.Errorf("move %q: %d %s", move, r.status, hiddenChoices(shortlistOf(t, r.body)))
		}
	}
	// A chosen select joins the list; "entfernen" takes one off.
	withAdd := cloneValues(posted)
	withAdd.Set("choice.2", rf.fits.String())
	r = rf.post(t, withAdd, "move", "remove:"+rf.birke.String())
	if got := hiddenChoices(shortlistOf(t, r.body)); r.status != 200 || got != "0="+rf.ahorn.String()+" 1="+rf.fits.String()+" 5="+rf.tp.String() {
		t.Fatalf("after adding and removing: %d %s", r.status, got)
	}

	// Filed in the new order (Ahorn, Birke), the status page lists it so.
	posted.Set("choice.0", rf.ahorn.String())
	posted.Set("choice.1", rf.birke.String())
	posted.Set("declaration", "yes")
	r = rf.post(t, posted, "action", "submit")
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "?done=submitted") {
		t.Fatalf("submit: %d %.800s", r.status, r.body)
	}
	page := br.get(t, r.header.Get("Location"))
	if a, b := strings.Index(page.body, "Kita Ahorn"), strings.Index(page.body, "Kita Birke"); page.status != 200 || a < 0 || b < 0 || a > b {
		t.Errorf("the status page does not list Ahorn before Birke (%d, %d)", a, b)
	}
	if n := rf.b.count(t, `SELECT count(*) FROM application_choice WHERE tenant_id = ? AND facility_id IN (?, ?)`, rf.bo.ID, rf.kindergarten, rf.short); n != 0 {
		t.Errorf("%d unfit facilities were filed", n)
	}
}

// Bad input in the query or the form never fails: garbage dates, scopes, places and ids
// are left out; a choice of another city that reaches the rules is refused with its
// rank named; English reads English.
func TestRequestFormRefusesGarbageClearly(t *testing.T) {
	t.Parallel()
	rf := setupRequestFlow(t)
	br := rf.br
	many := url.Values{}
	for range 60 {
		many.Add("facility", uuid.NewString())
	}
	many.Add("facility", strings.Repeat("x", 1000))
	for name, q := range map[string]string{
		"garbage":     "facility=%00&facility=;DROP&birth_date=2025-02-31&start_date=morgen&care_hours=999&lat=abc&lon=1e999",
		"many ids":    many.Encode(),
		"far away":    "facility=" + rf.ahorn.String() + "&lat=-91&lon=500&birth_date=1800-01-01&start_date=9999-12-31",
		"no child":    "facility=" + rf.ahorn.String() + "&birth_date=2024-01-01",
		"old profile": "facility=" + rf.tp.String(),
	} {
		r := br.get(t, "/applications/new?"+q)
		if r.status != 200 || !strings.Contains(r.body, `id="shortlist"`) {
			t.Errorf("%s: %d %.300s", name, r.status, r.body)
		}
	}
	// The profile's "request a place here" still lands in the right list.
	if r := br.get(t, "/applications/new?facility="+rf.tp.String()); hiddenChoices(shortlistOf(t, r.body)) != "5="+rf.tp.String() {
		t.Errorf("the profile's facility: %s", hiddenChoices(shortlistOf(t, r.body)))
	}
	if r := br.get(t, "/applications/new?"+many.Encode()); !strings.Contains(r.body, "61 Angaben zu Einrichtungen") {
		t.Errorf("the ids left out are not counted")
	}
	// Without a search the list is empty and the plain selects remain.
	if r := br.get(t, "/applications/new"); !contains(r.body, "Noch keine Einrichtung gewählt", `name="choice.0"`, `name="choice.4"`, `name="choice.5"`) {
		t.Errorf("the empty form lacks its selects")
	}
	// Another city's facility posted as a choice reaches the rules: refused, its rank named.
	posted := url.Values{"child_id": {rf.child}, "start_date": {"2027-08-01"}, "care_hours": {"45"},
		"choice.0": {rf.ahorn.String()}, "choice.1": {rf.foreign.String()}, "choice.2": {"nope"}}
	r := rf.post(t, posted, "action", "submit")
	if r.status != 422 || !contains(r.body, "Der 2. Wunsch ist keine Einrichtung dieser Stadt", `href="#f-choices.1"`) {
		t.Errorf("foreign choice: %d %.1500s", r.status, r.body)
	}
	if hiddenChoices(shortlistOf(t, r.body)) != "0="+rf.ahorn.String() {
		t.Errorf("the form drawn again keeps only this city's facility: %s", hiddenChoices(shortlistOf(t, r.body)))
	}
	if n := rf.b.count(t, `SELECT count(*) FROM application WHERE tenant_id = ?`, rf.bo.ID); n != 0 {
		t.Errorf("%d requests saved", n)
	}
	// A button without a token changes nothing either.
	if r := br.post(t, "/applications", map[string]string{"move": "up:" + rf.ahorn.String()}, ""); r.status != 403 {
		t.Errorf("move without token: %d", r.status)
	}

	// In English.
	br.get(t, "/language?lang=en&next=/applications")
	r = br.get(t, rf.newURL(url.Values{"facility": {rf.ahorn.String(), rf.kindergarten.String(), "nope"}}))
	if list := shortlistOf(t, r.body); !contains(list, "Choice 1", "from your address", "Not possible for your child at this start",
		"does not care for children of this age (Under 3)", "move up", "One of the facilities given is no facility of this city") {
		t.Errorf("English:\n%s", list)
	}
}

// The results and the Merkliste send the ticked facilities with the child of the search
// to the request form.
func TestResultsAndMerklisteCarryTheChoiceToTheRequestForm(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "bochum")
	br := b.browser("bochum.localhost")
	r := br.get(t, "/?birth_date=2025-03-14&start_date=2027-08-01&care_hours=35&address=44787")
	if r.status != 200 {
		t.Fatalf("results: %d", r.status)
	}
	ids := regexp.MustCompile(`<input type="checkbox" name="facility" form="request-picks" value="([0-9a-f-]{36})"> Vormerken<span class="visually-hidden">: `).
		FindAllStringSubmatch(r.body, -1)
	if len(ids) != 20 {
		t.Fatalf("%d facilities to tick on the first page", len(ids))
	}
	form := between(r.body, `id="request-picks"`, "</form>")
	if !contains(form, `action="/applications/new"`, `method="get"`, `name="birth_date" value="2025-03-14"`, `name="start_date" value="2027-08-01"`,
		`name="care_hours" value="35"`, `name="lat" value="51.`, `name="lon" value="7.`, "Für diese Einrichtungen vormerken") {
		t.Errorf("the results' request form:\n%s", form)
	}
	// Signed out, the request form asks to sign in and comes back with everything.
	q := "facility=" + ids[2][1] + "&facility=" + ids[0][1] + "&birth_date=2025-03-14&start_date=2027-08-01&care_hours=35"
	if r := br.get(t, "/applications/new?"+q); r.status != 303 || !strings.Contains(r.header.Get("Location"), url.QueryEscape("/applications/new?"+q)) {
		t.Errorf("signed out: %d %q", r.status, r.header.Get("Location"))
	}

	// The Merkliste ticks every saved facility and carries the child of its comparison.
	for _, id := range []string{ids[0][1], ids[1][1]} {
		br.post(t, "/favourites", map[string]string{"id": id, "action": "add", "next": "/"}, "")
	}
	r = br.get(t, "/favourites?birth_date=2025-03-14&start_date=2027-08-01&care_hours=35")
	fav := between(r.body, `id="favourites-request"`, "</form>")
	if r.status != 200 || strings.Count(r.body, `form="favourites-request" checked`) != 2 ||
		!contains(fav, `name="birth_date" value="2025-03-14"`, `name="start_date" value="2027-08-01"`, `name="care_hours" value="35"`, "Für diese Einrichtungen vormerken") {
		t.Errorf("the Merkliste's request form: %d\n%s", r.status, fav)
	}
}

// requestFlow is a Bochum family with a Krippe child (born 2025-10-01, start
// 2027-08-01) signed in through the forms, and facilities that do and do not fit.
type requestFlow struct {
	b                                           *bundle
	br                                          *browser
	bo                                          tenantRef
	child                                       string
	ahorn, birke, kindergarten, short, tp, fits uuid.UUID
	foreign                                     uuid.UUID
}

type tenantRef struct{ ID uuid.UUID }

func setupRequestFlow(t *testing.T) *requestFlow {
	t.Helper()
	b := setupApplications(t)
	bo := b.tenant(t, "bochum")
	b.place(t, bo, "44787", "bochum")
	rf := &requestFlow{b: b, bo: tenantRef{bo.ID}}
	rf.ahorn = b.facility(t, bo, "Kita Ahorn", "kita", "bochum", "", "krippe", "kindergarten")
	rf.birke = b.facility(t, bo, "Kita Birke", "kita", "bochum", "", "krippe")
	rf.fits = b.facility(t, bo, "Kita Linde", "kita", "bochum", "", "krippe")
	rf.kindergarten = b.facility(t, bo, "Kindergarten Eiche", "kindergarten", "bochum", "", "kindergarten")
	rf.short = b.facility(t, bo, "Kita Kurz", "kita", "bochum", "", "krippe")
	rf.tp = b.facility(t, bo, "Tagespflege Wiesenweg", "tagespflege", "bochum", "mitte", "krippe")
	b.exec(`UPDATE facility_group SET care_hours = 25 WHERE tenant_id = ? AND facility_id = ?`, bo.ID, rf.short)
	b.exec(`UPDATE facility SET lat = 51.01 WHERE tenant_id = ? AND id = ?`, bo.ID, rf.birke) // 1,1 km north of the postcode's centre
	b.exec(`INSERT INTO availability (tenant_id, facility_id, age_band, care_hours, month, capacity, free) VALUES (?, ?, 'krippe', 45, '2027-08-01', 10, 2)`,
		bo.ID, rf.ahorn)
	h := b.tenant(t, "herzberg")
	rf.foreign = b.facility(t, h, "Kita Elsteraue", "kita", "herzberg", "", "krippe")
	f := b.family(t, "bochum", "pia@bochum.test", "44787", "2025-10-01")
	rf.child = f.child
	rf.br = b.browser("bochum.localhost")
	rf.br.parentLogin(t, "pia@bochum.test")
	return rf
}

// newURL is the request form as the results link it, for the family's child.
func (rf *requestFlow) newURL(v url.Values) string {
	v.Set("birth_date", "2025-10-01")
	v.Set("start_date", "2027-08-01")
	v.Set("care_hours", "45")
	return "/applications/new?" + v.Encode()
}

// post sends the request form with fields and one button (name=value), with the token of
// the form page.
func (rf *requestFlow) post(t *testing.T, fields url.Values, button, value string) response {
	t.Helper()
	page := rf.br.get(t, "/applications/new")
	m := csrfField.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no CSRF token on the request form (%d)", page.status)
	}
	v := cloneValues(fields)
	v.Set(button, value)
	v.Set("_csrf", m[1])
	return rf.br.do(t, "POST", "/applications", strings.NewReader(v.Encode()), "Content-Type", "application/x-www-form-urlencoded")
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// shortlistOf is the list part of the request form.
func shortlistOf(t *testing.T, body string) string {
	t.Helper()
	return between(body, `id="shortlist"`, `class="actions shortlist-refresh"`)
}

// between is the part of s from the first from to the next to after it ("" without from).
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

var hiddenChoice = regexp.MustCompile(`<input type="hidden" name="choice\.(\d+)" value="([^"]+)">`)

// hiddenChoices are the list's posted choices as "field=id", in page order.
func hiddenChoices(list string) string {
	var out []string
	for _, m := range hiddenChoice.FindAllStringSubmatch(list, -1) {
		out = append(out, m[1]+"="+m[2])
	}
	return strings.Join(out, " ")
}
