package allocation

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// randomMarket is a market of n children and f facilities with two bands and three
// scopes, k choices each, seats for about ratio of the children; siblings pairs share
// band and hours when pairs is set.
func randomMarket(seed uint64, n, f, k int, ratio float64, pairs bool) *Market {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := &Market{}
	bands, hours := []string{"krippe", "kindergarten"}, []int{25, 35, 45}
	total := int(float64(n) * ratio)
	for i := range f {
		fac := Facility{ID: fmt.Sprintf("f%d", i), Seats: map[SeatType]int{}}
		for range total / f {
			fac.Seats[TypeOf(bands[rng.IntN(2)], hours[rng.IntN(3)])]++
		}
		m.Facilities = append(m.Facilities, fac)
	}
	for i := 0; i < n; i++ {
		c := Child{ID: fmt.Sprintf("c%d", i), Band: bands[rng.IntN(2)], Hours: hours[rng.IntN(3)], Points: rng.IntN(8),
			Tiebreak: rng.Float64(), Local: map[string]int{}}
		for _, p := range rng.Perm(f)[:min(k, f)] {
			c.Prefs = append(c.Prefs, fmt.Sprintf("f%d", p))
		}
		if rng.IntN(5) == 0 {
			c.Local[c.Prefs[0]] = 4 // a sibling already there, say
		}
		m.Children = append(m.Children, c)
		if pairs && rng.IntN(10) == 0 && i+1 < n {
			twin := c
			twin.ID = fmt.Sprintf("c%d", i+1)
			twin.Tiebreak = rng.Float64()
			of := c.ID
			twin.TwinOf = &of
			m.Children = append(m.Children, twin)
			i++
		}
	}
	return m
}

// violations lists every child that prefers a facility over what it got where a seat
// of its type is empty (waste) or taken by a child that facility ranks below it
// (justified envy). Siblings' joint placements are exempt when skipSiblings is set.
func violations(m *Market, r *Result, skipSiblings bool) []string {
	e := newEngine(m)
	index := map[string]int{}
	for i := range m.Children {
		index[m.Children[i].ID] = i
	}
	held := map[string]map[SeatType][]int{}
	for id, f := range r.Assignments {
		if f == nil {
			continue
		}
		if held[*f] == nil {
			held[*f] = map[SeatType][]int{}
		}
		t := m.Children[index[id]].Type()
		held[*f][t] = append(held[*f][t], index[id])
	}
	var out []string
	for i, c := range m.Children {
		if skipSiblings && (c.TwinOf != nil || isNamedTwin(m, c.ID)) {
			continue
		}
		got := len(c.Prefs)
		if f := r.Assignments[c.ID]; f != nil {
			got = slices.Index(c.Prefs, *f)
		}
		for _, fid := range c.Prefs[:got] {
			f := e.facilities[fid]
			t := c.Type()
			list := held[fid][t]
			if len(list) < m.Facilities[f].Seats[t] {
				out = append(out, fmt.Sprintf("waste: %s wants %s, a %s seat is empty", c.ID, fid, t))
				continue
			}
			for _, o := range list {
				if e.before(f, i, o) {
					out = append(out, fmt.Sprintf("envy: %s wants %s, which keeps %s ranked below it", c.ID, fid, m.Children[o].ID))
				}
			}
		}
	}
	return out
}

func isNamedTwin(m *Market, id string) bool {
	for _, c := range m.Children {
		if c.TwinOf != nil && *c.TwinOf == id {
			return true
		}
	}
	return false
}

