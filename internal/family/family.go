// Package family is the household behind a request: its address and municipality of
// residence, one or two guardians (the second invited or entered), and the children —
// born, or expected where the city registers before birth — with special needs kept only
// with explicit consent. A parent account manages one family; a family entered at a
// facility (walk-in) is taken over later with a linking code. The same child entered
// twice is flagged for staff to merge, never silently doubled.
package family

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
)

// Family is a household as its guardians and staff see it.
type Family struct {
	ID           uuid.UUID  `json:"id"`
	Street       string     `json:"-"`
	HouseNumber  string     `json:"-"`
	PLZ          string     `json:"-"`
	City         string     `json:"-"`
	Municipality string     `json:"-"` // key; "" = outside the city's area
	Source       string     `json:"source"`
	Address      Address    `json:"address"`
	Resident     bool       `json:"resident"`
	Guardians    []Guardian `json:"guardians"`
	Children     []Child    `json:"children"`
}

// Address is the JSON form of a family's address.
type Address struct {
	Street           string `json:"street"`
	HouseNumber      string `json:"house_number"`
	PLZ              string `json:"plz"`
	City             string `json:"city"`
	Municipality     string `json:"municipality,omitempty"`
	MunicipalityName string `json:"municipality_name,omitempty"`
}

// Guardian is a parent or other person with custody.
type Guardian struct {
	ID         uuid.UUID  `bun:"id" json:"id"`
	FirstName  string     `bun:"first_name" json:"first_name"`
	LastName   string     `bun:"last_name" json:"last_name"`
	Email      string     `bun:"email" json:"email,omitempty"`
	Phone      string     `bun:"phone" json:"phone,omitempty"`
	AccountID  *uuid.UUID `bun:"user_id" json:"-"`
	HasAccount bool       `bun:"-" json:"has_account"`
}

// Child is one child of a family.
type Child struct {
	ID                uuid.UUID  `bun:"id" json:"id"`
	FamilyID          uuid.UUID  `bun:"family_id" json:"-"`
	FirstName         string     `bun:"first_name" json:"first_name"`
	LastName          string     `bun:"last_name" json:"last_name"`
	BirthDate         *date.Date `bun:"birth_date" json:"birth_date,omitempty"`
	ExpectedBirthDate *date.Date `bun:"expected_birth_date" json:"expected_birth_date,omitempty"`
	SpecialNeeds      string     `bun:"special_needs" json:"special_needs,omitempty"`
	ConsentAt         *time.Time `bun:"special_needs_consent_at" json:"special_needs_consent_at,omitempty"`
	MergedInto        *uuid.UUID `bun:"merged_into" json:"-"`
}

// Born tells whether the child's birth date is known (not only expected).
func (c Child) Born() bool { return c.BirthDate != nil }

// Birth is the birth date, or the expected one before birth.
func (c Child) Birth() date.Date {
	if c.BirthDate != nil {
		return *c.BirthDate
	}
	if c.ExpectedBirthDate != nil {
		return *c.ExpectedBirthDate
	}
	return date.Date{}
}

// Name is the child's full name.
func (c Child) Name() string { return c.FirstName + " " + c.LastName }

// Sources of a family record.
const (
	SourceOnline = "online"
	SourceWalkIn = "walk_in"
	SourceImport = "import"
)

// Limits of the family forms.
const (
	MaxStreet       = 100
	MaxCity         = 100
	MaxSpecialNeeds = 2000
	MaxGuardians    = 2
	// MaxExpectedMonths: an expected birth date lies at most this far ahead.
	MaxExpectedMonths = 10
)

// AddressInput is an address as typed.
type AddressInput struct {
	Street      string `json:"street"`
	HouseNumber string `json:"house_number"`
	PLZ         string `json:"plz"`
	City        string `json:"city"`
}

// GuardianInput is a guardian as typed.
type GuardianInput struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

// Input is a family as typed: the address and one or two guardians; the first guardian
// of a parent's own family is the parent.
type Input struct {
	Address   AddressInput    `json:"address"`
	Guardians []GuardianInput `json:"guardians"`
}

// ChildInput is a child as typed.
type ChildInput struct {
	FirstName           string `json:"first_name"`
	LastName            string `json:"last_name"`
	BirthDate           string `json:"birth_date"`
	ExpectedBirthDate   string `json:"expected_birth_date"`
	SpecialNeeds        string `json:"special_needs"`
	SpecialNeedsConsent bool   `json:"special_needs_consent"`
}

var (
	plzPattern   = regexp.MustCompile(`^[0-9]{5}$`)
	housePattern = regexp.MustCompile(`^[0-9]{1,4}\s?[a-zA-Z]?(\s?[-/]\s?[0-9]{1,4}\s?[a-zA-Z]?)?$`)
	phonePattern = regexp.MustCompile(`^\+?[0-9 ()/-]{5,30}$`)
)

// cleanAddress checks an address; problems are added to errs.
func cleanAddress(a AddressInput, prefix string, errs *apperr.List) AddressInput {
	var out AddressInput
	var err error
	if out.Street, err = auth.FreeText(prefix+"street", a.Street, 1, MaxStreet); err != nil {
		*errs = append(*errs, reason(err, prefix+"street", "street_required"))
	}
	out.HouseNumber = strings.Join(strings.Fields(a.HouseNumber), " ")
	if !housePattern.MatchString(out.HouseNumber) {
		*errs = append(*errs, apperr.Invalid(prefix+"house_number", "house_number_invalid", nil))
	}
	out.PLZ = strings.TrimSpace(a.PLZ)
	if !plzPattern.MatchString(out.PLZ) {
		*errs = append(*errs, apperr.Invalid(prefix+"plz", "plz_invalid", nil))
	}
	if out.City, err = auth.FreeText(prefix+"city", a.City, 1, MaxCity); err != nil {
		*errs = append(*errs, reason(err, prefix+"city", "city_required"))
	}
	return out
}

