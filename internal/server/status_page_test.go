package server_test

import (
	"strings"
	"testing"
	"time"

	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
)

// The status page says what happens next from the city's rules (Kempten: offers six
// months ahead, one open offer at a time), what the request's points are made of and
// what decides a tie; in English too, with the choices listed and dates in the reader's
// format.
func TestTheStatusPageSaysWhatHappensNext(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(time.Now().UTC().Truncate(time.Second)))
	k := b.tenant(t, "kempten")
	b.place(t, k, "87435", "kempten")
	start := date.In(b.clock.Now()).FirstOfMonth().AddMonths(10)
	a := b.facility(t, k, "Kita Iller", "kita", "kempten", "", "krippe")
	c := b.facility(t, k, "Kita Hofgarten", "kita", "kempten", "", "krippe")
	f := b.family(t, "kempten", "pia@kempten.test", "87435", start.AddMonths(-14).String())
	body := request(f.child, start.String(), 35, a, c)
	body["criteria"] = map[string]any{"employment": true, "single_parent": true}
	body["declaration"] = true
	app := f.file(t, body)

	br := b.browser("kempten.localhost")
	br.parentLogin(t, "pia@kempten.test")
	page := br.get(t, "/applications/"+app["id"].(string))
	from := start.AddMonths(-k.Rules.Offers.LeadMonths)
	if page.status != 200 || !contains(page.body, "Wie es weitergeht", "frühestens ab dem "+from.Time().Format("02.01.2006"),
		"6 Monate vor dem Beginn", "6 Punkte", "Geburtsdatum → Datum der Vormerkung") {
		t.Errorf("the German status page lacks the outlook: %d", page.status)
	}
	br.get(t, "/language?lang=en&next=/applications")
	en := br.get(t, "/applications/"+app["id"].(string))
	if !contains(en.body, "What happens next", "Kita Iller", "Kita Hofgarten", "date of birth → date of the request", "6 points") {
		t.Errorf("the English status page lacks the outlook or the choices: %d", en.status)
	}
	if strings.Contains(en.body, ">"+start.String()+"<") {
		t.Errorf("the English page shows the start as ISO date")
	}
}
