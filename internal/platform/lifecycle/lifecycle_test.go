package lifecycle

import (
	"slices"
	"testing"
)

type light string
type push string

func TestTable(t *testing.T) {
	t.Parallel()
	tb := New([]light{"red", "green", "yellow", "off"}, map[light]map[push]light{
		"red":    {"go": "green", "off": "off"},
		"green":  {"slow": "yellow", "off": "off"},
		"yellow": {"stop": "red"},
	})
	if to, ok := tb.Next("red", "go"); !ok || to != "green" {
		t.Errorf("red go = %q %v", to, ok)
	}
	if _, ok := tb.Next("red", "slow"); ok {
		t.Error("red slow is allowed")
	}
	if _, ok := tb.Next("off", "go"); ok {
		t.Error("a final status moves")
	}
	if got := tb.From("off"); !slices.Equal(got, []light{"red", "green"}) {
		t.Errorf("From(off) = %v", got)
	}
	from, to := tb.Pairs("off")
	if !slices.Equal(from, []string{"red", "green"}) || !slices.Equal(to, []string{"off", "off"}) {
		t.Errorf("Pairs(off) = %v %v", from, to)
	}
	if from, to := tb.Pairs("nothing"); from != nil || to != nil {
		t.Errorf("Pairs of an unknown event = %v %v", from, to)
	}
}
