package portal

import (
	"testing"

	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/tenant"
	"kitaportal/web"
)

// The home page builds some text keys from rule values; each possible value needs a text.
func TestEveryRuleValueHasAHomePageText(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, m := range []string{tenant.ModeDecentral, tenant.ModeOneOfferLock, tenant.ModeCascade, tenant.ModeDeferredAcceptance} {
		keys = append(keys, "home.rules.allocation."+m)
	}
	for _, r := range []string{tenant.ResidentsOnly, tenant.ResidentsAndTickets, tenant.ResidenceOpen} {
		keys = append(keys, "home.rules.residence."+r)
	}
	for _, k := range keys {
		for _, lang := range cat.Languages() {
			if !cat.Has(lang, k) {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
	}
}
