package demo

import (
	"math/rand/v2"
	"testing"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

var (
	saxony  = tenant.KitaYear{Start: "08-01", SchoolEntryAge: 6, SchoolCutoff: "06-30"}
	nrw     = tenant.KitaYear{Start: "08-01", SchoolEntryAge: 6, SchoolCutoff: "09-30"}
	bavaria = tenant.KitaYear{Start: "09-01", SchoolEntryAge: 6, SchoolCutoff: "09-30"}
)

func mustCalendar(t *testing.T, ky tenant.KitaYear) calendar {
	t.Helper()
	c, err := newCalendar(ky)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewCalendarRefusesBadDates(t *testing.T) {
	t.Parallel()
	for _, ky := range []tenant.KitaYear{
		{Start: "8-1", SchoolEntryAge: 6, SchoolCutoff: "06-30"},
		{Start: "08-01", SchoolEntryAge: 6, SchoolCutoff: "02-30"},
		{Start: "08-01", SchoolEntryAge: 0, SchoolCutoff: "06-30"},
	} {
		if _, err := newCalendar(ky); err == nil {
			t.Errorf("newCalendar(%+v): want an error", ky)
		}
	}
}

func TestSchoolEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		ky    tenant.KitaYear
		birth string
		want  string
	}{
		{"saxony: six on the cutoff", saxony, "2020-06-30", "2026-08-01"},
		{"saxony: a day too young", saxony, "2020-07-01", "2027-08-01"},
		{"saxony: early in the year", saxony, "2020-01-15", "2026-08-01"},
		{"nrw: six on 30 september enters in august", nrw, "2020-09-30", "2026-08-01"},
		{"nrw: born 1 october waits a year", nrw, "2020-10-01", "2027-08-01"},
		{"nrw: leap day", nrw, "2020-02-29", "2026-08-01"},
		{"bavaria: year starts in september", bavaria, "2020-09-30", "2026-09-01"},
		{"bavaria: christmas child", bavaria, "2020-12-24", "2027-09-01"},
	}
	for _, tt := range tests {
		c := mustCalendar(t, tt.ky)
		if got := c.schoolEntry(date.MustParse(tt.birth)); got.String() != tt.want {
			t.Errorf("%s: schoolEntry(%s) = %s, want %s", tt.name, tt.birth, got, tt.want)
		}
	}
}

func TestYearStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ky         tenant.KitaYear
		day, start string
	}{
		{nrw, "2026-07-31", "2025-08-01"},
		{nrw, "2026-08-01", "2026-08-01"},
		{nrw, "2027-01-15", "2026-08-01"},
		{bavaria, "2026-08-31", "2025-09-01"},
		{bavaria, "2026-09-01", "2026-09-01"},
	}
	for _, tt := range tests {
		if got := mustCalendar(t, tt.ky).yearStart(date.MustParse(tt.day)); got.String() != tt.start {
			t.Errorf("%+v: yearStart(%s) = %s, want %s", tt.ky, tt.day, got, tt.start)
		}
	}
}

func TestFits(t *testing.T) {
	t.Parallel()
	krippe := tenant.AgeBand{Key: "krippe", MinMonths: 0, MaxMonths: 36}
	kiga := tenant.AgeBand{Key: "kindergarten", MinMonths: 36, UntilSchool: true}
	hort := tenant.AgeBand{Key: "hort", MinMonths: 60, MaxMonths: 132, SchoolAge: true}
	on := date.MustParse("2026-11-21")
	tests := []struct {
		band  tenant.AgeBand
		birth string
		want  bool
	}{
		{krippe, "2025-11-22", true},  // 11 months
		{krippe, "2023-11-22", true},  // 35 months
		{krippe, "2023-11-21", false}, // 36 months: too old
		{krippe, "2026-12-01", false}, // not born yet
		{kiga, "2023-11-21", true},    // 36 months
		{kiga, "2023-11-22", false},   // 35 months: too young
		{kiga, "2020-10-01", true},    // school in August 2027
		{kiga, "2020-09-30", false},   // at school since August 2026
		{hort, "2020-09-30", true},    // first grade
		{hort, "2020-10-01", false},   // not at school yet
		{hort, "2015-11-21", false},   // 132 months: too old
	}
	c := mustCalendar(t, nrw)
	for _, tt := range tests {
		if got := c.fits(tt.band, date.MustParse(tt.birth), on); got != tt.want {
			t.Errorf("fits(%s, born %s, on %s) = %v, want %v", tt.band.Key, tt.birth, on, got, tt.want)
		}
	}
}

func TestPlannedEnd(t *testing.T) {
	t.Parallel()
	c := mustCalendar(t, nrw)
	tests := []struct {
		typ, birth, want string
	}{
		{typeKrippe, "2024-03-15", "2027-04-01"}, // through the month of the third birthday
		{typeKrippe, "2024-03-01", "2027-04-01"},
		{typeTagespflege, "2024-12-31", "2028-01-01"},
		{typeKita, "2021-05-05", "2027-08-01"}, // school entry
		{typeKindergarten, "2021-10-01", "2028-08-01"},
		{typeHort, "2019-05-05", "2029-08-01"}, // four school years
	}
	for _, tt := range tests {
		if got := c.plannedEnd(tt.typ, date.MustParse(tt.birth)); got.String() != tt.want {
			t.Errorf("plannedEnd(%s, %s) = %s, want %s", tt.typ, tt.birth, got, tt.want)
		}
	}
}

func TestContractStart(t *testing.T) {
	t.Parallel()
	c := mustCalendar(t, nrw)
	rng := rand.New(rand.NewPCG(3, 4))
	tests := []struct{ earliest, latest string }{
		{"2021-05-17", "2026-11-01"},
		{"2026-10-02", "2026-11-01"},
		{"2026-11-01", "2026-11-01"},
		{"2026-11-05", "2026-11-20"}, // no first of a month in between
	}
	for _, tt := range tests {
		e, l := date.MustParse(tt.earliest), date.MustParse(tt.latest)
		yearStarts := 0
		for range 200 {
			got := c.contractStart(rng, e, l)
			if got.Before(e) || got.After(l) {
				t.Fatalf("contractStart(%s, %s) = %s: outside", e, l, got)
			}
			if got.Day() != 1 && !got.Equal(e) {
				t.Fatalf("contractStart(%s, %s) = %s: neither a first of a month nor the earliest day", e, l, got)
			}
			if got.Month() == 8 && got.Day() == 1 {
				yearStarts++
			}
		}
		if tt.earliest == "2021-05-17" && yearStarts < 80 {
			t.Errorf("only %d of 200 long contracts start at a Kita-year start", yearStarts)
		}
	}
}
