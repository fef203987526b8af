package cityadmin

import (
	"errors"
	"os"
	"strconv"
	"testing"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
	"kitaportal/web"
)

func seedCities(t *testing.T) []tenant.LoadedRules {
	t.Helper()
	loaded, err := tenant.LoadDir(os.DirFS(tenanttest.Dir()), "tenants")
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) < 5 {
		t.Fatalf("only %d seed cities", len(loaded))
	}
	return loaded
}

func city(t *testing.T, slug string) *tenant.Rules {
	t.Helper()
	for _, lr := range seedCities(t) {
		if lr.Rules.Slug == slug {
			return lr.Rules
		}
	}
	t.Fatalf("no seed city %s", slug)
	return nil
}

// An untouched form gives back exactly the rules it was opened on, for every seed city:
// the form shows every rule and loses none.
func TestAnUntouchedFormChangesNothing(t *testing.T) {
	t.Parallel()
	for _, lr := range seedCities(t) {
		got, _, err := Parse(Encode(lr.Rules), lr.Rules)
		if err != nil {
			t.Errorf("%s: %v", lr.Rules.Slug, err)
			continue
		}
		if d := Diff(lr.Rules, got); len(d) > 0 {
			t.Errorf("%s: the untouched form changes %v", lr.Rules.Slug, d)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("%s: %v", lr.Rules.Slug, err)
		}
	}
}

