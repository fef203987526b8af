package search

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/tenant"
)

// Form is what the search form shows: the values as the parent entered them, the problems
// with them, and the choices the city offers, labelled in the visitor's language. The
// home page and the result page render the same form. Labels are looked up here, not in
// the template: a template call per option costs more than the whole search.
type Form struct {
	values url.Values
	words  Words
	Errors []FieldError

	Radii, CareHours, OpensBy, ClosesAfter []Option // selects: On is selected
	Types, Kinds, Concepts                 []Option // checkboxes: On is ticked
	// Providers is the select of the city's named providers, grouped by kind (Group);
	// empty until WithProviders fills it.
	Providers []Option
}

// Option is one choice of a select or checkbox group.
type Option struct {
	Value, Label string
	On           bool
	Group        string // the optgroup's label, for grouped selects
}

// FieldError is one problem, in the visitor's language, with the form field it belongs to.
type FieldError struct {
	Field   string // id of the input
	Message string
}

// Kinds of provider the form offers (childminders are found by type).
var formKinds = []string{"municipal", "church", "welfare", "parents_initiative", "company", "private"}

// NewForm is the form of a city with rules r, filled with v (nil: empty), in w's language.
func NewForm(r *tenant.Rules, v url.Values, w Words) *Form {
	if v == nil {
		v = url.Values{}
	}
	f := &Form{values: v, words: w}
	radius := strconv.FormatFloat(r.Map.DefaultRadiusKm, 'f', -1, 64)
	if s := strings.Replace(v.Get(ParamRadius), ",", ".", 1); s != "" {
		if km, err := strconv.ParseFloat(s, 64); err == nil {
			radius = strconv.FormatFloat(km, 'f', -1, 64)
		}
	}
	radii := []float64{1, 2, 3, 5, 10, 20, 50}
	if !slices.Contains(radii, r.Map.DefaultRadiusKm) {
		radii = append(radii, r.Map.DefaultRadiusKm)
		slices.Sort(radii)
	}
	for _, km := range radii {
		s := strconv.FormatFloat(km, 'f', -1, 64)
		f.Radii = append(f.Radii, Option{Value: s, Label: w.Km(km), On: s == radius})
	}
	hours := v.Get(ParamCareHours)
	f.CareHours = append(f.CareHours, Option{Value: "", Label: w.T("search.form.care_hours.any", nil), On: hours == ""})
	for _, h := range r.CareScopes {
		s := strconv.Itoa(h)
		f.CareHours = append(f.CareHours, Option{Value: s, Label: w.T("search.form.care_hours.value", map[string]any{"hours": h}), On: s == hours})
	}
	times := func(name string, values []string) []Option {
		chosen := v.Get(name)
		out := []Option{{Value: "", Label: w.T("search.form.time.any", nil), On: chosen == ""}}
		for _, t := range values {
			out = append(out, Option{Value: t, Label: w.T("search.form.time", map[string]any{"time": t}), On: t == chosen})
		}
		return out
	}
	f.OpensBy = times(ParamOpensBy, []string{"06:00", "06:30", "07:00", "07:30", "08:00"})
	f.ClosesAfter = times(ParamClosesAfter, []string{"14:00", "15:00", "16:00", "16:30", "17:00", "17:30", "18:00"})
	checks := func(name, prefix string, values []string) []Option {
		out := make([]Option, len(values))
		for i, x := range values {
			out[i] = Option{Value: x, Label: w.T(prefix+x, nil), On: f.Has(name, x)}
		}
		return out
	}
	f.Types = checks(ParamType, "search.type.", care.Types)
	f.Kinds = checks(ParamProviderKind, "search.provider.", formKinds)
	f.Concepts = checks(ParamConcept, "search.concept.", care.Concepts)
	return f
}

