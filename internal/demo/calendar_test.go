package demo

import (
	"math/rand/v2"
	"testing"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

func mustCalendar(t *testing.T, start, cutoff string) calendar {
	t.Helper()
	r := &tenant.Rules{KitaYear: tenant.KitaYear{Start: start, SchoolEntryAge: 6, SchoolCutoff: cutoff}}
	return newCalendar(r)
}

func TestPlannedEnd(t *testing.T) {
	t.Parallel()
	c := mustCalendar(t, "08-01", "09-30")
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
	c := mustCalendar(t, "08-01", "09-30")
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
