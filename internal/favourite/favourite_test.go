package favourite

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func ids(n int) []uuid.UUID {
	out := make([]uuid.UUID, n)
	for i := range out {
		out[i] = uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint(i)))
	}
	return out
}

func TestParseKeepsOnlyIDs(t *testing.T) {
	t.Parallel()
	a, b := ids(2)[0], ids(2)[1]
	tests := []struct {
		value string
		want  []uuid.UUID
	}{
		{"", nil},
		{a.String(), []uuid.UUID{a}},
		{a.String() + "," + b.String(), []uuid.UUID{a, b}},
		{" " + a.String() + " ,, " + a.String() + ",<script>," + uuid.Nil.String() + "," + b.String(), []uuid.UUID{a, b}},
		{strings.Repeat("x,", 1000), nil},
	}
	for _, tt := range tests {
		if got := Parse(tt.value); !slices.Equal(got, tt.want) {
			t.Errorf("Parse(%.40q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}

func TestTheListKeepsTheNewestTwenty(t *testing.T) {
	t.Parallel()
	all := ids(Max + 5)
	var list []uuid.UUID
	for _, id := range all {
		list = Add(list, id)
	}
	if len(list) != Max || list[0] != all[5] || list[Max-1] != all[len(all)-1] {
		t.Fatalf("after %d adds: %d kept, first %v", len(all), len(list), list[0])
	}
	if got := Parse(Format(all)); !slices.Equal(got, all[5:]) {
		t.Error("a cookie with too many ids keeps the newest")
	}
	// Adding one that is there moves it to the end; removing drops it.
	list = Add(list, all[5])
	if list[Max-1] != all[5] || len(list) != Max {
		t.Errorf("re-adding: %v", list[Max-1])
	}
	list = Remove(list, all[5])
	if slices.Contains(list, all[5]) || len(list) != Max-1 {
		t.Error("remove")
	}
	if Format(Parse(Format(list))) != Format(list) {
		t.Error("format and parse do not round-trip")
	}
}
