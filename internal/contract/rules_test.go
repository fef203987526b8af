package contract

import (
	"errors"
	"reflect"
	"testing"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

func day(s string) date.Date { return date.MustParse(s) }

func codes(err error) []string {
	var list apperr.List
	if errors.As(err, &list) {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.Field + ":" + e.Code
		}
		return out
	}
	if e, ok := apperr.As(err); ok {
		return []string{e.Field + ":" + e.Code}
	}
	return nil
}

// saxony is a calendar like Leipzig's: Kita year from 1 August, school at six by 30 June.
var saxony = (&tenant.Rules{KitaYear: tenant.KitaYear{Start: "08-01", SchoolEntryAge: 6, SchoolCutoff: "06-30"}}).Calendar()

func TestContractRules(t *testing.T) {
	t.Parallel()
	kita := Terms{Birth: day("2025-03-14"), CareHours: 35, AgeMin: 6, AgeMax: 84, Scopes: []int{30, 35, 40, 45, 50}, Calendar: saxony}
	cases := []struct {
		name       string
		change     func(*Terms)
		start, end string
		wantEnd    string
		want       []string
	}{
		{"ends at school entry", nil, "2026-08-01", "", "2031-08-01", nil},
		{"a Krippe ends at three", func(t *Terms) { t.AgeMax = 36 }, "2026-08-01", "", "2028-03-14", nil},
		{"a Hort child ends when it outgrows the Hort", func(t *Terms) { t.Birth, t.AgeMin, t.AgeMax = day("2019-09-01"), 60, 132 }, "2026-08-01", "", "2030-09-01", nil},
		{"an end given", nil, "2026-08-01", "2027-08-01", "2027-08-01", nil},
		{"before birth", nil, "2025-01-01", "", "", []string{"start_date:start_before_birth"}},
		{"too young", nil, "2025-06-01", "", "", []string{"start_date:contract_child_too_young"}},
		{"too old", func(t *Terms) { t.AgeMax = 36 }, "2028-04-01", "", "", []string{"start_date:contract_child_too_old", "end_date:contract_end_before_start"}},
		{"ends before it starts", nil, "2026-08-01", "2026-07-01", "", []string{"end_date:contract_end_before_start"}},
		{"a scope the city does not offer", func(t *Terms) { t.CareHours = 33 }, "2026-08-01", "", "", []string{"care_hours:contract_care_hours"}},
		{"more than the group offers", func(t *Terms) { t.CareHours, t.GroupHours = 50, 45 }, "2026-08-01", "", "", []string{"care_hours:contract_care_hours_group"}},
	}
	for _, c := range cases {
		terms := kita
		if c.change != nil {
			c.change(&terms)
		}
		var end date.Date
		if c.end != "" {
			end = day(c.end)
		}
		got, err := Check(terms, day(c.start), end)
		if !reflect.DeepEqual(codes(err), c.want) {
			t.Errorf("%s: %v, want %v", c.name, codes(err), c.want)
			continue
		}
		if c.want == nil && got.String() != c.wantEnd {
			t.Errorf("%s: end %s, want %s", c.name, got, c.wantEnd)
		}
	}
}

func TestTerminationAndScopeChange(t *testing.T) {
	t.Parallel()
	k := Contract{Start: day("2026-08-01"), End: day("2031-08-01"), CareHours: 35}
	for end, want := range map[string]string{"2027-01-01": "", "2031-08-01": "", "2026-08-01": "contract_end_before_start",
		"2026-01-01": "contract_end_before_start", "2032-01-01": "contract_end_after_planned"} {
		if got := codes(CheckTermination(k, day(end))); (want == "" && got != nil) || (want != "" && (len(got) != 1 || got[0] != "end_date:"+want)) {
			t.Errorf("terminate at %s: %v, want %q", end, got, want)
		}
	}
	if got := codes(CheckTermination(k, date.Date{})); !reflect.DeepEqual(got, []string{"end_date:required"}) {
		t.Errorf("no end: %v", got)
	}
	open := Contract{Start: day("2026-08-01"), CareHours: 35}
	if err := CheckTermination(open, day("2040-01-01")); err != nil {
		t.Errorf("an open-ended contract ends whenever: %v", err)
	}
	cases := []struct {
		hours int
		from  string
		want  string
	}{
		{45, "2027-01-01", ""}, {45, "2026-08-01", ""}, {35, "2027-01-01", "care_hours:contract_scope_unchanged"},
		{45, "2026-07-31", "from:contract_scope_outside"}, {45, "2031-08-01", "from:contract_scope_outside"},
	}
	for _, c := range cases {
		got := codes(CheckScopeChange(k, c.hours, day(c.from)))
		if (c.want == "" && got != nil) || (c.want != "" && !reflect.DeepEqual(got, []string{c.want})) {
			t.Errorf("%d h from %s: %v, want %q", c.hours, c.from, got, c.want)
		}
	}
}

func TestNewChildRules(t *testing.T) {
	t.Parallel()
	today := day("2026-11-21")
	good := func() NewChild {
		return NewChild{FirstName: " Mia ", LastName: "Özdemir", BirthDate: day("2025-04-03"), GuardianFirstName: "Aylin", GuardianLastName: "Özdemir",
			GuardianEmail: "aylin@example.org", GuardianPhone: "0341 1234", PLZ: "04109"}
	}
	n := good()
	if err := n.Validate(today); err != nil || n.FirstName != "Mia" {
		t.Fatalf("a good child: %v %q", err, n.FirstName)
	}
	cases := map[string]struct {
		change func(*NewChild)
		want   []string
	}{
		"no names":       {func(n *NewChild) { n.FirstName, n.GuardianLastName = "", "" }, []string{"child_first_name:required", "guardian_last_name:required"}},
		"born tomorrow":  {func(n *NewChild) { n.BirthDate = today.AddDays(1) }, []string{"child_birth_date:contract_birth_in_future"}},
		"born long ago":  {func(n *NewChild) { n.BirthDate = day("1990-01-01") }, []string{"child_birth_date:contract_birth_too_early"}},
		"no birth":       {func(n *NewChild) { n.BirthDate = date.Date{} }, []string{"child_birth_date:required"}},
		"bad postcode":   {func(n *NewChild) { n.PLZ = "4109" }, []string{"plz:invalid_plz"}},
		"bad mail":       {func(n *NewChild) { n.GuardianEmail = "nope" }, []string{"guardian_email:email_invalid"}},
		"control char":   {func(n *NewChild) { n.LastName = "A\x07B" }, []string{"child_last_name:text_invalid_characters"}},
		"very long name": {func(n *NewChild) { n.LastName = string(make([]byte, 101)) + "x" }, []string{"child_last_name:field_too_long"}},
	}
	for name, c := range cases {
		n := good()
		c.change(&n)
		if got := codes(n.Validate(today)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}
