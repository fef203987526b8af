package application

import (
	"os"
	"slices"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// rulesOf loads a real rules file of the repository, so the tests follow the cities.
func rulesOf(t *testing.T, slug string) *tenant.Rules {
	t.Helper()
	lr, err := tenant.LoadFile(os.DirFS(tenanttest.Dir()), slug+".yaml", slug+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return lr.Rules
}

var today = date.MustParse("2026-11-25")

// kita is a facility that takes every band of the seed cities with up to 45 hours.
func kita(name string) ChoiceFacts {
	return ChoiceFacts{FacilityID: uuid.New(), Name: name, Type: "kita", Active: true, Found: true,
		Bands: map[string]int{"krippe": 50, "kindergarten": 50, "hort": 50}}
}

func tagespflege(name, municipality string) ChoiceFacts {
	return ChoiceFacts{FacilityID: uuid.New(), Name: name, Type: "tagespflege", Municipality: municipality, Active: true, Found: true,
		Bands: map[string]int{"krippe": 50}}
}

// good is a request every seed city accepts: a one-year-old, a start in nine months, one
// Kita of the city, a resident family.
func good(r *tenant.Rules) Facts {
	c := kita("Kita Sonnenblume")
	c.Municipality = r.Municipalities[0].Key
	return Facts{Today: today, Child: ChildFacts{BirthDate: date.MustParse("2025-10-01"), Born: true},
		Municipality: r.Municipalities[0].Key, Start: date.MustParse("2027-08-01"), CareHours: r.CareScopes[len(r.CareScopes)-1],
		Choices: []ChoiceFacts{c}, Submitting: true}
}

// codes lists field:code of every refusal.
func codes(l apperr.List) []string {
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = e.Field + ":" + e.Code
	}
	return out
}

func TestEverySeedCityAcceptsAGoodRequest(t *testing.T) {
	for _, slug := range []string{"herzberg", "leipzig", "kempten", "bochum", "lueneburg"} {
		r := rulesOf(t, slug)
		if got := Check(r, good(r)); len(got) != 0 {
			t.Errorf("%s refuses a good request: %v", slug, codes(got))
		}
	}
}

func TestRulesRefuseWithTheRuleAndWhatToChange(t *testing.T) {
	tests := []struct {
		name   string
		city   string
		change func(f *Facts)
		want   string // field:code
		args   map[string]any
	}{
		{"kempten: a fourth choice", "kempten", func(f *Facts) {
			f.Choices = []ChoiceFacts{kita("A"), kita("B"), kita("C"), kita("D")}
		}, "choices:choices_too_many", map[string]any{"max": 3}},
		{"kempten: start 37 months ahead", "kempten", func(f *Facts) {
			f.Start = today.AddMonths(37)
		}, "start_date:start_beyond_lead_time", map[string]any{"months": 36, "latest": today.AddMonths(36)}},
		{"kempten: before birth", "kempten", func(f *Facts) {
			f.Child = ChildFacts{BirthDate: date.MustParse("2027-01-10"), Born: false}
		}, "child_id:child_not_born", nil},
		{"bochum: sixth Kita", "bochum", func(f *Facts) {
			f.Choices = []ChoiceFacts{kita("A"), kita("B"), kita("C"), kita("D"), kita("E"), kita("F")}
		}, "choices:choices_too_many", map[string]any{"max": 5}},
		{"notice period", "bochum", func(f *Facts) {
			f.Start = today.AddMonths(2)
		}, "start_date:start_too_soon", map[string]any{"months": 3, "earliest": today.AddMonths(3)}},
		{"start in the past", "bochum", func(f *Facts) {
			f.Start = today.AddDays(-1)
		}, "start_date:start_in_past", nil},
		{"start before birth", "lueneburg", func(f *Facts) {
			f.Child = ChildFacts{BirthDate: date.MustParse("2027-09-01"), Born: false}
		}, "start_date:start_before_birth", nil},
		{"child too old for every band", "herzberg", func(f *Facts) {
			f.Child.BirthDate = date.MustParse("2014-01-01")
		}, "start_date:child_no_age_band", nil},
		{"facility twice", "leipzig", func(f *Facts) {
			f.Choices = append(f.Choices, f.Choices[0])
		}, "choices.1:choice_duplicate", nil},
		{"unknown facility (other city)", "leipzig", func(f *Facts) {
			f.Choices = append(f.Choices, ChoiceFacts{FacilityID: uuid.New()})
		}, "choices.1:choice_unknown", map[string]any{"rank": 2}},
		{"closed facility", "leipzig", func(f *Facts) {
			f.Choices[0].Active = false
		}, "choices.0:choice_closed", nil},
		{"facility without the child's band", "kempten", func(f *Facts) {
			f.Choices[0].Bands = map[string]int{"hort": 45}
		}, "choices.0:choice_age_mismatch", nil},
		{"care scope the facility does not offer", "bochum", func(f *Facts) {
			f.Choices[0].Bands = map[string]int{"krippe": 35, "kindergarten": 35}
		}, "choices.0:choice_scope_not_offered", map[string]any{"hours": 45, "max": 35}},
		{"care scope the city does not know", "bochum", func(f *Facts) {
			f.CareHours = 33
		}, "care_hours:care_scope_unknown", nil},
		{"residents only", "kempten", func(f *Facts) {
			f.Municipality = ""
		}, "address:residence_required", nil},
		{"leipzig: from outside without ticket", "leipzig", func(f *Facts) {
			f.Municipality = ""
		}, "address:ticket_required", nil},
		{"no address yet", "leipzig", func(f *Facts) {
			f.Municipality, f.NoAddress = "", true
		}, "address:family_address_missing", nil},
		{"lueneburg: Kita in another municipality", "lueneburg", func(f *Facts) {
			f.Choices[0].Municipality = "other-municipality"
		}, "choices.0:choice_wrong_municipality", nil},
		{"one active application per period", "bochum", func(f *Facts) {
			f.ActiveOther = true
		}, "start_date:application_exists_for_period", nil},
		{"criteria need the declaration", "bochum", func(f *Facts) {
			f.Criteria = map[string]string{"single_parent": "yes"}
		}, "declaration:declaration_required", nil},
		{"unknown criterion", "bochum", func(f *Facts) {
			f.Criteria, f.Declared = map[string]string{"lottery_win": "yes"}, true
		}, "criteria.lottery_win:criterion_unknown", nil},
		{"hardship without a reason", "kempten", func(f *Facts) {
			f.Criteria, f.Declared = map[string]string{"hardship": "  "}, true
		}, "criteria.hardship:criterion_reason_missing", nil},
		{"no choice", "herzberg", func(f *Facts) {
			f.Choices = nil
		}, "choices:choices_empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rulesOf(t, tt.city)
			f := good(r)
			tt.change(&f)
			got := Check(r, f)
			i := slices.Index(codes(got), tt.want)
			if i < 0 {
				t.Fatalf("want %s, got %v", tt.want, codes(got))
			}
			for k, v := range tt.args {
				if got[i].Args[k] != v {
					t.Errorf("argument %s = %v, want %v", k, got[i].Args[k], v)
				}
			}
		})
	}
}