// Rows are added in blank rows and removed by their box; fields off the form (branding)
// stay as they were.
func TestRowsAreAddedAndRemovedWithoutScript(t *testing.T) {
	t.Parallel()
	r := city(t, "kempten")
	v := Encode(r)
	n := len(r.Criteria.Catalogue)
	v["criteria.catalogue[0]._remove"] = on
	blank := "criteria.catalogue[" + itoa(n) + "]"
	v[blank+".key"], v[blank+".label.de"], v[blank+".label.en"], v[blank+".points"], v[blank+".scope"], v[blank+".kind"] =
		"twins", "Zwillinge", "Twins", "2", "global", "flag"
	v["registration.max_choices"] = "4"
	got, idx, err := Parse(v, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Criteria.Catalogue) != n || got.Criteria.Catalogue[0].Key == r.Criteria.Catalogue[0].Key || got.Criteria.Catalogue[n-1].Key != "twins" {
		t.Errorf("catalogue: %+v", got.Criteria.Catalogue)
	}
	if got.Registration.MaxChoices != 4 || got.Branding.PrimaryColor != r.Branding.PrimaryColor || got.Map != r.Map {
		t.Errorf("max choices %d, branding %+v", got.Registration.MaxChoices, got.Branding)
	}
	// The new criterion is the catalogue's last; its row on the form is row n.
	if f := idx.FormField("criteria.catalogue[" + itoa(n-1) + "].points"); f != blank+".points" {
		t.Errorf("error of the new row goes to %q, want %s.points", f, blank)
	}
	before := v.Rows("criteria.catalogue")
	v.More("criteria.catalogue")
	if v.Rows("criteria.catalogue") != before+moreRows {
		t.Errorf("more rows: %d → %d", before, v.Rows("criteria.catalogue"))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Garbage that is not even a number is refused naming its input, before the validator.
func TestGarbageNumbersNameTheirInput(t *testing.T) {
	t.Parallel()
	r := city(t, "kempten")
	for field, value := range map[string]string{
		"registration.max_choices":                "drei",
		"offers.response_days":                    "99999999999999999999",
		"offers.reminder_days":                    "7, x",
		"criteria.catalogue[1].points":            "1e3",
		"contract.fees[0].monthly_eur":            "NaN",
		"registration.editable_days_before_start": "12.5",
	} {
		v := Encode(r)
		v[field] = value
		_, _, err := Parse(v, r)
		var list apperr.List
		if !errors.As(err, &list) || len(list) != 1 || list[0].Field != field {
			t.Errorf("%s = %q: %v", field, value, err)
		}
	}
}

// A broken rule is named by the input it belongs to, in the catalogue's words.
func TestValidationErrorsLandOnTheirInputs(t *testing.T) {
	t.Parallel()
	r := city(t, "kempten")
	v := Encode(r)
	v["registration.max_choices"] = "0"
	v["registration.notice_months"] = "40"
	v["criteria.catalogue[0]._remove"] = on
	v["criteria.catalogue[2].points"] = "500"
	v["offers.reminder_days"] = "7, 30"
	v["districts[1].fachberatung.email"] = "keine-adresse"
	v["contract.fees[0].monthly_eur"] = "210,555"
	v["criteria.tie_breaks[0]"] = "lottery"
	got, idx, err := Parse(v, r)
	if err != nil {
		t.Fatal(err)
	}
	err = classify(got.Validate(), idx.FormField)
	var list apperr.List
	if !errors.As(err, &list) {
		t.Fatalf("not a list: %v", err)
	}
	want := map[string]string{
		"registration.max_choices":        "rules_between",
		"registration.notice_months":      "rules_between",
		"criteria.catalogue[2].points":    "rules_between", // the catalogue's second, shown in row 2
		"offers.reminder_days":            "rules_reminder_days",
		"districts[1].fachberatung.email": "rules_email",
		"contract.fees[0].monthly_eur":    "rules_whole_cents",
		"criteria.tie_breaks[0]":          "rules_lottery_last",
	}
	got2 := map[string]string{}
	for _, e := range list {
		if _, seen := got2[e.Field]; !seen {
			got2[e.Field] = e.Code
		}
		if e.Code == "rules_invalid" || e.Code == "rules_other_field" {
			t.Errorf("untranslated: %s %v", e.Field, e.Args)
		}
	}
	for f, code := range want {
		if got2[f] != code {
			t.Errorf("%s: %q, want %q (all: %v)", f, got2[f], code, got2)
		}
	}
}

// Every reason the validator gives for the rules of the form has a message of its own
// in every language; the broad breakages below touch each section.
func TestEveryReasonHasAMessage(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{"rules_invalid", "rules_other_field", "rules_not_a_number", "rules_not_an_amount", "rules_too_many_rows",
		"rules_stale", "rules_reason_required", "rules_version_not_found", "rules_body_required", "rules_base_required",
		"rules_district_in_use", "rules_municipality_in_use"}
	for _, rc := range reasonCodes {
		codes = append(codes, rc.code)
	}
	for _, code := range codes {
		for _, lang := range cat.Languages() {
			if !cat.Has(lang, "error."+code) {
				t.Errorf("error.%s has no %s message", code, lang)
			}
		}
	}
	broken := []func(r *tenant.Rules){
		func(r *tenant.Rules) {
			r.Languages = []string{"en", "fr"}
			r.KitaYear = tenant.KitaYear{Start: "02-30", SchoolEntryAge: 9, SchoolCutoff: "x"}
			r.Registration.Windows = []tenant.Window{{From: "13-01", Until: "01-01"}}
			r.Residence.Rule = "nobody"
			r.Allocation = tenant.Allocation{Mode: "cascade", AdminConfirms: true, ReservationDays: 3, LargerScope: true, AutoFollowUp: true}
			r.CareScopes = []int{30, 25, 90}
		},
		func(r *tenant.Rules) {
			r.Criteria.Catalogue = append(r.Criteria.Catalogue, tenant.Criterion{Key: "Bad Key", Label: tenant.Text{"en": "x"}, Scope: "x", Kind: "y"},
				tenant.Criterion{Key: "sibling", Label: tenant.Text{"de": "x"}, Scope: "facility", Kind: "text"})
			r.Criteria.TieBreaks = []string{"lottery", "points", "points", "coin"}
			r.AgeBands = append(r.AgeBands, tenant.AgeBand{Key: "krippe", Label: tenant.Text{"de": "x"}, MinMonths: 1, MaxMonths: 0},
				tenant.AgeBand{Key: "b", Label: tenant.Text{"de": "x"}, UntilSchool: true, SchoolAge: true}, tenant.AgeBand{Key: "c", Label: tenant.Text{"de": "x"}, UntilSchool: true, MaxMonths: 5})
			r.Contract.Fees = append(r.Contract.Fees, tenant.Fee{Band: "nope", MaxHours: 10, MonthlyEUR: 20000}, tenant.Fee{Band: "krippe", MaxHours: 20, MonthlyEUR: 1})
			r.Contract.Attachments = append(r.Contract.Attachments, tenant.Attachment{Key: "sepa", Title: tenant.Text{"de": "x"}})
			r.Districts = append(r.Districts, tenant.District{Key: "nord", Municipality: "atlantis", Fachberatung: tenant.Contact{Email: "x"}})
			r.Tickets = tenant.Tickets{Enabled: false, Quota: map[string]int{"krippe": 1}}
			r.Residence.KitaBoundToMunicipality = true
			r.Registration.NoticeMonths = 36
		},
		func(r *tenant.Rules) {
			r.Residence.Rule = tenant.ResidentsAndTickets
			r.Tickets = tenant.Tickets{}
			r.AgeBands = nil
			r.CareScopes = nil
			r.Criteria.TieBreaks = nil
			r.Registration.TagespflegeExtraChoice = true
			r.Registration.TagespflegeByDistrict = true
			r.Districts = nil
		},
		func(r *tenant.Rules) {
			r.Tickets = tenant.Tickets{Enabled: true, ValidityMonths: 6}
			r.Criteria.TieBreaks = []string{"points", "birth_date"}
		},
	}
	for i, breakIt := range broken {
		r := clone(city(t, "kempten"))
		breakIt(r)
		err := classify(r.Validate(), func(f string) string { return f })
		var list apperr.List
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("case %d: %v", i, err)
		}
		for _, e := range list {
			if e.Code == "rules_invalid" {
				t.Errorf("case %d: %s has no message of its own: %v", i, e.Field, e.Args["reason"])
			}
		}
	}
}

// The diff names records of a list by their key and leaves branding out.
func TestDiffNamesFieldsByPath(t *testing.T) {
	t.Parallel()
	old := city(t, "kempten")
	r := clone(old)
	r.Registration.MaxChoices = 4
	r.Criteria.Catalogue[1].Points = 5
	r.Branding.PrimaryColor = "#000000"
	r.Offers.ReminderDays = []int{7}
	got := Diff(old, r)
	want := []Change{
		{Field: "criteria.catalogue[employment].points", Old: "3", New: "5"},
		{Field: "offers.reminder_days", Old: "7, 3", New: "7"},
		{Field: "registration.max_choices", Old: "3", New: "4"},
	}
	if len(got) != len(want) {
		t.Fatalf("diff %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
