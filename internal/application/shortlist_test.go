package application

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
)

// The shortlist sorts the family's facilities in their order into the Kita list and
// Kindertagespflege on top (Bochum), sets apart what cannot take the child with the
// rule's reason and what exceeds the maximum, leaves foreign ids out, and the buttons
// move within a list only.
func TestShortlistKeepsTheOrderAndSetsApartWhatDoesNotFit(t *testing.T) {
	t.Parallel()
	r := rulesOf(t, "bochum")
	birth, start := date.MustParse("2025-10-01"), date.MustParse("2027-08-01")
	band, ok := r.Calendar().BandAt(birth, start)
	if !ok || band.Key != "krippe" {
		t.Fatalf("band %v", band)
	}
	facts := map[uuid.UUID]provider.Choosable{}
	opts := &FormOptions{}
	add := func(name, typ string, bands map[string]int) uuid.UUID {
		id := uuid.New()
		facts[id] = provider.Choosable{ID: id, Name: name, Type: typ, Municipality: "bochum", Status: "active", Bands: bands, Lat: 51.48, Lon: 7.22}
		opts.Facilities = append(opts.Facilities, FacilityOption{ID: id, Name: name, Type: typ, Tagespflege: typ == "tagespflege"})
		return id
	}
	krippe := map[string]int{"krippe": 45}
	var kitas []uuid.UUID
	for _, n := range []string{"A", "B", "C", "D", "E", "F"} {
		kitas = append(kitas, add("Kita "+n, "kita", krippe))
	}
	kg := add("Kindergarten", "kindergarten", map[string]int{"kindergarten": 45})
	short := add("Kita Kurz", "kita", map[string]int{"krippe": 25})
	tp := add("Tagespflege", "tagespflege", krippe)
	foreign := uuid.New()

	in := shortlistFacts{rules: r, opts: opts, facts: facts, band: band, bandOK: true, municipality: "bochum",
		origin: &Point{Lat: 51.48, Lon: 7.22}, free: map[uuid.UUID]int{kitas[0]: 3, kitas[1]: 0}}
	ask := ShortlistAsk{Candidates: append([]uuid.UUID{kitas[1], kg, foreign, tp, kitas[0], short}, kitas[2:]...), CareHours: 45, Lang: "de", Ignored: 1}
	s := buildShortlist(in, ask)

	names := func(ps []Pick) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return strings.Join(out, ",")
	}
	if got := names(s.Kitas); got != "Kita B,Kita A,Kita C,Kita D,Kita E" {
		t.Errorf("Kitas %s", got)
	}
	if got := names(s.Tagespflege); got != "Tagespflege" || s.Tagespflege[0].Slot != r.Registration.MaxChoices {
		t.Errorf("Kindertagespflege %s at %d", got, s.Tagespflege[0].Slot)
	}
	codes := map[string]string{}
	for _, p := range s.Unfit {
		codes[p.Name] = p.Problem.Code
	}
	if codes["Kindergarten"] != "choice_age_mismatch" || codes["Kita Kurz"] != "choice_scope_not_offered" || codes["Kita F"] != "shortlist_full" {
		t.Errorf("set apart: %v", codes)
	}
	if s.Ignored != 2 || s.Kitas[0].Status != "not_free" || s.Kitas[1].Status != "free" || s.Kitas[2].Status != "unknown" {
		t.Errorf("ignored %d, statuses %s %s %s", s.Ignored, s.Kitas[0].Status, s.Kitas[1].Status, s.Kitas[2].Status)
	}
	if s.Kitas[0].Km("de") != "0,0 km" || len(s.KitaSlots) != 0 || !slices.Equal(s.TagespflegeSlots, []int{6, 7, 8, 9}) {
		t.Errorf("distance %q, slots %v %v", s.Kitas[0].Km("de"), s.KitaSlots, s.TagespflegeSlots)
	}
	// Removing a Kita lets the first one set apart for the maximum move up.
	ask.Candidates = s.moved(Move{Kind: "remove", ID: kitas[0]})
	s = buildShortlist(in, ask)
	if got := names(s.Kitas); got != "Kita B,Kita C,Kita D,Kita E,Kita F" {
		t.Errorf("after removing: %s", got)
	}
	// Up and down swap within a list; at its ends they change nothing.
	for _, c := range []struct {
		m    Move
		want string
	}{
		{Move{"up", kitas[2]}, "Kita C,Kita B,Kita D,Kita E,Kita F"},
		{Move{"down", kitas[1]}, "Kita C,Kita B,Kita D,Kita E,Kita F"},
		{Move{"up", kitas[1]}, "Kita B,Kita C,Kita D,Kita E,Kita F"},
		{Move{"down", kitas[5]}, "Kita B,Kita C,Kita D,Kita E,Kita F"},
		{Move{"up", tp}, "Kita B,Kita C,Kita D,Kita E,Kita F"},
		{Move{"up", kg}, "Kita B,Kita C,Kita D,Kita E,Kita F"},
	} {
		next := ask
		next.Candidates = s.moved(c.m)
		if got := names(buildShortlist(in, next).Kitas); got != c.want {
			t.Errorf("%v: %s, want %s", c.m, got, c.want)
		}
	}
	// Without the child's band nothing is set apart for age or hours; the options are all.
	open := buildShortlist(shortlistFacts{rules: r, opts: opts, facts: facts}, ShortlistAsk{Candidates: []uuid.UUID{kg, short}})
	if names(open.Kitas) != "Kindergarten,Kita Kurz" || open.Checked || len(open.AddKitas) != 6 || len(open.AddTagespflege) != 1 {
		t.Errorf("unchecked: %s, %d options", names(open.Kitas), len(open.AddKitas))
	}
}

func TestParseCandidatesAndMoves(t *testing.T) {
	t.Parallel()
	a, b := uuid.New(), uuid.New()
	ids, ignored := ParseCandidates([]string{a.String(), "nope", "", b.String(), a.String(), uuid.Nil.String(), " " + b.String() + " "})
	if !slices.Equal(ids, []uuid.UUID{a, b}) || ignored != 3 {
		t.Errorf("%v, %d ignored", ids, ignored)
	}
	var many []string
	for range MaxCarried + 5 {
		many = append(many, uuid.NewString())
	}
	if ids, ignored := ParseCandidates(many); len(ids) != MaxCarried || ignored != 5 {
		t.Errorf("%d read, %d ignored", len(ids), ignored)
	}
	for s, ok := range map[string]bool{"up:" + a.String(): true, "remove:" + a.String(): true, "add": false, "refresh": false, "up:x": false, "jump:" + a.String(): false} {
		if _, got := ParseMove(s); got != ok {
			t.Errorf("%q: %v", s, got)
		}
	}
}