func TestLeadTimeEdges(t *testing.T) {
	r := rulesOf(t, "kempten") // at most 36 months ahead, at least 3
	for _, tt := range []struct {
		start date.Date
		ok    bool
	}{
		{today.AddMonths(36), true},
		{today.AddMonths(36).AddDays(1), false},
		{today.AddMonths(3), true},
		{today.AddMonths(3).AddDays(-1), false},
	} {
		f := good(r)
		f.Child.BirthDate = date.MustParse("2026-10-01")
		f.Start = tt.start
		got := Check(r, f)
		if (len(got) == 0) != tt.ok {
			t.Errorf("start %s: ok=%v, got %v", tt.start, tt.ok, codes(got))
		}
	}
}

func TestBeforeBirthWhereTheCityAllowsIt(t *testing.T) {
	r := rulesOf(t, "lueneburg")
	f := good(r)
	f.Child = ChildFacts{BirthDate: date.MustParse("2027-01-15"), Born: false}
	f.Start = date.MustParse("2027-08-01")
	if got := Check(r, f); len(got) != 0 {
		t.Errorf("lueneburg registers before birth, got %v", codes(got))
	}
}

func TestTagespflegeExtraChoice(t *testing.T) {
	bochum := rulesOf(t, "bochum") // five Kitas plus Kindertagespflege
	f := good(bochum)
	f.Choices = []ChoiceFacts{kita("A"), kita("B"), kita("C"), kita("D"), kita("E"), tagespflege("TP", "")}
	if got := Check(bochum, f); len(got) != 0 {
		t.Errorf("bochum: five Kitas and a Tagespflege should pass, got %v", codes(got))
	}
	kempten := rulesOf(t, "kempten") // three in all
	f = good(kempten)
	f.Choices = []ChoiceFacts{kita("A"), kita("B"), kita("C"), tagespflege("TP", "")}
	if got := codes(Check(kempten, f)); !slices.Contains(got, "choices:choices_too_many") {
		t.Errorf("kempten counts Tagespflege as a choice, got %v", got)
	}
}

