package demo

import (
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// loadRules reads the real tenant files, so the profiles are checked against the rules
// they will meet.
func loadRules(t *testing.T) map[string]*tenant.Rules {
	t.Helper()
	loaded, err := tenant.LoadDir(os.DirFS("../../tenants"), "tenants")
	if err != nil {
		t.Fatalf("load tenants: %v", err)
	}
	out := map[string]*tenant.Rules{}
	for _, lr := range loaded {
		out[lr.Rules.Slug] = lr.Rules
	}
	return out
}

// TestBuildInvariants checks the generated rows of every city without a database: every
// child fits its group's band all month, every contract covers the month, care hours
// fit the group, Kindertagespflege respects the Land's limits, names are unique.
func TestBuildInvariants(t *testing.T) {
	t.Parallel()
	rules := loadRules(t)
	for _, today := range []date.Date{date.MustParse("2026-11-21"), date.MustParse("2027-03-15"), date.MustParse("2027-07-31"), date.MustParse("2026-08-20")} {
		for _, slug := range Cities() {
			t.Run(slug+"/"+today.String(), func(t *testing.T) {
				r := rules[slug]
				data, err := build(profiles[slug], r, uuid.New(), today)
				if err != nil {
					t.Fatal(err)
				}
				cal := newCalendar(r)
				checkInvariants(t, data, r, cal, today)
			})
		}
	}
}

func checkInvariants(t *testing.T, d *dataset, r *tenant.Rules, cal calendar, today date.Date) {
	t.Helper()
	facilities := map[uuid.UUID]facilityRow{}
	names := map[string]bool{}
	for _, f := range d.facilities {
		facilities[f.ID] = f
		if names[f.Name] {
			t.Errorf("facility name %q twice", f.Name)
		}
		names[f.Name] = true
		if f.Lat < 47 || f.Lat > 55.1 || f.Lon < 5.8 || f.Lon > 15.1 {
			t.Errorf("%s lies outside Germany: %v,%v", f.Name, f.Lat, f.Lon)
		}
		if f.AgeMaxMonths <= f.AgeMinMonths {
			t.Errorf("%s: age range %d–%d", f.Name, f.AgeMinMonths, f.AgeMaxMonths)
		}
		if len(f.Concepts) > 3 {
			t.Errorf("%s: %d concepts", f.Name, len(f.Concepts))
		}
	}
	groups := map[uuid.UUID]groupRow{}
	for _, g := range d.groups {
		groups[g.ID] = g
		if !slices.Contains(r.CareScopes, g.CareHours) {
			t.Errorf("group %s: care hours %d not a scope of %v", g.Name, g.CareHours, r.CareScopes)
		}
	}
	placesNow := map[uuid.UUID]int{} // per group, valid today
	for _, c := range d.capacities {
		if !c.ValidFrom.After(today) && (c.ValidUntil.IsZero() || c.ValidUntil.After(today)) {
			placesNow[c.GroupID] += c.Places
		}
		g := groups[c.GroupID]
		f := facilities[g.FacilityID]
		switch f.Type {
		case typeTagespflege:
			if c.Places > r.FacilityLimits.TagespflegeMaxPlaces {
				t.Errorf("%s: %d places, limit %d", f.Name, c.Places, r.FacilityLimits.TagespflegeMaxPlaces)
			}
		case typeGrosstagespflege:
			if c.Places > r.FacilityLimits.GrosstagespflegeMaxPlaces {
				t.Errorf("%s: %d places, limit %d", f.Name, c.Places, r.FacilityLimits.GrosstagespflegeMaxPlaces)
			}
		}
	}
	births := map[uuid.UUID]date.Date{}
	for _, c := range d.children {
		births[c.ID] = c.BirthDate
	}
	occupied, places := 0, 0
	for _, n := range placesNow {
		places += n
	}
	seenChild := map[uuid.UUID]bool{}
	for _, c := range d.contracts {
		g, f := groups[c.GroupID], facilities[c.FacilityID]
		if g.FacilityID != f.ID {
			t.Fatalf("contract %s: group of another facility", c.ID)
		}
		if seenChild[c.ChildID] {
			t.Errorf("child %s has two contracts", c.ChildID)
		}
		seenChild[c.ChildID] = true
		birth := births[c.ChildID]
		band, _ := r.AgeBand(g.AgeBand)
		if !cal.Fits(band, birth, today) {
			t.Errorf("%s, group %s (%s): child born %s does not fit on %s", f.Name, g.Name, g.AgeBand, birth, today)
		}
		if age := birth.MonthsUntil(today); age < f.AgeMinMonths || age >= f.AgeMaxMonths {
			t.Errorf("%s (%d–%d months): child aged %d months", f.Name, f.AgeMinMonths, f.AgeMaxMonths, age)
		}
		if c.StartDate.After(today) || !c.EndDate.After(today) {
			t.Errorf("%s: contract %s–%s does not cover %s", f.Name, c.StartDate, c.EndDate, today)
		}
		if c.StartDate.Before(birth) {
			t.Errorf("%s: contract starts %s before birth %s", f.Name, c.StartDate, birth)
		}
		if want := cal.plannedEnd(f.Type, birth); !c.EndDate.Equal(want) {
			t.Errorf("%s: contract ends %s, want %s", f.Name, c.EndDate, want)
		}
		if c.CareHours > g.CareHours || !slices.Contains(r.CareScopes, c.CareHours) {
			t.Errorf("%s: contract of %d hours in a group of %d", f.Name, c.CareHours, g.CareHours)
		}
		occupied++
	}
	if len(d.families) != len(d.children) || len(d.children) != len(d.contracts) {
		t.Errorf("%d families, %d children, %d contracts", len(d.families), len(d.children), len(d.contracts))
	}
	rate := float64(occupied) / float64(places)
	t.Logf("%d facilities, %d groups, %d places today, %d contracts (%.1f %%)", len(d.facilities), len(d.groups), places, occupied, 100*rate)
	if rate < 0.85 || rate > 0.97 {
		t.Errorf("occupancy %.3f, want 0.85–0.97", rate)
	}
}

// TestBuildIsDeterministic: the same input gives the same rows; another month changes
// only children and contracts.
func TestBuildIsDeterministic(t *testing.T) {
	t.Parallel()
	rules := loadRules(t)
	id := uuid.New()
	for _, slug := range Cities() {
		a, err := build(profiles[slug], rules[slug], id, date.MustParse("2026-11-03"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := build(profiles[slug], rules[slug], id, date.MustParse("2026-11-28"))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two days of one month give different data", slug)
		}
		c, err := build(profiles[slug], rules[slug], id, date.MustParse("2027-02-10"))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.facilities, c.facilities) || !reflect.DeepEqual(a.groups, c.groups) || !reflect.DeepEqual(a.capacities, c.capacities) {
			t.Errorf("%s: facilities depend on the month", slug)
		}
		if reflect.DeepEqual(a.children, c.children) {
			t.Errorf("%s: children did not change with the month", slug)
		}
		// A later month keeps every contract id and adds only the January groups' children.
		later := map[uuid.UUID]bool{}
		for _, k := range c.contracts {
			later[k.ID] = true
		}
		for _, k := range a.contracts {
			if !later[k.ID] {
				t.Fatalf("%s: contract %s of November is gone in February", slug, k.ID)
			}
		}
		if profiles[slug].openingGroups > 0 && len(c.contracts) <= len(a.contracts) {
			t.Errorf("%s: %d contracts in November, %d in February: the January groups stayed empty", slug, len(a.contracts), len(c.contracts))
		}
	}
}

func TestFitTotal(t *testing.T) {
	t.Parallel()
	mk := func(places ...int) []*groupPlan {
		var gs []*groupPlan
		for _, p := range places {
			gs = append(gs, &groupPlan{places: p, min: 10, max: 15})
		}
		return gs
	}
	sum := func(gs []*groupPlan) int {
		n := 0
		for _, g := range gs {
			n += g.places
			if g.places < g.min || g.places > g.max {
				t.Errorf("group outside its bounds: %d", g.places)
			}
		}
		return n
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, target := range []int{30, 36, 40, 45} {
		gs := mk(12, 12, 12)
		if err := fitTotal(rng, gs, target); err != nil {
			t.Errorf("target %d: %v", target, err)
		} else if got := sum(gs); got != target {
			t.Errorf("target %d: got %d", target, got)
		}
	}
	for _, target := range []int{29, 46} {
		if err := fitTotal(rng, mk(12, 12, 12), target); err == nil {
			t.Errorf("target %d: want an error, the bounds do not allow it", target)
		}
	}
}

func TestApportion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n       int
		weights []int
		want    []int
	}{
		{10, []int{1, 1}, []int{5, 5}},
		{7, []int{3, 2, 2}, []int{3, 2, 2}},
		{5, []int{1, 1, 1}, []int{2, 2, 1}},
		{0, []int{4, 1}, []int{0, 0}},
	}
	for _, tt := range tests {
		if got := apportion(tt.n, tt.weights); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("apportion(%d, %v) = %v, want %v", tt.n, tt.weights, got, tt.want)
		}
	}
}
