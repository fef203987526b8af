package tenant

import (
	"testing"

	"kitaportal/internal/platform/date"
)

func calendarOf(start, cutoff string, bands ...AgeBand) Calendar {
	r := &Rules{KitaYear: KitaYear{Start: start, SchoolCutoff: cutoff, SchoolEntryAge: 6}, AgeBands: bands}
	return r.Calendar()
}

var (
	krippe = AgeBand{Key: "krippe", MinMonths: 0, MaxMonths: 36}
	kiga   = AgeBand{Key: "kindergarten", MinMonths: 36, UntilSchool: true}
	hort   = AgeBand{Key: "hort", MinMonths: 60, MaxMonths: 132, SchoolAge: true}

	saxony  = calendarOf("08-01", "06-30", krippe, kiga, hort)
	nrw     = calendarOf("08-01", "09-30", krippe, kiga, hort)
	bavaria = calendarOf("09-01", "09-30", krippe, kiga, hort)
)

func TestSchoolEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cal   Calendar
		birth string
		want  string
	}{
		{"saxony: six on the cut-off day", saxony, "2020-06-30", "2026-08-01"},
		{"saxony: a day too young", saxony, "2020-07-01", "2027-08-01"},
		{"saxony: early in the year", saxony, "2020-01-15", "2026-08-01"},
		{"nrw: six on 30 september enters in august", nrw, "2020-09-30", "2026-08-01"},
		{"nrw: born 1 october waits a year", nrw, "2020-10-01", "2027-08-01"},
		{"nrw: leap day", nrw, "2020-02-29", "2026-08-01"},
		{"bavaria: year starts in september", bavaria, "2020-09-30", "2026-09-01"},
		{"bavaria: christmas child", bavaria, "2020-12-24", "2027-09-01"},
	}
	for _, tt := range tests {
		if got := tt.cal.SchoolEntry(date.MustParse(tt.birth)); got.String() != tt.want {
			t.Errorf("%s: SchoolEntry(%s) = %s, want %s", tt.name, tt.birth, got, tt.want)
		}
	}
}

func TestYearStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cal        Calendar
		day, start string
	}{
		{nrw, "2026-07-31", "2025-08-01"},
		{nrw, "2026-08-01", "2026-08-01"},
		{nrw, "2027-01-15", "2026-08-01"},
		{bavaria, "2026-08-31", "2025-09-01"},
		{bavaria, "2026-09-01", "2026-09-01"},
	}
	for _, tt := range tests {
		if got := tt.cal.YearStart(date.MustParse(tt.day)); got.String() != tt.start {
			t.Errorf("YearStart(%s) = %s, want %s", tt.day, got, tt.start)
		}
	}
}

func TestFitsAndBandAt(t *testing.T) {
	t.Parallel()
	on := date.MustParse("2026-11-21")
	tests := []struct {
		band  AgeBand
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
	for _, tt := range tests {
		if got := nrw.Fits(tt.band, date.MustParse(tt.birth), on); got != tt.want {
			t.Errorf("Fits(%s, born %s) = %v, want %v", tt.band.Key, tt.birth, got, tt.want)
		}
	}
	bands := map[string]string{"2025-03-14": "krippe", "2022-01-01": "kindergarten", "2019-05-05": "hort", "2010-01-01": ""}
	for birth, want := range bands {
		b, ok := nrw.BandAt(date.MustParse(birth), on)
		if b.Key != want || ok != (want != "") {
			t.Errorf("BandAt(%s) = %q %v, want %q", birth, b.Key, ok, want)
		}
	}
}