func TestLueneburgTagespflegeIsNotBoundToTheMunicipality(t *testing.T) {
	r := rulesOf(t, "lueneburg")
	f := good(r)
	f.Choices = []ChoiceFacts{tagespflege("TP im Landkreis", "some-other-municipality")}
	if got := Check(r, f); len(got) != 0 {
		t.Errorf("Tagespflege is not bound, got %v", codes(got))
	}
}

func TestLeipzigTicketHolderMayApply(t *testing.T) {
	r := rulesOf(t, "leipzig")
	f := good(r)
	f.Municipality, f.HasTicket = "", true
	if got := Check(r, f); len(got) != 0 {
		t.Errorf("a ticket holder may apply, got %v", codes(got))
	}
}

func TestRegistrationWindows(t *testing.T) {
	r := rulesOf(t, "bochum")
	r.Registration.Windows = []tenant.Window{{From: "01-10", Until: "03-31"}, {From: "11-01", Until: "11-30"}}
	f := good(r)
	if got := Check(r, f); len(got) != 0 {
		t.Errorf("25 November is in the November window, got %v", codes(got))
	}
	f.Today = date.MustParse("2026-06-01")
	f.Start = date.MustParse("2027-08-01")
	got := Check(r, f)
	if i := slices.Index(codes(got), "start_date:outside_registration_window"); i < 0 || got[i].Args["from"] != "11-01" {
		t.Errorf("June is outside; the next window is November: %v", codes(got))
	}
	f.Submitting = false // a draft may be prepared any time
	if got := Check(r, f); len(got) != 0 {
		t.Errorf("a draft outside the window: %v", codes(got))
	}
	wrap := []tenant.Window{{From: "12-01", Until: "01-31"}}
	if !inWindow(wrap, date.MustParse("2027-01-15")) || !inWindow(wrap, date.MustParse("2026-12-01")) || inWindow(wrap, date.MustParse("2026-11-30")) {
		t.Error("a window over New Year")
	}
}

func TestPoints(t *testing.T) {
	r := rulesOf(t, "kempten") // sibling 4 (facility), employment 3, single parent 3, hardship 6
	claims := map[string]string{"sibling": "yes", "employment": "yes", "hardship": "Pflege eines Angehörigen"}
	if got := Points(r, claims); got != 9 {
		t.Errorf("global points %d, want 9", got)
	}
	if got := PointsAt(r, claims, uuid.New(), nil); got != 9 {
		t.Errorf("points at a facility, the sibling named none %d, want 9", got)
	}
}
