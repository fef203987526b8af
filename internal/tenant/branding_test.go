package tenant_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"kitaportal/internal/tenant"
)

func TestContrastRatioFollowsWCAG(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#777777", "#ffffff", 4.48}, // the classic "just fails AA" grey
		{"#767676", "#FFFFFF", 4.54}, // the lightest grey that passes
		{"#1f4e79", "#ffffff", 8.66},
	} {
		got, ok := tenant.ContrastRatio(tc.a, tc.b)
		if !ok || math.Abs(got-tc.want) > 0.01 {
			t.Errorf("%s on %s: %.3f, want %.2f", tc.a, tc.b, got, tc.want)
		}
		if back, _ := tenant.ContrastRatio(tc.b, tc.a); back != got {
			t.Errorf("contrast is not symmetric for %s/%s", tc.a, tc.b)
		}
	}
	for _, bad := range []string{"", "#fff", "red", "#gggggg", "#1234567", "1f4e79"} {
		if _, ok := tenant.ContrastRatio(bad, "#ffffff"); ok {
			t.Errorf("%q accepted as a colour", bad)
		}
	}
}

func TestLogoSVGCheck(t *testing.T) {
	t.Parallel()
	good := []string{
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#123456"/></svg>`,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><use href=\"#a\"/></svg>",
	}
	for _, s := range good {
		if _, err := tenant.CheckLogoSVG([]byte(s)); err != nil {
			t.Errorf("refused %q: %v", s, err)
		}
	}
	unsafe := []string{
		`<svg><script>alert(1)</script></svg>`,
		`<svg><rect onload="alert(1)"/></svg>`,
		`<svg><a href="javascript:alert(1)"><text>x</text></a></svg>`,
		`<svg><image xlink:href="https://evil.example/x.png"/></svg>`,
		`<svg><image href = ' //evil.example/x.png'/></svg>`,
		`<svg><rect style="fill:url( 'https://evil.example/x')"/></svg>`,
		`<svg><foreignObject><iframe src="/"/></foreignObject></svg>`,
		`<svg><style>@import "https://evil.example/a.css";</style></svg>`,
		"<!DOCTYPE svg [<!ENTITY x \"y\">]><svg>&x;</svg>",
	}
	for _, s := range unsafe {
		_, err := tenant.CheckLogoSVG([]byte(s))
		if err == nil || (!errors.Is(err, tenant.ErrLogoUnsafe) && !errors.Is(err, tenant.ErrLogoNotSVG)) {
			t.Errorf("accepted or wrong error for %q: %v", s, err)
		}
	}
	for _, s := range []string{"", "<html></html>", "\x89PNG\r\n\x1a\n", "<svg>\xff</svg>", "<svg>" + strings.Repeat(" ", tenant.MaxLogoBytes) + "</svg>"} {
		if _, err := tenant.CheckLogoSVG([]byte(s)); err == nil {
			t.Errorf("accepted %.20q", s)
		}
	}
}

func TestLegalTextsStandInForTheirURLs(t *testing.T) {
	t.Parallel()
	loaded, err := tenant.LoadDir(tenantsFS(t), "tenants")
	if err != nil {
		t.Fatal(err)
	}
	r := *loaded[0].Rules
	r.Branding.ImprintURL, r.Branding.PrivacyURL = "", ""
	r.Branding.ImprintText = tenant.Text{"de": "Stadt Musterstadt\nRathausplatz 1"}
	r.Branding.PrivacyText = tenant.Text{"de": "  ", "en": ""}
	got := r.LaunchProblems()
	if len(got) != 1 || got[0].Field != "branding.privacy_url" {
		t.Errorf("imprint text only: %v", got)
	}
	r.Branding.PrivacyText = tenant.Text{"de": "Wir verarbeiten …", "en": "We process …"}
	if p := r.LaunchProblems(); len(p) != 0 {
		t.Errorf("both texts: %v", p)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("texts refused: %v", err)
	}
	for _, bad := range []tenant.Text{
		{"en": "only English"},
		{"de": "x", "fr": "y"},
		{"de": strings.Repeat("a", tenant.MaxLegalText+1)},
		{"de": "a\x00b"},
		{"de": "a\u202eb"},
	} {
		r.Branding.ImprintText = bad
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "branding.imprint_text") {
			t.Errorf("%.40v: %v", bad, err)
		}
	}
}
