package view

import (
	"io/fs"
	"regexp"
	"testing"

	"kitaportal/internal/platform/i18n"
	"kitaportal/web"
)

func TestNum(t *testing.T) {
	t.Parallel()
	cases := []struct {
		lang string
		n    int
		want string
	}{
		{"de", 0, "0"}, {"de", 999, "999"}, {"de", 1000, "1.000"}, {"de", 11435, "11.435"},
		{"de", 1234567, "1.234.567"}, {"en", 11435, "11,435"}, {"de", -4200, "-4.200"},
	}
	for _, c := range cases {
		if got := (&Page{Lang: c.lang}).Num(c.n); got != c.want {
			t.Errorf("Num(%s, %d) = %q, want %q", c.lang, c.n, got, c.want)
		}
	}
}

func TestEveryTextInTheTemplatesExistsInEveryLanguage(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(web.FS, cat); err != nil {
		t.Fatalf("templates do not parse: %v", err)
	}
	key := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	pages, _ := fs.Glob(web.FS, "templates/*/*.html")
	texts, _ := fs.Glob(web.FS, "templates/*/*.txt") // mails
	pages = append(pages, texts...)
	pages = append(pages, "templates/layout.html")
	found := 0
	for _, p := range pages {
		raw, _ := fs.ReadFile(web.FS, p)
		for _, m := range key.FindAllStringSubmatch(string(raw), -1) {
			found++
			for _, lang := range cat.Languages() {
				if !cat.Has(lang, m[1]) {
					t.Errorf("%s: %q has no %s text", p, m[1], lang)
				}
			}
		}
	}
	if found < 20 {
		t.Fatalf("found only %d texts; is the pattern still right?", found)
	}
}