// WithProviders offers the named providers list (Service.Providers) in the form: a
// select grouped by kind, "any provider" first. An entered id the list does not hold
// stays selected, so a resubmitted form keeps the search it came from.
func (f *Form) WithProviders(list []ProviderChoice) *Form {
	if len(list) == 0 {
		return f
	}
	chosen := map[string]bool{}
	for _, raw := range f.values[ParamProvider] {
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				chosen[s] = true
			}
		}
	}
	f.Providers = append(f.Providers[:0], Option{Value: "", Label: f.words.T("search.form.provider.any", nil), On: len(chosen) == 0})
	for _, kind := range care.ProviderKinds {
		group := f.words.T("search.provider."+kind, nil)
		for _, p := range list {
			if p.Kind == kind {
				id := p.ID.String()
				f.Providers = append(f.Providers, Option{Value: id, Label: p.Name, On: chosen[id], Group: group})
				delete(chosen, id)
			}
		}
	}
	rest := make([]string, 0, len(chosen))
	for id := range chosen {
		rest = append(rest, id)
	}
	slices.Sort(rest)
	for _, id := range rest { // not in the list (unknown, or a childminder): keep it
		f.Providers = append(f.Providers, Option{Value: id, Label: id, On: true})
	}
	return f
}

// Value is the entered value of a field (the first, for repeated ones).
func (f *Form) Value(name string) string { return f.values.Get(name) }

// Place is the address field: what was typed there, or the PLZ an API-style link gave.
func (f *Form) Place() string {
	if a := f.values.Get(ParamAddress); a != "" {
		return a
	}
	return f.values.Get(ParamPLZ)
}

// Has tells whether a repeatable field holds value (checkboxes).
func (f *Form) Has(name, value string) bool {
	for _, raw := range f.values[name] {
		for _, s := range strings.Split(raw, ",") {
			if strings.TrimSpace(s) == value {
				return true
			}
		}
	}
	return false
}

// On tells whether a yes/no field is ticked. The empty form ticks age_fit_only: parents
// rarely want places for another age.
func (f *Form) On(name string) bool {
	if len(f.values) == 0 {
		return name == ParamAgeFitOnly
	}
	on, _ := boolean(f.values, name)
	return on
}

// Filtered tells whether any of the further filters is set, so they start unfolded.
func (f *Form) Filtered() bool {
	for _, n := range []string{ParamType, ParamProviderKind, ParamProvider, ParamConcept, ParamOpensBy, ParamClosesAfter, ParamBarrierFree, ParamLunch} {
		if strings.TrimSpace(f.values.Get(n)) != "" {
			return true
		}
	}
	for _, e := range f.Errors {
		if e.Field == ParamType || e.Field == ParamProviderKind || e.Field == ParamProvider || e.Field == ParamConcept || e.Field == ParamOpensBy || e.Field == ParamClosesAfter {
			return true
		}
	}
	return false
}

// Error is the message for a field, if it has one.
func (f *Form) Error(field string) string {
	for _, e := range f.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// Invalid marks the form's fields with the problems of err in lang. Fields the form does
// not show (plz, lat, lon) point at the address field.
func (f *Form) Invalid(cat *i18n.Catalogue, lang string, err error) {
	var list apperr.List
	if e, ok := err.(apperr.List); ok {
		list = e
	} else if e, ok := apperr.As(err); ok {
		list = apperr.List{e}
	}
	for _, e := range list {
		field := e.Field
		switch field {
		case ParamPLZ, ParamLat, ParamLon:
			field = ParamAddress
		case ParamPage, ParamPerPage:
			field = "results"
		}
		f.Errors = append(f.Errors, FieldError{Field: field, Message: Message(cat, lang, e)})
	}
}

// Message is the text of a classified error in lang, as the error handler writes it.
func Message(cat *i18n.Catalogue, lang string, e *apperr.Error) string {
	key := "error." + e.Code
	if !cat.Has(i18n.Default, key) {
		key = "error.kind.422"
	}
	return cat.T(lang, key, e.Args)
}

// Asked tells whether a request carries a search (any search parameter with a value).
func Asked(c *fiber.Ctx) bool {
	asked := false
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if len(v) > 0 && isParam(string(k)) {
			asked = true
		}
	})
	return asked
}

func isParam(name string) bool {
	switch name {
	case ParamBirthDate, ParamStartDate, ParamPLZ, ParamAddress, ParamLat, ParamLon, ParamRadius, ParamType,
		ParamProviderKind, ParamProvider, ParamConcept, ParamOpensBy, ParamClosesAfter, ParamCareHours, ParamBarrierFree,
		ParamLunch, ParamAvailableOnly, ParamAgeFitOnly, ParamPage, ParamPerPage:
		return true
	}
	return false
}

// Values returns the request's query parameters.
func Values(c *fiber.Ctx) url.Values {
	v := url.Values{}
	c.Context().QueryArgs().VisitAll(func(k, val []byte) {
		v.Add(string(k), string(val))
	})
	return v
}