// Without siblings the matching is stable: no justified envy, no waste, no seat over
// capacity; the same market gives the same matching.
func TestRandomMarketsAreStableAndDeterministic(t *testing.T) {
	t.Parallel()
	for seed := range uint64(60) {
		m := randomMarket(seed, 300, 12, 4, 0.7, false)
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		r := Run(m)
		if v := violations(m, r, false); len(v) > 0 {
			t.Fatalf("seed %d: %d violations, e.g. %s", seed, len(v), v[0])
		}
		if !reflect.DeepEqual(r, Run(m)) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
		count := map[string]map[SeatType]int{}
		for id, f := range r.Assignments {
			if f != nil {
				c := m.Children[slices.IndexFunc(m.Children, func(c Child) bool { return c.ID == id })]
				if count[*f] == nil {
					count[*f] = map[SeatType]int{}
				}
				count[*f][c.Type()]++
				if !slices.Contains(c.Prefs, *f) {
					t.Fatalf("seed %d: %s placed at %s it did not choose", seed, id, *f)
				}
			}
		}
		for _, f := range m.Facilities {
			for typ, n := range count[f.ID] {
				if n > f.Seats[typ] {
					t.Fatalf("seed %d: %s holds %d of %d %s seats", seed, f.ID, n, f.Seats[typ], typ)
				}
			}
		}
	}
}

// A family never gains by listing its choices in another order (sampled: every child
// of small markets tries every swap of two choices and dropping its first).
func TestNoChildGainsByMisreporting(t *testing.T) {
	t.Parallel()
	for seed := range uint64(15) {
		m := randomMarket(seed, 40, 5, 3, 0.6, false)
		truth := Run(m)
		for i := range m.Children {
			c := &m.Children[i]
			honest := rank(c.Prefs, truth.Assignments[c.ID])
			orig := slices.Clone(c.Prefs)
			var lies [][]string
			for a := range orig {
				for b := a + 1; b < len(orig); b++ {
					l := slices.Clone(orig)
					l[a], l[b] = l[b], l[a]
					lies = append(lies, l)
				}
			}
			lies = append(lies, orig[1:])
			for _, l := range lies {
				c.Prefs = l
				got := rank(orig, Run(m).Assignments[c.ID])
				if got < honest {
					t.Fatalf("seed %d: %s gets choice %d by listing %v instead of %d", seed, c.ID, got, l, honest)
				}
			}
			c.Prefs = orig
		}
	}
}

// rank is the place of f in prefs (0 best), or len(prefs) for none.
func rank(prefs []string, f *string) int {
	if f == nil {
		return len(prefs)
	}
	return slices.Index(prefs, *f)
}

func ptr(s string) *string { return &s }

