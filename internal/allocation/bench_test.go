package allocation

import (
	"sort"
	"testing"
)

// The engine against the plainest deferred acceptance one can write (below, singles
// only, no explanations), on the same markets: Berlin-sized (100,000 children, 3,000
// facilities, 10 choices, 2 bands × 3 scopes) and Bochum-sized (8,861 children, 190
// facilities, 5 choices). Run with make bench-allocation; the ratio is the figure.

func BenchmarkEngineBerlin(b *testing.B) {
	benchEngine(b, randomMarket(1, 100_000, 3_000, 10, 0.8, false))
}
func BenchmarkMinimalBerlin(b *testing.B) {
	benchMinimal(b, randomMarket(1, 100_000, 3_000, 10, 0.8, false))
}
func BenchmarkEngineBochum(b *testing.B) { benchEngine(b, randomMarket(2, 8_861, 190, 5, 0.8, false)) }
func BenchmarkMinimalBochum(b *testing.B) {
	benchMinimal(b, randomMarket(2, 8_861, 190, 5, 0.8, false))
}

// With siblings (one child in ten applies with a twin): the joint proposals and the
// reopening of seats they leave.
func BenchmarkEngineBerlinSiblings(b *testing.B) {
	benchEngine(b, randomMarket(1, 100_000, 3_000, 10, 0.8, true))
}

func benchEngine(b *testing.B, m *Market) {
	b.ReportAllocs()
	placed := 0
	for b.Loop() {
		placed = 0
		for _, f := range Run(m).Assignments {
			if f != nil {
				placed++
			}
		}
	}
	b.ReportMetric(float64(placed), "placed")
}

func benchMinimal(b *testing.B, m *Market) {
	b.ReportAllocs()
	placed := 0
	for b.Loop() {
		placed = minimalDA(m)
	}
	b.ReportMetric(float64(placed), "placed")
}

// minimalDA is textbook child-proposing deferred acceptance over typed seats, for the
// comparison only: a stack of free children, each facility's kept children per type.
func minimalDA(m *Market) int {
	fidx := make(map[string]int, len(m.Facilities))
	for i, f := range m.Facilities {
		fidx[f.ID] = i
	}
	type key struct {
		f int
		t SeatType
	}
	held := map[key][]int{}
	next := make([]int, len(m.Children))
	prio := func(f, c int) (int, float64, string) {
		ch := &m.Children[c]
		return ch.Points + ch.Local[m.Facilities[f].ID], ch.Tiebreak, ch.ID
	}
	better := func(f, a, b int) bool {
		pa, ta, ia := prio(f, a)
		pb, tb, ib := prio(f, b)
		if pa != pb {
			return pa > pb
		}
		if ta != tb {
			return ta < tb
		}
		return ia < ib
	}
	free := make([]int, len(m.Children))
	for i := range free {
		free[i] = i
	}
	for len(free) > 0 {
		c := free[len(free)-1]
		free = free[:len(free)-1]
		ch := &m.Children[c]
		for next[c] < len(ch.Prefs) {
			f := fidx[ch.Prefs[next[c]]]
			next[c]++
			k := key{f, ch.Type()}
			cap := m.Facilities[f].Seats[k.t]
			if cap == 0 {
				continue
			}
			list := held[k]
			i := sort.Search(len(list), func(i int) bool { return better(f, c, list[i]) })
			if i >= cap {
				continue
			}
			list = append(list, 0)
			copy(list[i+1:], list[i:])
			list[i] = c
			if len(list) > cap {
				free = append(free, list[cap])
				list = list[:cap]
			}
			held[k] = list
			break
		}
	}
	n := 0
	for _, l := range held {
		n += len(l)
	}
	return n
}

// The minimal DA and the engine agree on markets without siblings (both give the
// child-optimal stable matching, which is unique).
func TestEngineAgreesWithTheMinimalDA(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		m := randomMarket(seed, 500, 20, 5, 0.7, false)
		placed := 0
		for _, f := range Run(m).Assignments {
			if f != nil {
				placed++
			}
		}
		if want := minimalDA(m); placed != want {
			t.Fatalf("seed %d: engine placed %d, minimal DA %d", seed, placed, want)
		}
	}
}
