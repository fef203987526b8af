package search

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/i18n"
	"kitaportal/web"
)

// The form is written in Go, so the template test does not see its texts: every label it
// shows, in every language, must come from the catalogue and not be a bare key.
func TestFormHasEveryTextInEveryLanguage(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	v, _ := url.ParseQuery("birth_date=2025-03-14&type=kita&concept=<b>x</b>&address=%22><script>")
	bareKey := regexp.MustCompile(`>\s*(search|error|status)\.[a-z_.]+\s*<`)
	for _, lang := range cat.Languages() {
		w := NewWords(cat, lang)
		f := NewForm(rulesOf(t, "kempten"), v, w)
		f.Invalid(cat, lang, apperr.List{apperr.Invalid(ParamStartDate, "required", nil), apperr.Invalid(ParamType, "invalid_choice", map[string]any{"allowed": "a"})})
		html := string(f.HTML())
		if m := bareKey.FindString(html); m != "" {
			t.Errorf("%s: untranslated %s", lang, m)
		}
		for _, want := range []string{`id="birth_date"`, `value="2025-03-14"`, `name="type" value="kita" checked`, `<a href="#start_date">`,
			`aria-invalid="true"`, `<details class="filters" open>`, `name="age_fit_only" value="1">`, `&#34;&gt;&lt;script&gt;`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s: form lacks %s", lang, want)
			}
		}
		if strings.Contains(html, "<script>") {
			t.Errorf("%s: a value was not escaped", lang)
		}
	}
}

func TestRenderItemsEscapesEveryValue(t *testing.T) {
	t.Parallel()
	out := string(renderItems([]ItemView{{
		ID: "1", Name: `Kita "<script>alert(1)</script>"`, Availability: "free", AgeFit: true, URL: "/facilities/1?a=1&b=2",
		TypeLabel: "Kita", Provider: "AWO & Co", Address: "Weg 1", Fit: "ok", Hours: "Mo–Fr 07:00–16:00",
		Concepts: []string{"<b>"}, HouseURL: "/static/img/house-free.svg", StatusText: "frei", FavLabel: "Merken",
	}}, "/?x=<y>", `tok"en`, "Öffnungszeiten", "Konzept"))
	for _, bad := range []string{"<script>", "<b>", "<y>", "a=1&b"} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped %q in %s", bad, out)
		}
	}
	for _, want := range []string{`&#34;&lt;script&gt;`, `href="/facilities/1?a=1&amp;b=2"`, `name="_csrf" value="tok&#34;en"`, "AWO &amp; Co", `class="age fit"`, `value="add"`, `aria-pressed="false"`} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %s", want)
		}
	}
}

// The form offers the city's named providers grouped by kind, "any" first; the chosen
// one stays selected, several make the select multiple, and names are escaped.
func TestFormOffersTheNamedProviders(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	awo, city, parents := uuid.MustParse(uuidN(1)), uuid.MustParse(uuidN(2)), uuid.MustParse(uuidN(3))
	list := []ProviderChoice{
		{ID: awo, Name: "AWO Kinderbetreuung gGmbH", Kind: "welfare", Facilities: 3},
		{ID: parents, Name: `Elterninitiative "<Zwerge>"`, Kind: "parents_initiative", Facilities: 1},
		{ID: city, Name: "Stadt Herzberg – Kitas", Kind: "municipal", Facilities: 4},
	}
	v, _ := url.ParseQuery("birth_date=2025-03-14&provider=" + awo.String())
	html := string(NewForm(rulesOf(t, "herzberg"), v, NewWords(cat, "de")).WithProviders(list).HTML())
	for _, want := range []string{
		`<details class="filters" open>`,
		`<label for="provider">Nur Einrichtungen dieses Trägers</label>`,
		`<select id="provider" name="provider"><option value="">Alle Träger</option><optgroup label="städtisch">`,
		`<option value="` + city.String() + `">Stadt Herzberg – Kitas</option></optgroup>`,
		`<option value="` + awo.String() + `" selected>AWO Kinderbetreuung gGmbH</option>`,
		`Elterninitiative &#34;&lt;Zwerge&gt;&#34;`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	if strings.Contains(html, "<Zwerge>") || strings.Contains(html, " multiple") {
		t.Error("a name was not escaped, or one choice made the select multiple")
	}
	// Several chosen (an API-style link), one not in the list: none is lost.
	v, _ = url.ParseQuery("birth_date=2025-03-14&provider=" + awo.String() + "," + uuidN(9))
	html = string(NewForm(rulesOf(t, "herzberg"), v, NewWords(cat, "en")).WithProviders(list).HTML())
	for _, want := range []string{`<select id="provider" name="provider" multiple>`, `<option value="">Any provider</option>`,
		`<option value="` + awo.String() + `" selected>`, `<option value="` + uuidN(9) + `" selected>`} {
		if !strings.Contains(html, want) {
			t.Errorf("en form lacks %s", want)
		}
	}
	// Without a list (the database could not be read) there is no select.
	if html := string(NewForm(rulesOf(t, "herzberg"), nil, NewWords(cat, "de")).WithProviders(nil).HTML()); strings.Contains(html, `id="provider"`) {
		t.Error("a provider select without providers")
	}
}