// The market where plain DA splits twins: one seat left at their first choice A, where
// the twin ranked first would take it alone. The engine places them together at B.
func TestTwinsArePlacedTogether(t *testing.T) {
	t.Parallel()
	m := &Market{
		Facilities: []Facility{{ID: "A", Seats: map[SeatType]int{"krippe/35": 2}}, {ID: "B", Seats: map[SeatType]int{"krippe/35": 2}}},
		Children: []Child{
			{ID: "anna", Band: "krippe", Hours: 35, Prefs: []string{"A", "B"}, Points: 9, Tiebreak: 0.1},
			{ID: "twin1", Band: "krippe", Hours: 35, Prefs: []string{"A", "B"}, Points: 5, Tiebreak: 0.2, TwinOf: ptr("twin2")},
			{ID: "twin2", Band: "krippe", Hours: 35, Prefs: []string{"A", "B"}, Points: 5, Tiebreak: 0.3, TwinOf: ptr("twin1")},
			{ID: "ben", Band: "krippe", Hours: 35, Prefs: []string{"A"}, Points: 1, Tiebreak: 0.4},
		},
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	// Plain DA (siblings ignored): twin1 takes A's second seat, twin2 goes to B.
	plain := *m
	plain.Children = slices.Clone(m.Children)
	for i := range plain.Children {
		plain.Children[i].TwinOf = nil
	}
	if p := Run(&plain).Assignments; *p["twin1"] == *p["twin2"] {
		t.Fatalf("the market should split twins under plain DA: %v", p)
	}
	r := Run(m)
	if a := r.Assignments; a["twin1"] == nil || a["twin2"] == nil || *a["twin1"] != "B" || *a["twin2"] != "B" || *a["anna"] != "A" || *a["ben"] != "A" {
		t.Fatalf("assignments %v", show(a))
	}
	x := r.Explanations["twin1"]
	if x.Choice != 2 || x.Apart || len(x.Above) != 1 || x.Above[0].Reason != ReasonSiblings || !slices.Equal(x.Siblings, []string{"twin2"}) {
		t.Errorf("twin1's explanation %+v", x)
	}
	if v := violations(m, r, true); len(v) > 0 {
		t.Errorf("the singles' side is not stable: %v", v)
	}
}

// Twins who cannot be placed together anywhere go on alone, and the result says so.
func TestTwinsWithoutAJointPlacementAreToldWhy(t *testing.T) {
	t.Parallel()
	m := &Market{
		Facilities: []Facility{{ID: "A", Seats: map[SeatType]int{"krippe/35": 1}}, {ID: "B", Seats: map[SeatType]int{"krippe/35": 1}}},
		Children: []Child{
			{ID: "t1", Band: "krippe", Hours: 35, Prefs: []string{"A", "B"}, Points: 5, TwinOf: ptr("t2")},
			{ID: "t2", Band: "krippe", Hours: 35, Prefs: []string{"A", "B"}, Points: 5, Tiebreak: 0.5},
		},
	}
	r := Run(m)
	if a := r.Assignments; a["t1"] == nil || a["t2"] == nil || *a["t1"] == *a["t2"] {
		t.Fatalf("assignments %v", show(a))
	}
	if !r.Explanations["t1"].Apart || !r.Explanations["t2"].Apart {
		t.Errorf("explanations %+v", r.Explanations)
	}
}

// The explanation names the choices above the one a child got and what decided each.
func TestExplanationsNameWhatDecided(t *testing.T) {
	t.Parallel()
	seats := map[SeatType]int{"krippe/35": 1}
	m := &Market{
		Facilities: []Facility{{ID: "A", Seats: seats}, {ID: "B", Seats: seats}, {ID: "C", Seats: seats}, {ID: "D", Seats: map[SeatType]int{"krippe/45": 3}}, {ID: "E", Seats: seats}},
		Children: []Child{
			{ID: "a", Band: "krippe", Hours: 35, Prefs: []string{"A"}, Points: 9},
			{ID: "b", Band: "krippe", Hours: 35, Prefs: []string{"B"}, Points: 3, Local: map[string]int{"B": 4}},
			{ID: "c", Band: "krippe", Hours: 35, Prefs: []string{"C"}, Points: 5, Tiebreak: 0.1},
			{ID: "me", Band: "krippe", Hours: 35, Prefs: []string{"A", "B", "C", "D", "E"}, Points: 5, Tiebreak: 0.9},
		},
	}
	x := Run(m).Explanations["me"]
	if x.Placed == nil || *x.Placed != "E" || x.Choice != 5 {
		t.Fatalf("%+v", x)
	}
	want := []Denial{{"A", 1, ReasonPoints, "a"}, {"B", 2, ReasonLocal, "b"}, {"C", 3, ReasonTiebreak, "c"}, {"D", 4, ReasonNoSeats, ""}}
	if !reflect.DeepEqual(x.Above, want) {
		t.Errorf("above = %+v, want %+v", x.Above, want)
	}
}

func show(a map[string]*string) string {
	var parts []string
	for k, v := range a {
		f := "-"
		if v != nil {
			f = *v
		}
		parts = append(parts, k+"="+f)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func TestInvalidMarketsAreRefusedWithTheRow(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		json, want string
	}{
		{`{"facilities":[{"id":"A","seats":{"krippe/35":-1}}],"children":[]}`, `facilities[0].seats["krippe/35"]: -1 seats`},
		{`{"facilities":[{"id":"A","seats":{"krippe":1}}],"children":[]}`, `is not <band>/<hours>`},
		{`{"facilities":[{"id":"A","seats":{}},{"id":"A","seats":{}}],"children":[]}`, `facilities[1]: id "A" is used twice`},
		{`{"facilities":[{"id":"A","seats":{}}],"children":[{"id":"x","band":"krippe","hours":35,"prefs":["B"]}]}`, `children[0].prefs: unknown facility "B"`},
		{`{"facilities":[{"id":"A","seats":{}}],"children":[{"id":"x","band":"krippe","hours":35,"prefs":["A","A"]}]}`, `listed twice`},
		{`{"facilities":[],"children":[{"id":"x","band":"k","hours":35,"prefs":[]},{"id":"x","band":"k","hours":35,"prefs":[]}]}`, `children[1]: id "x" is used twice`},
		{`{"facilities":[],"children":[{"id":"x","band":"k","hours":35,"prefs":[],"twin_of":"y"}]}`, `unknown child "y"`},
		{`{"facilities":[],"children":[{"id":"x","band":"k","hours":35,"prefs":[],"twin_of":"x"}]}`, `its own sibling`},
		{`{"facilities":[],"children":[{"id":"a","band":"k","hours":1,"prefs":[],"twin_of":"b"},{"id":"b","band":"k","hours":1,"prefs":[],"twin_of":"c"},{"id":"c","band":"k","hours":1,"prefs":[],"twin_of":"a"}]}`, `cycle`},
		{`{"facilities":[],"children":[],"extra":1}`, `not a market file`},
	} {
		_, err := ReadMarket(strings.NewReader(c.json))
		if !errors.Is(err, ErrMarket) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.json, err, c.want)
		}
	}
	if _, err := ReadMarket(strings.NewReader(`{"facilities":[],"children":[{"id":"a","band":"k","hours":1,"prefs":[],"twin_of":"b"},{"id":"b","band":"k","hours":1,"prefs":[],"twin_of":"a"}]}`)); err != nil {
		t.Errorf("a pair naming each other: %v", err)
	}
}

