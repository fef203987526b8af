package i18n

import (
	"strings"
	"testing"

	"kitaportal/web"
)

func TestNegotiate(t *testing.T) {
	t.Parallel()
	supported := []string{"de", "en"}
	cases := map[string]string{
		"":                                 "",
		"en":                               "en",
		"EN-us":                            "en",
		"de-AT,de;q=0.9,en;q=0.8":          "de",
		"fr-FR,fr;q=0.9,en;q=0.5,de;q=0.4": "en",
		"fr":                               "",
		"en;q=0.2, de;q=0.7":               "de",
		"*":                                "",
		"garbage;;;,,,q=":                  "",
	}
	for header, want := range cases {
		if got := Negotiate(header, supported); got != want {
			t.Errorf("Negotiate(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	t.Parallel()
	c, err := Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range c.Languages() {
		for _, other := range c.Languages() {
			for _, k := range c.Keys(lang) {
				if !c.Has(other, k) {
					t.Errorf("%s has %q, %s does not", lang, k, other)
				}
			}
		}
	}
}

func TestPlaceholders(t *testing.T) {
	t.Parallel()
	c := &Catalogue{msgs: map[string]map[string]string{
		"de": {"x": "Bis zu {max} Einrichtungen in {city}", "y": "nur {"},
		"en": {},
	}}
	if got := c.T("de", "x", map[string]any{"max": 3, "city": "Kempten"}); got != "Bis zu 3 Einrichtungen in Kempten" {
		t.Errorf("got %q", got)
	}
	if got := c.T("en", "x", map[string]any{"max": 5}); got != "Bis zu 5 Einrichtungen in {city}" {
		t.Errorf("fallback to German with unknown placeholder kept: %q", got)
	}
	if got := c.T("de", "y", map[string]any{"a": 1}); got != "nur {" {
		t.Errorf("unbalanced brace: %q", got)
	}
	if got := c.T("de", "missing.key", nil); got != "missing.key" {
		t.Errorf("missing key: %q", got)
	}
}

// A count of one takes the singular where the catalogue has one; zero and many the plural.
func TestPluralForms(t *testing.T) {
	t.Parallel()
	c := &Catalogue{msgs: map[string]map[string]string{
		"de": {"fav": "{count} gemerkte Einrichtungen", "fav.one": "1 gemerkte Einrichtung", "rows": "{n} Einträge"},
		"en": {"fav": "{count} saved facilities"},
	}}
	for _, tc := range []struct {
		lang, key string
		args      map[string]any
		want      string
	}{
		{"de", "fav", map[string]any{"count": 1}, "1 gemerkte Einrichtung"},
		{"de", "fav", map[string]any{"count": 0}, "0 gemerkte Einrichtungen"},
		{"de", "fav", map[string]any{"count": 2}, "2 gemerkte Einrichtungen"},
		{"en", "fav", map[string]any{"count": 1}, "1 saved facilities"}, // no English singular: its own plural rather than German
		{"de", "rows", map[string]any{"n": 1}, "1 Einträge"},            // no singular in the catalogue: the plural stays
	} {
		if got := c.T(tc.lang, tc.key, tc.args); got != tc.want {
			t.Errorf("%s %s %v: %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
	// Every singular of the real catalogue belongs to a plural message.
	real, err := Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range real.Keys(Default) {
		if base, ok := strings.CutSuffix(k, ".one"); ok && !real.Has(Default, base) && !real.Has(Default, base+".other") {
			t.Errorf("%s has no plural beside it", k)
		}
	}
}
