package provider

import (
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
)

// The rules for what providers may write, pure and table-tested: a profile, a group, a
// period of places, the places of a Kindertagespflege.

// Limits of a profile.
const (
	maxNameLen        = 200
	maxDescriptionLen = 4000
	maxPhoneLen       = 40
	maxWebsiteLen     = 300
	minAgeMonths      = 0
	maxAgeMonths      = 180 // 15 years: Horte end there
	maxPhotos         = 12
	maxAltLen         = 200
)

// ProfileChange is what a provider may change about a facility's public profile.
type ProfileChange struct {
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	Concepts     []string          `json:"concepts"`
	Phone        string            `json:"phone"`
	Email        string            `json:"email"`
	Website      string            `json:"website"`
	OpeningHours care.OpeningHours `json:"opening_hours"`
	Lunch        bool              `json:"lunch"`
	BarrierFree  bool              `json:"barrier_free"`
	AgeMinMonths int               `json:"age_min_months"`
	AgeMaxMonths int               `json:"age_max_months"`
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ()/.-]*$`)

// Normalize trims the texts and sorts the concepts, so equal profiles compare equal.
func (p *ProfileChange) Normalize() {
	p.Name = strings.Join(strings.Fields(p.Name), " ")
	p.Description = strings.TrimSpace(strings.ReplaceAll(p.Description, "\r\n", "\n"))
	p.Phone, p.Email, p.Website = strings.TrimSpace(p.Phone), strings.TrimSpace(p.Email), strings.TrimSpace(p.Website)
	concepts := make([]string, 0, len(p.Concepts))
	for _, c := range p.Concepts {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(concepts, c) {
			concepts = append(concepts, c)
		}
	}
	slices.Sort(concepts)
	p.Concepts = concepts
	if p.OpeningHours == nil {
		p.OpeningHours = care.OpeningHours{}
	}
	for day, intervals := range p.OpeningHours {
		if len(intervals) == 0 {
			delete(p.OpeningHours, day)
		}
	}
}

// Validate reports every problem of a normalized profile at once.
func (p *ProfileChange) Validate() error {
	var errs apperr.List
	add := func(err *apperr.Error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(checkName("name", p.Name, maxNameLen))
	add(checkText("description", p.Description, maxDescriptionLen))
	for _, c := range p.Concepts {
		if !slices.Contains(care.Concepts, c) {
			add(apperr.Invalid("concepts", "invalid_choice", map[string]any{"allowed": strings.Join(care.Concepts, ", ")}))
			break
		}
	}
	if p.Phone != "" && (len(p.Phone) > maxPhoneLen || !phonePattern.MatchString(p.Phone)) {
		add(apperr.Invalid("phone", "provider_phone_invalid", nil))
	}
	if p.Email != "" {
		if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email || len(p.Email) > 254 {
			add(apperr.Invalid("email", "email_invalid", nil))
		}
	}
	if p.Website != "" {
		add(checkWebsite("website", p.Website))
	}
	if err := CheckHours(p.OpeningHours); err != nil {
		errs = append(errs, err.(apperr.List)...)
	}
	add(checkAges(p.AgeMinMonths, p.AgeMaxMonths))
	return errs.Err()
}

// checkName: required, at most max characters, no control characters.
func checkName(field, s string, max int) *apperr.Error {
	if s == "" {
		return apperr.Invalid(field, "required", nil)
	}
	return checkText(field, s, max)
}

// checkText: at most max characters, printable (line breaks allowed).
func checkText(field, s string, max int) *apperr.Error {
	if utf8.RuneCountInString(s) > max {
		return apperr.Invalid(field, "field_too_long", map[string]any{"max": max})
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return apperr.Invalid(field, "text_invalid_characters", nil)
	}
	return nil
}

func checkWebsite(field, s string) *apperr.Error {
	u, err := url.Parse(s)
	if err != nil || len(s) > maxWebsiteLen || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return apperr.Invalid(field, "provider_website_invalid", nil)
	}
	return nil
}

func checkAges(minMonths, maxMonths int) *apperr.Error {
	if minMonths < minAgeMonths || minMonths > maxAgeMonths {
		return apperr.Invalid("age_min_months", "number_out_of_range", map[string]any{"min": minAgeMonths, "max": maxAgeMonths})
	}
	if maxMonths < 1 || maxMonths > maxAgeMonths {
		return apperr.Invalid("age_max_months", "number_out_of_range", map[string]any{"min": 1, "max": maxAgeMonths})
	}
	if maxMonths <= minMonths {
		return apperr.Invalid("age_max_months", "provider_age_range", nil)
	}
	return nil
}