// reason keeps a length or character error, but names a missing value plainly.
func reason(err error, field, missing string) *apperr.Error {
	if e, ok := apperr.As(err); ok && e.Code != "text_too_short" {
		return e
	}
	return apperr.Invalid(field, missing, nil)
}

// cleanGuardian checks a guardian; the email is required for a second guardian who
// should be invited, optional otherwise.
func cleanGuardian(g GuardianInput, prefix string, errs *apperr.List) GuardianInput {
	var out GuardianInput
	var err error
	if out.FirstName, err = auth.Name(prefix+"first_name", g.FirstName, true); err != nil {
		*errs = append(*errs, err.(*apperr.Error))
	}
	if out.LastName, err = auth.Name(prefix+"last_name", g.LastName, true); err != nil {
		*errs = append(*errs, err.(*apperr.Error))
	}
	if strings.TrimSpace(g.Email) != "" {
		if out.Email, err = auth.Email(prefix+"email", g.Email); err != nil {
			*errs = append(*errs, err.(*apperr.Error))
		}
	}
	if p := strings.TrimSpace(g.Phone); p != "" {
		if !phonePattern.MatchString(p) {
			*errs = append(*errs, apperr.Invalid(prefix+"phone", "phone_invalid", nil))
		}
		out.Phone = p
	}
	return out
}

// guardianPrefix names the fields of the i-th guardian: guardians.0.first_name, …
func guardianPrefix(i int) string { return "guardians." + strconv.Itoa(i) + "." }

// cleanInput checks a whole family form.
func cleanInput(in Input) (Input, error) {
	var errs apperr.List
	out := Input{Address: cleanAddress(in.Address, "", &errs)}
	switch {
	case len(in.Guardians) == 0:
		errs = append(errs, apperr.Invalid("guardians", "guardian_required", nil))
	case len(in.Guardians) > MaxGuardians:
		errs = append(errs, apperr.Invalid("guardians", "guardians_too_many", map[string]any{"max": MaxGuardians}))
	}
	for i, g := range in.Guardians {
		if i >= MaxGuardians {
			break
		}
		prefix := guardianPrefix(i)
		out.Guardians = append(out.Guardians, cleanGuardian(g, prefix, &errs))
	}
	return out, errs.Err()
}

// cleanChild checks a child: names, exactly one of birth date (not in the future) and
// expected birth date (ahead, at most ten months), special needs only with consent.
func cleanChild(in ChildInput, today date.Date) (ChildInput, *date.Date, *date.Date, error) {
	var errs apperr.List
	out := ChildInput{SpecialNeedsConsent: in.SpecialNeedsConsent}
	var err error
	if out.FirstName, err = auth.Name("first_name", in.FirstName, true); err != nil {
		errs = append(errs, err.(*apperr.Error))
	}
	if out.LastName, err = auth.Name("last_name", in.LastName, true); err != nil {
		errs = append(errs, err.(*apperr.Error))
	}
	var birth, expected *date.Date
	born, exp := strings.TrimSpace(in.BirthDate), strings.TrimSpace(in.ExpectedBirthDate)
	switch {
	case born != "" && exp != "":
		errs = append(errs, apperr.Invalid("birth_date", "birth_date_or_expected", nil))
	case born != "":
		d, err := date.Parse(born)
		switch {
		case err != nil:
			errs = append(errs, apperr.Invalid("birth_date", "date_invalid", nil))
		case d.After(today):
			errs = append(errs, apperr.Invalid("birth_date", "birth_date_in_future", nil))
		case d.Before(today.AddMonths(-14 * 12)):
			errs = append(errs, apperr.Invalid("birth_date", "birth_date_too_old", nil))
		default:
			birth = &d
		}
	case exp != "":
		d, err := date.Parse(exp)
		switch {
		case err != nil:
			errs = append(errs, apperr.Invalid("expected_birth_date", "date_invalid", nil))
		case !d.After(today):
			errs = append(errs, apperr.Invalid("expected_birth_date", "expected_birth_date_past", nil))
		case d.After(today.AddMonths(MaxExpectedMonths)):
			errs = append(errs, apperr.Invalid("expected_birth_date", "expected_birth_date_too_far", map[string]any{"months": MaxExpectedMonths}))
		default:
			expected = &d
		}
	default:
		errs = append(errs, apperr.Invalid("birth_date", "birth_date_required", nil))
	}
	if s := in.SpecialNeeds; strings.TrimSpace(s) != "" {
		if out.SpecialNeeds, err = auth.FreeText("special_needs", s, 1, MaxSpecialNeeds); err != nil {
			errs = append(errs, err.(*apperr.Error))
		}
		if !in.SpecialNeedsConsent {
			errs = append(errs, apperr.Invalid("special_needs_consent", "special_needs_consent_required", nil))
		}
	}
	return out, birth, expected, errs.Err()
}

// DedupeKey is what two records of the same child share: names without case, accents,
// spaces or hyphens, and the (expected) birth date. "Müller-Lüdenscheidt, Jörg" and
// "mueller lüdenscheidt, jörg" differ, "Jörg Müller" and "jörg  müller" do not.
func DedupeKey(first, last string, birth date.Date) string {
	return foldName(first) + "|" + foldName(last) + "|" + birth.String()
}

func foldName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r), r == ' ', r == '-', r == '\'', r == '’', r == '.':
		default:
			b.WriteRune(r)
		}
	}
	return strings.ReplaceAll(b.String(), "ß", "ss")
}
