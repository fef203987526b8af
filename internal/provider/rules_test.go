package provider

import (
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// codes lists the field:code pairs of an error (nil: none).
func codes(err error) []string {
	if err == nil {
		return nil
	}
	var list apperr.List
	if errors.As(err, &list) {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.Field + ":" + e.Code
		}
		return out
	}
	e, _ := apperr.As(err)
	return []string{e.Field + ":" + e.Code}
}

func TestParseDayHours(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want [][2]string
		code string
	}{
		{"", nil, ""},
		{"07:00-17:00", [][2]string{{"07:00", "17:00"}}, ""},
		{"7:30 – 12:00, 14.00-17:00", [][2]string{{"07:30", "12:00"}, {"14:00", "17:00"}}, ""},
		{"06:00-24:00", [][2]string{{"06:00", "24:00"}}, ""},
		{"17:00-07:00", nil, "provider_hours_order"},
		{"07:00-12:00, 11:00-15:00", nil, "provider_hours_overlap"},
		{"14:00-17:00, 07:00-12:00", nil, "provider_hours_overlap"},
		{"25:00-26:00", nil, "provider_hours_format"},
		{"24:30-24:45", nil, "provider_hours_format"},
		{"morgens", nil, "provider_hours_format"},
		{"7-17", nil, "provider_hours_format"},
		{"06:00-07:00, 08:00-09:00, 10:00-11:00, 12:00-13:00", nil, "provider_hours_too_many"},
	}
	for _, c := range cases {
		got, err := ParseDayHours("mon", c.in)
		if c.code != "" {
			if e, ok := apperr.As(err); !ok || e.Code != c.code || e.Field != "mon" {
				t.Errorf("%q: %v, want %s", c.in, err, c.code)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %v %v, want %v", c.in, got, err, c.want)
		}
		if c.in != "" && FormatDayHours(got) == "" {
			t.Errorf("%q does not format back", c.in)
		}
	}
}

