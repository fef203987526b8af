package tenant_test

import (
	"testing"

	"kitaportal/internal/tenant"
)

// The fee of a scope is the band's row with the smallest bound that covers it; amounts
// come out in whole cents however the decimal sits in a float.
func TestFeeIsTheSmallestRowCoveringTheScope(t *testing.T) {
	t.Parallel()
	r := &tenant.Rules{Contract: tenant.Contract{Fees: []tenant.Fee{
		{Band: "krippe", MaxHours: 30, MonthlyEUR: 245.50},
		{Band: "krippe", MaxHours: 45, MonthlyEUR: 290.10},
		{Band: "kindergarten", MaxHours: 45, MonthlyEUR: 0},
		{Band: "hort", MaxHours: 50, MonthlyEUR: 0.29},
	}}}
	cases := []struct {
		band  string
		hours int
		cents int
		ok    bool
	}{
		{"krippe", 1, 24550, true},
		{"krippe", 30, 24550, true}, // the bound is inclusive
		{"krippe", 31, 29010, true},
		{"krippe", 45, 29010, true},
		{"krippe", 46, 0, false}, // beyond the table: no fee, not the largest one
		{"kindergarten", 20, 0, true},
		{"hort", 50, 29, true},
		{"wiege", 20, 0, false},
		{"", 0, 0, false},
	}
	for _, c := range cases {
		if cents, ok := r.Fee(c.band, c.hours); cents != c.cents || ok != c.ok {
			t.Errorf("Fee(%q, %d) = %d %v, want %d %v", c.band, c.hours, cents, ok, c.cents, c.ok)
		}
	}
	if _, ok := (&tenant.Rules{}).Fee("krippe", 30); ok {
		t.Error("a city without a fee table has a fee")
	}
}
