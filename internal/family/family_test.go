package family

import (
	"testing"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
)

func TestDedupeKeyFoldsCaseAccentsAndSpacesOnly(t *testing.T) {
	birth := date.MustParse("2025-06-30")
	same := [][2]string{
		{"Jörg", "Müller"}, {"jörg", "MÜLLER"}, {"Jo\u0308rg", "Mu\u0308ller"}, {"Jörg", "Mül-ler"}, {" Jörg ", "Müller"},
	}
	want := DedupeKey("Jörg", "Müller", birth)
	for _, n := range same {
		if got := DedupeKey(n[0], n[1], birth); got != want {
			t.Errorf("%q %q: %q, want %q", n[0], n[1], got, want)
		}
	}
	for _, other := range []struct {
		first, last string
		birth       date.Date
	}{
		{"Jörg", "Müller", date.MustParse("2025-07-01")}, // another day
		{"Jörn", "Müller", birth},                        // another name
		{"Müller", "Jörg", birth},                        // first and last swapped
	} {
		if DedupeKey(other.first, other.last, other.birth) == want {
			t.Errorf("%v is not the same child", other)
		}
	}
	if DedupeKey("Groß", "x", birth) != DedupeKey("Gross", "x", birth) {
		t.Error("ß and ss")
	}
}

func TestChildInputRules(t *testing.T) {
	today := date.MustParse("2026-11-21")
	tests := []struct {
		name string
		in   ChildInput
		want []string // field:code, empty for a good child
	}{
		{"born", ChildInput{FirstName: "Mia", LastName: "Meier", BirthDate: "2025-10-01"}, nil},
		{"expected", ChildInput{FirstName: "Mia", LastName: "Meier", ExpectedBirthDate: "2027-03-01"}, nil},
		{"both dates", ChildInput{FirstName: "Mia", LastName: "Meier", BirthDate: "2025-10-01", ExpectedBirthDate: "2027-03-01"}, []string{"birth_date:birth_date_or_expected"}},
		{"no date", ChildInput{FirstName: "Mia", LastName: "Meier"}, []string{"birth_date:birth_date_required"}},
		{"31 February", ChildInput{FirstName: "Mia", LastName: "Meier", BirthDate: "2025-02-31"}, []string{"birth_date:date_invalid"}},
		{"born tomorrow", ChildInput{FirstName: "Mia", LastName: "Meier", BirthDate: "2026-11-22"}, []string{"birth_date:birth_date_in_future"}},
		{"expected yesterday", ChildInput{FirstName: "Mia", LastName: "Meier", ExpectedBirthDate: "2026-11-20"}, []string{"expected_birth_date:expected_birth_date_past"}},
		{"expected in a year", ChildInput{FirstName: "Mia", LastName: "Meier", ExpectedBirthDate: "2027-11-21"}, []string{"expected_birth_date:expected_birth_date_too_far"}},
		{"needs without consent", ChildInput{FirstName: "Mia", LastName: "Meier", BirthDate: "2025-10-01", SpecialNeeds: "Allergie"}, []string{"special_needs_consent:special_needs_consent_required"}},
		{"needs with consent", ChildInput{FirstName: "Mia", LastName: "Meier", BirthDate: "2025-10-01", SpecialNeeds: "Allergie", SpecialNeedsConsent: true}, nil},
		{"bidi trick in a name", ChildInput{FirstName: "Mia\u202egnp.exe", LastName: "Meier", BirthDate: "2025-10-01"}, []string{"first_name:name_invalid_characters"}},
		{"markup in a name", ChildInput{FirstName: "<b>Mia</b>", LastName: "Meier", BirthDate: "2025-10-01"}, []string{"first_name:name_invalid_characters"}},
		{"too old", ChildInput{FirstName: "Mia", LastName: "Meier", BirthDate: "2010-01-01"}, []string{"birth_date:birth_date_too_old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckChild(tt.in, today)
			got := fields(err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestFamilyInputRules(t *testing.T) {
	good := Input{Address: AddressInput{Street: "Hauptstraße", HouseNumber: "12a", PLZ: "04109", City: "Leipzig"},
		Guardians: []GuardianInput{{FirstName: "Anna", LastName: "Müller", Email: "Anna@Example.org", Phone: "+49 341 123456"}}}
	clean, err := CheckInput(good)
	if err != nil || clean.Guardians[0].Email != "anna@example.org" {
		t.Fatalf("good family: %v %+v", err, clean)
	}
	bad := Input{Address: AddressInput{Street: " ", HouseNumber: "zwölf", PLZ: "4109", City: ""},
		Guardians: []GuardianInput{{FirstName: "", LastName: "M", Email: "kein-at", Phone: "call me"}, {}, {}}}
	got := fields(func() error { _, err := CheckInput(bad); return err }())
	for _, want := range []string{"street:street_required", "house_number:house_number_invalid", "plz:plz_invalid", "city:city_required",
		"guardians:guardians_too_many", "guardians.0.first_name:name_required", "guardians.0.email:email_invalid", "guardians.0.phone:phone_invalid"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("missing %s in %v", want, got)
		}
	}
}

func TestLinkCodesAreReadAsPeopleTypeThem(t *testing.T) {
	for _, in := range []string{"ABCD-EFGH-JKLM", "abcd efgh jklm", " abcdefghjklm "} {
		if got := NormaliseCode(in); got != "ABCDEFGHJKLM" {
			t.Errorf("%q → %q", in, got)
		}
	}
}

func fields(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	if l, ok := err.(apperr.List); ok {
		for _, e := range l {
			out = append(out, e.Field+":"+e.Code)
		}
		return out
	}
	if e, ok := apperr.As(err); ok {
		return []string{e.Field + ":" + e.Code}
	}
	return []string{err.Error()}
}