func TestProfileRules(t *testing.T) {
	t.Parallel()
	ok := func() ProfileChange {
		return ProfileChange{Name: "  Kita   Sonnenschein ", Description: "Wir sind da.\r\nFür alle.", Concepts: []string{"waldorf", "montessori", "waldorf"},
			Phone: "+49 341 123-45", Email: "kita@example.org", Website: "https://kita.example.org/", AgeMinMonths: 12, AgeMaxMonths: 72,
			OpeningHours: care.OpeningHours{"mon": {{"07:00", "17:00"}}, "sun": nil}}
	}
	p := ok()
	p.Normalize()
	if err := p.Validate(); err != nil {
		t.Fatalf("a good profile: %v", err)
	}
	if p.Name != "Kita Sonnenschein" || !reflect.DeepEqual(p.Concepts, []string{"montessori", "waldorf"}) || p.Description != "Wir sind da.\nFür alle." {
		t.Errorf("normalized: %+v", p)
	}
	if _, has := p.OpeningHours["sun"]; has {
		t.Error("an empty day stays")
	}
	cases := map[string]struct {
		change func(*ProfileChange)
		want   []string
	}{
		"no name":           {func(p *ProfileChange) { p.Name = " " }, []string{"name:required"}},
		"long description":  {func(p *ProfileChange) { p.Description = string(make([]rune, 4001)) }, []string{"description:field_too_long"}},
		"control character": {func(p *ProfileChange) { p.Description = "a\x00b" }, []string{"description:text_invalid_characters"}},
		"unknown concept":   {func(p *ProfileChange) { p.Concepts = []string{"zauberei"} }, []string{"concepts:invalid_choice"}},
		"phone":             {func(p *ProfileChange) { p.Phone = "ruf mich an" }, []string{"phone:provider_phone_invalid"}},
		"email":             {func(p *ProfileChange) { p.Email = "kita at example" }, []string{"email:email_invalid"}},
		"script website":    {func(p *ProfileChange) { p.Website = "javascript:alert(1)" }, []string{"website:provider_website_invalid"}},
		"website with user": {func(p *ProfileChange) { p.Website = "https://user:pw@example.org" }, []string{"website:provider_website_invalid"}},
		"bad hours": {func(p *ProfileChange) {
			p.OpeningHours = care.OpeningHours{"tue": {{"12:00", "08:00"}}, "xyz": {{"07:00", "08:00"}}}
		}, []string{"opening_hours.tue:provider_hours_order", "opening_hours.xyz:provider_hours_day"}},
		"ages reversed": {func(p *ProfileChange) { p.AgeMinMonths, p.AgeMaxMonths = 60, 12 }, []string{"age_max_months:provider_age_range"}},
		"absurd age":    {func(p *ProfileChange) { p.AgeMaxMonths = 999 }, []string{"age_max_months:number_out_of_range"}},
		"negative age":  {func(p *ProfileChange) { p.AgeMinMonths = -1 }, []string{"age_min_months:number_out_of_range"}},
	}
	for name, c := range cases {
		p := ok()
		c.change(&p)
		p.Normalize()
		if got := codes(p.Validate()); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}

func day(s string) date.Date { return date.MustParse(s) }

func TestCapacityPeriods(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		periods []Period
		want    []string
	}{
		"one open-ended":        {[]Period{{From: day("2026-08-01"), Places: 12}}, nil},
		"a new Kita year":       {[]Period{{From: day("2026-08-01"), Until: day("2027-08-01"), Places: 12}, {From: day("2027-08-01"), Places: 15}}, nil},
		"given out of order":    {[]Period{{From: day("2027-08-01"), Places: 15}, {From: day("2026-08-01"), Until: day("2027-08-01"), Places: 12}}, nil},
		"none":                  {nil, []string{"periods.0.valid_from:required"}},
		"overlapping":           {[]Period{{From: day("2026-08-01"), Places: 12}, {From: day("2027-01-01"), Places: 15}}, []string{"periods.1.valid_from:provider_periods_overlap"}},
		"overlapping end":       {[]Period{{From: day("2026-08-01"), Until: day("2027-02-01"), Places: 12}, {From: day("2027-01-01"), Until: day("2027-03-01"), Places: 1}}, []string{"periods.1.valid_from:provider_periods_overlap"}},
		"touching is fine":      {[]Period{{From: day("2026-08-01"), Until: day("2027-01-01"), Places: 12}, {From: day("2027-01-01"), Places: 1}}, nil},
		"ends before it starts": {[]Period{{From: day("2027-08-01"), Until: day("2027-01-01"), Places: 12}}, []string{"periods.0.valid_until:provider_period_order"}},
		"ends when it starts":   {[]Period{{From: day("2027-08-01"), Until: day("2027-08-01"), Places: 12}}, []string{"periods.0.valid_until:provider_period_order"}},
		"negative places":       {[]Period{{From: day("2026-08-01"), Places: -1}}, []string{"periods.0.places:provider_places_range"}},
		"absurd places":         {[]Period{{From: day("2026-08-01"), Places: 100000}}, []string{"periods.0.places:provider_places_range"}},
		"no start":              {[]Period{{Places: 3}}, []string{"periods.0.valid_from:required"}},
	}
	for name, c := range cases {
		if got := codes(CheckPeriods(c.periods)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
	many := make([]Period, maxPeriods+1)
	if got := codes(CheckPeriods(many)); !reflect.DeepEqual(got, []string{"periods:provider_periods_too_many"}) {
		t.Errorf("too many: %v", got)
	}
}

func TestPlacesLimitPerKind(t *testing.T) {
	t.Parallel()
	limits := tenant.FacilityLimits{TagespflegeMaxPlaces: 5, GrosstagespflegeMaxPlaces: 10} // Saxony, Lower Saxony
	open := func(from string, places int) Period { return Period{From: day(from), Places: places} }
	until := func(from, to string, places int) Period {
		return Period{From: day(from), Until: day(to), Places: places}
	}
	cases := []struct {
		name   string
		typ    string
		groups [][]Period
		over   bool
	}{
		{"childminder at the limit", "tagespflege", [][]Period{{open("2026-01-01", 5)}}, false},
		{"childminder over it", "tagespflege", [][]Period{{open("2026-01-01", 6)}}, true},
		{"two groups together", "tagespflege", [][]Period{{open("2026-01-01", 3)}, {open("2027-01-01", 3)}}, true},
		{"one after the other", "tagespflege", [][]Period{{until("2026-01-01", "2027-01-01", 5)}, {open("2027-01-01", 5)}}, false},
		{"Großtagespflege", "grosstagespflege", [][]Period{{open("2026-01-01", 10)}}, false},
		{"Großtagespflege over", "grosstagespflege", [][]Period{{open("2026-01-01", 9)}, {open("2026-06-01", 2)}}, true},
		{"a Kita has no such limit", "kita", [][]Period{{open("2026-01-01", 200)}, {open("2026-01-01", 200)}}, false},
	}
	for _, c := range cases {
		err := CheckLimit(c.typ, limits, c.groups)
		if (err != nil) != c.over {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && (err.Code != "provider_places_limit" || err.Args["max"] != PlacesLimit(c.typ, limits)) {
			t.Errorf("%s: %+v", c.name, err)
		}
	}
	// The limit follows the Land: NRW allows nine in a Großtagespflege.
	if err := CheckLimit("grosstagespflege", tenant.FacilityLimits{TagespflegeMaxPlaces: 5, GrosstagespflegeMaxPlaces: 9}, [][]Period{{open("2026-01-01", 10)}}); err == nil {
		t.Error("NRW's limit of nine was not applied")
	}
}

func TestOccupancyCountsPerGroupAndMonth(t *testing.T) {
	t.Parallel()
	mice, bears := uuid.New(), uuid.New()
	months := MonthsFrom(day("2026-11-21"), 4) // Nov, Dec, Jan, Feb
	groups := []GroupPlaces{
		{ID: mice, Periods: []Period{{From: day("2026-08-01"), Until: day("2027-01-01"), Places: 2}, {From: day("2027-01-01"), Places: 3}}},
		{ID: bears, Periods: []Period{{From: day("2027-01-01"), Places: 10}}}, // opens in January
	}
	holdings := []Holding{
		{Group: mice, From: day("2025-09-01")},                                 // open-ended
		{Group: mice, From: day("2026-09-01"), Until: day("2026-12-01")},       // ends before December
		{Group: mice, From: day("2026-12-15"), Until: day("2027-02-01")},       // starts mid-December
		{Group: mice, From: day("2027-01-01"), Offer: true},                    // an open offer from January
		{Group: uuid.Nil, From: day("2026-01-01")},                             // in no group
		{Group: uuid.New(), From: day("2026-01-01"), Until: day("2026-12-01")}, // in an unknown group
	}
	got := Occupancy(months, groups, holdings)
	want := map[string][]Month{
		"mice": {
			{Month: months[0], Places: 2, Contracted: 2, Free: 0},
			{Month: months[1], Places: 2, Contracted: 2, Free: 0},
			{Month: months[2], Places: 3, Contracted: 2, Offered: 1, Free: 0},
			{Month: months[3], Places: 3, Contracted: 1, Offered: 1, Free: 1},
		},
		"bears": {
			{Month: months[0]}, {Month: months[1]},
			{Month: months[2], Places: 10, Free: 10}, {Month: months[3], Places: 10, Free: 10},
		},
	}
	if !reflect.DeepEqual(got.Groups[mice], want["mice"]) {
		t.Errorf("mice:\n got %+v\nwant %+v", got.Groups[mice], want["mice"])
	}
	if !reflect.DeepEqual(got.Groups[bears], want["bears"]) {
		t.Errorf("bears: %+v", got.Groups[bears])
	}
	if got.Unassigned[0].Contracted != 2 || got.Unassigned[1].Contracted != 1 {
		t.Errorf("unassigned: %+v", got.Unassigned)
	}
	if tot := got.Total[0]; tot.Places != 2 || tot.Contracted != 4 || tot.Free != -2 || !tot.Over() {
		t.Errorf("total in November: %+v", tot)
	}
	if tot := got.Total[3]; tot.Places != 13 || tot.Free != 10 || tot.Over() {
		t.Errorf("total in February: %+v", tot)
	}
}

func TestClosureRules(t *testing.T) {
	t.Parallel()
	today := day("2026-11-21")
	cases := map[string]struct {
		cl   Closure
		want []string
	}{
		"summer":      {Closure{FirstDay: day("2027-07-19"), LastDay: day("2027-08-06"), Reason: "Sommer"}, nil},
		"one day":     {Closure{FirstDay: today, LastDay: today}, nil},
		"reversed":    {Closure{FirstDay: day("2027-08-06"), LastDay: day("2027-07-19")}, []string{"last_day:provider_closure_order"}},
		"past":        {Closure{FirstDay: day("2026-01-01"), LastDay: day("2026-01-02")}, []string{"last_day:provider_closure_past"}},
		"over a year": {Closure{FirstDay: day("2027-01-01"), LastDay: day("2028-06-01")}, []string{"last_day:provider_closure_too_long"}},
		"no days":     {Closure{}, []string{"first_day:required", "last_day:required"}},
		"long reason": {Closure{FirstDay: today, LastDay: today, Reason: string(make([]rune, 201))}, []string{"reason:field_too_long"}},
	}
	for name, c := range cases {
		if got := codes(CheckClosure(c.cl, today)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}

func TestValuesAtTheEdge(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"2027-08-01": "2027-08-01", "1.8.2027": "2027-08-01", " 01.08.2027 ": "2027-08-01"} {
		if d, err := ParseDay("d", in, true); err != nil || d.String() != want {
			t.Errorf("%q: %v %v", in, d, err)
		}
	}
	for in, code := range map[string]string{"": "required", "31.02.2027": "invalid_date", "2027-13-01": "invalid_date", "gestern": "invalid_date"} {
		if _, err := ParseDay("d", in, true); err == nil || err.Code != code {
			t.Errorf("%q: %v, want %s", in, err, code)
		}
	}
	if d, err := ParseDay("d", "", false); err != nil || !d.IsZero() {
		t.Errorf("optional empty day: %v %v", d, err)
	}
	for in, code := range map[string]string{"": "required", "zwölf": "invalid_number", "-1": "number_out_of_range", "201": "number_out_of_range", "1e3": "invalid_number"} {
		if _, err := ParseInt("n", in, 0, 200); err == nil || err.Code != code {
			t.Errorf("%q: %v, want %s", in, err, code)
		}
	}
	for in, want := range map[string]bool{"ja": true, "X": true, "1": true, "nein": false, "": false, "false": false} {
		if b, err := ParseBool("b", in); err != nil || b != want {
			t.Errorf("%q: %v %v", in, b, err)
		}
	}
	if _, err := ParseBool("b", "vielleicht"); err == nil || err.Code != "invalid_boolean" {
		t.Errorf("maybe: %v", err)
	}
}
