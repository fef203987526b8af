package server_test

import (
	"strings"
	"testing"
)

// The start page says what happens after a request the way each city does it, and
// nothing the portal does not do: who offers, whether parents reserve, whether the
// signed papers go to the facility.
func TestHomePagePromisesOnlyWhatTheCityDoes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	const (
		pdf      = "steht der Betreuungsvertrag mit seinen Anlagen im Portal als PDF bereit"
		onSite   = "Den unterschriebenen Vertrag und die Anlagen bringen Sie zum ersten Termin in die Einrichtung mit."
		reserve  = "Einen als frei angezeigten Platz können Sie selbst reservieren"
		confirms = "Die Stadt bestätigt jede Zusage einer Einrichtung"
	)
	for _, tc := range []struct {
		slug    string
		want    []string
		notWant []string
	}{
		{"herzberg", []string{pdf, onSite, confirms, "Sagt Ihnen eine Einrichtung einen Platz zu"}, []string{reserve}},
		{"leipzig", []string{pdf, reserve + "; die Einrichtung bestätigt ihn innerhalb von 5 Tagen.", "Sagt Ihnen eine Einrichtung einen Platz zu"}, []string{onSite, confirms}},
		{"kempten", []string{pdf, "Platzangebote erhalten Sie einzeln per E-Mail"}, []string{onSite, reserve, confirms}},
		{"bochum", []string{pdf, "Nach der zentralen Vergabe erhalten Sie höchstens ein verbindliches Angebot"}, []string{onSite, reserve, confirms}},
		{"lueneburg", []string{pdf, "Sagt die Einrichtung zu, bei der Ihr Wunsch gerade liegt"}, []string{onSite, reserve, confirms}},
	} {
		r := b.get(t, tc.slug+".localhost", "/")
		mustContain(t, r, tc.want...)
		for _, s := range append(tc.notWant, "elektronisch", "home.steps") {
			if strings.Contains(r.body, s) {
				t.Errorf("%s promises %q", tc.slug, s)
			}
		}
	}
	en := b.get(t, "herzberg.localhost", "/", "Accept-Language", "en")
	mustContain(t, en, "Bring the signed contract and attachments to the first appointment at the facility.", "The city confirms every offer")

	// No text promises a step nobody takes: proofs are not requested by the portal, and
	// nobody is told to call a family whose cascade ran out.
	cat := b.deps.Views.Catalogue()
	for _, lang := range []string{"de", "en"} {
		for key, never := range map[string]string{
			"application.criteria.hint":      map[string]string{"de": "werden vor einer Zusage angefordert", "en": "is asked for before"}[lang],
			"mail.offer.forwarded_none.text": map[string]string{"de": "meldet sich bei Ihnen", "en": "will contact you"}[lang],
		} {
			if text := cat.T(lang, key, nil); strings.Contains(text, never) {
				t.Errorf("%s %s still says %q: %s", lang, key, never, text)
			}
		}
	}
}
