package notify_test

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"

	"kitaportal/internal/notify"
	"kitaportal/internal/platform/i18n"
	"kitaportal/web"
)

var textKey = regexp.MustCompile(`\b(mail|role|account)\.[a-z_]+\.[a-z_.]+`)

// Every mail renders in every language, with the city's brand, its link, and no text
// key left untranslated.
func TestEveryMailRendersInEveryLanguage(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := notify.NewTemplates(web.FS, cat)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(web.FS, "templates/mail/*.txt")
	brand := notify.Brand{Name: "Kinderbetreuung Kempten", City: "Stadt Kempten (Allgäu)", Color: "#004b87", URL: "http://kempten.localhost",
		ContactName: "Amt für Kindertagesbetreuung", ContactEmail: "kita@kempten.example",
		ImprintURL: "https://www.kempten.de/impressum", PrivacyURL: "https://www.kempten.de/datenschutz"}
	legal := map[string][2]string{"de": {"Impressum", "Datenschutz"}, "en": {"Legal notice", "Privacy"}}
	kinds := 0
	for _, f := range files {
		kind := strings.TrimSuffix(path.Base(f), ".txt")
		if kind == "layout" {
			continue
		}
		kinds++
		for _, lang := range cat.Languages() {
			var data any = notify.MailData{
				Name: "Mia Müller", URL: "http://kempten.localhost/verify?token=abc<&>", Hours: 48, Inviter: "Anna Admin", Role: "Kita-Leitung", Kept: true}
			if kind == "notice" { // the shared template of mails whose words come ready-made
				data = notify.Notice{Subject: "Ihre Vormerkung bei Kinderbetreuung Kempten", Name: "Mia Müller",
					Lines: []string{"Ihre Vormerkung <b>ist</b> eingegangen."}, Facts: []notify.Fact{{Label: "Aktenzeichen", Value: "KEM-2026-000001"}},
					URL: "http://kempten.localhost/verify?token=abc<&>", Action: "Öffnen"}
			}
			m, err := tpl.Render(notify.Mail{Kind: kind, Lang: lang, To: "eltern@example.org", Brand: brand, Data: data})
			if err != nil {
				t.Fatalf("%s/%s: %v", kind, lang, err)
			}
			if m.Subject == "" || strings.Contains(m.Subject, "\n") || !strings.Contains(m.Subject, "Kinderbetreuung Kempten") {
				t.Errorf("%s/%s: subject %q", kind, lang, m.Subject)
			}
			for _, body := range []string{m.Text, m.HTML} {
				if textKey.MatchString(body) || strings.Contains(body, "ZgotmplZ") || !strings.Contains(body, "Mia Müller") {
					t.Errorf("%s/%s: untranslated key, unsafe value or missing name:\n%s", kind, lang, body)
				}
			}
			if !strings.Contains(m.HTML, "background:#004b87") || strings.Contains(m.HTML, "token=abc<&>") || strings.Contains(m.HTML, "<b>ist</b>") {
				t.Errorf("%s/%s: brand colour missing or link not escaped", kind, lang)
			}
			// Every mail's footer links the city's imprint and privacy notice, labelled in
			// the mail's language.
			if words, ok := legal[lang]; ok {
				if !strings.Contains(m.HTML, `<a href="https://www.kempten.de/impressum" style="color:#55606e">`+words[0]+`</a>`) ||
					!strings.Contains(m.HTML, `<a href="https://www.kempten.de/datenschutz" style="color:#55606e">`+words[1]+`</a>`) ||
					!strings.Contains(m.Text, words[0]+": https://www.kempten.de/impressum") || !strings.Contains(m.Text, words[1]+": https://www.kempten.de/datenschutz") {
					t.Errorf("%s/%s: footer lacks imprint or privacy link:\n%s", kind, lang, m.Text)
				}
			}
			if m.Lang != lang || m.To != "eltern@example.org" {
				t.Errorf("%s/%s: %q %q", kind, lang, m.Lang, m.To)
			}
		}
	}
	if kinds < 8 {
		t.Errorf("only %d mail kinds", kinds)
	}
	if _, err := tpl.Render(notify.Mail{Kind: "no_such_mail", Lang: "de"}); err == nil {
		t.Error("unknown mail kind rendered")
	}
}
