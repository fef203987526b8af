// Package care is the vocabulary of childcare every domain shares: the kinds of
// facilities and providers, the pedagogical concepts, a facility's address and opening
// hours, and the names of the city's age bands.
package care

import (
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// Facility types and provider kinds are those of the schema; concepts are the keys
// facilities may name (and families filter by).
var (
	Types         = []string{"krippe", "kindergarten", "kita", "hort", "tagespflege", "grosstagespflege"}
	ProviderKinds = []string{"municipal", "church", "welfare", "parents_initiative", "company", "private", "childminder"}
	Concepts      = []string{
		"situationsansatz", "montessori", "waldorf", "reggio", "waldkindergarten", "bilingual",
		"inklusion", "kneipp", "bewegung", "naturpaedagogik", "offene_arbeit", "religionspaedagogik",
	}
)

// IsTagespflege tells the Kindertagespflege kinds, which some cities let families choose
// on top of their Kita choices and which are not bound to the municipality.
func IsTagespflege(facilityType string) bool {
	return facilityType == "tagespflege" || facilityType == "grosstagespflege"
}

// Address is where the facility is.
type Address struct {
	Street      string `json:"street"`
	HouseNumber string `json:"house_number"`
	PLZ         string `json:"plz"`
	City        string `json:"city"`
}

// BandLabel is the name of an age band in lang, as the city's rules call it.
func BandLabel(r *tenant.Rules, key, lang string) string {
	if b, ok := r.AgeBand(key); ok {
		return b.Label.In(lang)
	}
	return key
}

// ParseStart reads a desired start of care as a form or API sends it; "" stays the zero
// date (the rules of the request name what is missing).
func ParseStart(s string) (date.Date, error) {
	if s == "" {
		return date.Date{}, nil
	}
	d, err := date.Parse(s)
	if err != nil {
		return date.Date{}, apperr.Invalid("start_date", "date_invalid", nil)
	}
	return d, nil
}