// With siblings in the market the children without siblings keep a stable matching:
// seats a pushed-out group leaves are offered again (reopen).
func TestMarketsWithSiblingsStayStableForSingles(t *testing.T) {
	t.Parallel()
	unstable := 0
	for seed := range uint64(40) {
		m := randomMarket(seed, 300, 12, 4, 0.7, true)
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		r := Run(m)
		if len(violations(m, r, true)) > 0 {
			unstable++
		}
		for id, x := range r.Explanations {
			c := m.Children[slices.IndexFunc(m.Children, func(c Child) bool { return c.ID == id })]
			if c.TwinOf != nil && !x.Apart && !reflect.DeepEqual(r.Assignments[id], r.Assignments[*c.TwinOf]) {
				t.Fatalf("seed %d: %s and its twin are apart without saying so", seed, id)
			}
		}
	}
	if unstable > 0 {
		t.Errorf("%d of 40 markets with siblings left a single with justified envy", unstable)
	}
}

// withLarger lets every child of m take the larger seat types of its band, smallest
// first, as a city allowing it does.
func withLarger(m *Market) {
	for i := range m.Children {
		c := &m.Children[i]
		for _, h := range []int{25, 35, 45} {
			if h > c.Hours {
				c.Larger = append(c.Larger, TypeOf(c.Band, h))
			}
		}
	}
}

