package search

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/tenant"
)

// Form is what the search form shows: the values as the parent entered them, the problems
// with them, and the choices the city offers. The home page and the result page render
// the same form.
type Form struct {
	values url.Values
	Errors []FieldError

	CareScopes    []int
	Radii         []string
	Types         []string
	Kinds         []string
	Concepts      []string
	OpensBy       []string
	ClosesAfter   []string
	DefaultRadius string
}

// FieldError is one problem, in the visitor's language, with the form field it belongs to.
type FieldError struct {
	Field   string // id of the input
	Message string
}

// NewForm is the form of tenant t filled with v (nil: empty).
func NewForm(r *tenant.Rules, v url.Values) *Form {
	if v == nil {
		v = url.Values{}
	}
	f := &Form{
		values: v, CareScopes: r.CareScopes, Types: Types, Concepts: Concepts,
		Kinds:       []string{"municipal", "church", "welfare", "parents_initiative", "company", "private"},
		OpensBy:     []string{"06:00", "06:30", "07:00", "07:30", "08:00"},
		ClosesAfter: []string{"14:00", "15:00", "16:00", "16:30", "17:00", "17:30", "18:00"},
	}
	def := strconv.FormatFloat(r.Map.DefaultRadiusKm, 'f', -1, 64)
	f.DefaultRadius = def
	radii := []string{"1", "2", "3", "5", "10", "20", "50"}
	if !slices.Contains(radii, def) {
		radii = append(radii, def)
		slices.SortFunc(radii, func(a, b string) int {
			x, _ := strconv.ParseFloat(a, 64)
			y, _ := strconv.ParseFloat(b, 64)
			return int((x - y) * 100)
		})
	}
	f.Radii = radii
	return f
}

// Value is the entered value of a field (the first, for repeated ones).
func (f *Form) Value(name string) string { return f.values.Get(name) }

// Radius is the selected radius: the entered one or the city's default.
func (f *Form) Radius() string {
	if r := strings.Replace(f.values.Get(ParamRadius), ",", ".", 1); r != "" {
		if km, err := strconv.ParseFloat(r, 64); err == nil {
			return strconv.FormatFloat(km, 'f', -1, 64)
		}
	}
	return f.DefaultRadius
}

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
	for _, n := range []string{ParamType, ParamProviderKind, ParamConcept, ParamOpensBy, ParamClosesAfter, ParamBarrierFree, ParamLunch} {
		if strings.TrimSpace(f.values.Get(n)) != "" {
			return true
		}
	}
	for _, e := range f.Errors {
		if e.Field == ParamType || e.Field == ParamProviderKind || e.Field == ParamConcept || e.Field == ParamOpensBy || e.Field == ParamClosesAfter {
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
		ParamProviderKind, ParamConcept, ParamOpensBy, ParamClosesAfter, ParamCareHours, ParamBarrierFree,
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