// Children who may take larger seats are matched stably over (facility, seat type)
// pairs: no child prefers a pair with an empty seat or with a seat held by a child the
// facility ranks below it; no seat type is over capacity; nobody holds a type it may
// not take.
func TestLargerSeatsKeepTheMatchingStable(t *testing.T) {
	t.Parallel()
	larger := 0
	for seed := range uint64(60) {
		m := randomMarket(seed, 300, 12, 4, 0.7, false)
		withLarger(m)
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		r := Run(m)
		if !reflect.DeepEqual(r, Run(m)) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
		e := newEngine(m)
		index := map[string]int{}
		for i := range m.Children {
			index[m.Children[i].ID] = i
		}
		held := map[string]map[SeatType][]int{}
		for id, x := range r.Explanations {
			if x.Placed == nil {
				continue
			}
			c := &m.Children[index[id]]
			if x.Seat != c.Type() {
				larger++
				if !slices.Contains(c.Larger, x.Seat) {
					t.Fatalf("seed %d: %s holds a %s seat it may not take", seed, id, x.Seat)
				}
			}
			if held[*x.Placed] == nil {
				held[*x.Placed] = map[SeatType][]int{}
			}
			held[*x.Placed][x.Seat] = append(held[*x.Placed][x.Seat], index[id])
		}
		for _, fac := range m.Facilities {
			for typ, list := range held[fac.ID] {
				if len(list) > fac.Seats[typ] {
					t.Fatalf("seed %d: %s holds %d of %d %s seats", seed, fac.ID, len(list), fac.Seats[typ], typ)
				}
			}
		}
		for i, c := range m.Children {
			x := r.Explanations[c.ID]
			mine := len(c.Prefs) * (len(c.Larger) + 1)
			if x.Placed != nil {
				mine = e.pair(i, e.facilities[*x.Placed], x.Seat)
			}
			for _, fid := range c.Prefs {
				for _, typ := range e.children[i].fits {
					f := e.facilities[fid]
					if e.pair(i, f, typ) >= mine {
						continue
					}
					list := held[fid][typ]
					if len(list) < m.Facilities[f].Seats[typ] {
						t.Fatalf("seed %d: %s wants %s %s, a seat is empty", seed, c.ID, fid, typ)
					}
					for _, o := range list {
						if e.before(f, i, o) {
							t.Fatalf("seed %d: %s wants %s %s, held by %s ranked below it", seed, c.ID, fid, typ, m.Children[o].ID)
						}
					}
				}
			}
		}
	}
	if larger == 0 {
		t.Fatal("no child took a larger seat: the markets test nothing")
	}
}

// The engine's matching has no justified envy among singles; moving one child to a
// seat another child ranks higher for creates exactly that envy, and the checker names it.
func TestEnvyOfNamesWhatAChangeIntroduces(t *testing.T) {
	t.Parallel()
	m := &Market{
		Facilities: []Facility{{ID: "a", Seats: map[SeatType]int{"krippe/35": 1}}, {ID: "b", Seats: map[SeatType]int{"krippe/35": 1}}},
		Children: []Child{
			{ID: "high", Band: "krippe", Hours: 35, Prefs: []string{"a", "b"}, Points: 5},
			{ID: "low", Band: "krippe", Hours: 35, Prefs: []string{"a", "b"}, Points: 1},
		},
	}
	r := Run(m)
	placed := map[string]Placement{}
	for id, x := range r.Explanations {
		if x.Placed != nil {
			placed[id] = Placement{*x.Placed, x.Seat}
		}
	}
	if got := EnvyOf(m, placed); len(got) != 0 {
		t.Fatalf("engine matching has envy: %+v", got)
	}
	// A case worker swaps them: high would rather have a, held by low whom a ranks below it.
	placed["high"], placed["low"] = Placement{"b", "krippe/35"}, Placement{"a", "krippe/35"}
	want := []Envy{{Child: "high", Facility: "a", Type: "krippe/35", Over: "low"}}
	if got := EnvyOf(m, placed); !reflect.DeepEqual(got, want) {
		t.Fatalf("envy %+v, want %+v", got, want)
	}
	// Taking high out leaves b empty: waste high would rather have.
	delete(placed, "high")
	placed["low"] = Placement{"a", "krippe/35"}
	if got := EnvyOf(m, placed); len(got) != 1 || got[0].Child != "high" || got[0].Facility != "a" {
		t.Fatalf("envy %+v, want high over low at a", got)
	}
}
