package allocation

import (
	"slices"
	"sort"
)

// The engine: child-proposing deferred acceptance. Children propose to their choices in
// order; a facility keeps, per seat type, the best children that fit its seats and
// rejects the rest, who propose to their next choice; when nobody is left to propose the
// kept children are placed. Without siblings this is the classic algorithm: stable (no
// child prefers a facility that would rather have it than someone it kept, no seat a
// child wants stays empty) and strategy-proof for families.
//
// Siblings who apply together propose as one unit to the facilities all of them chose,
// in the order of the first of them (by id): a facility takes the unit only when it
// would keep every member, and a unit pushed out loses all its members' seats there.
// When no such facility is left the unit splits and each child proposes alone from the
// top of its own list; the result records that they could not be placed together. This
// is a heuristic in the spirit of Roth–Peranson: it places twins together where plain DA
// splits them, and the tests check its stability on such markets.
//
// A single child that may take larger seats (Child.Larger) proposes to each facility for
// its own type first, then for each larger type, before its next facility: deferred
// acceptance over (facility, seat type) pairs, which keeps both properties. Siblings
// proposing together ask level by level: all their own types, then each its next larger.

// Result is a run's matching with its explanations.
type Result struct {
	// Assignments maps every child to its facility, or nil when it got none.
	Assignments map[string]*string
	// Explanations say, per child, what became of each choice above the one it got.
	Explanations map[string]Explanation
}

// Explanation is why a child got what it got.
type Explanation struct {
	Child    string   `json:"child"`
	Placed   *string  `json:"placed"`             // the facility; nil: none
	Choice   int      `json:"choice"`             // 1-based rank of the choice it got; 0: none
	Above    []Denial `json:"above"`              // every choice above the one it got
	Seat     SeatType `json:"seat,omitempty"`     // the type of seat it holds (a larger one where it may)
	Siblings []string `json:"siblings,omitempty"` // the siblings it applied with
	Apart    bool     `json:"apart,omitempty"`    // they could not be placed together
}

// Denial is why a choice was not given.
type Denial struct {
	Facility string `json:"facility"`
	Choice   int    `json:"choice"`
	// Reason: no_seats (none of the child's type), points (the last child kept there had
	// more points), local (the same points, but that child's facility bonus was
	// higher), tiebreak (the same priority, the tie-break decided), siblings (a seat was
	// there, but not for the whole sibling group).
	Reason string `json:"reason"`
	// Last is the last child kept there on a seat of the child's type.
	Last string `json:"last,omitempty"`
}

// Denial reasons.
const (
	ReasonNoSeats  = "no_seats"
	ReasonPoints   = "points"
	ReasonLocal    = "local"
	ReasonTiebreak = "tiebreak"
	ReasonSiblings = "siblings"
)

// child is a child as the engine works with it: indexes instead of ids.
type child struct {
	src   *Child
	typ   SeatType
	fits  []SeatType  // typ, then the larger types it may take
	local map[int]int // facility index → bonus; nil for most children
	prefs []int       // facility indexes, best first
	unit  *unit
	group []int // its sibling group as it applied (itself alone when it has none)
}

// unit is who proposes together: one child, or a sibling group while it stays joint.
type unit struct {
	members []int // child indexes
	prefs   []int // facility indexes, best first
	next    int   // the next choice to propose to
	ti      int   // a single child: the next of its seat types to ask for there
	joint   bool
}

type engine struct {
	m          *Market
	facilities map[string]int
	children   []child
	held       []map[SeatType][]int // per facility and type: kept children, best first
	placed     []int                // per child: facility index, -1
	seat       []SeatType           // per placed child: the type of seat it holds
	apart      []bool
	listers    [][]int          // per facility: the children that chose it
	vacated    map[seatKey]bool // seats a sibling group left behind when it was pushed out
	namedBy    map[string][]int // child id → the children naming it as sibling (EnvyOf)
}

type seatKey struct {
	f int
	t SeatType
}

// newEngine indexes m: facilities and children by position, choices and bonuses by
// facility index, who chose each facility.
func newEngine(m *Market) *engine {
	e := &engine{m: m, facilities: make(map[string]int, len(m.Facilities)), vacated: map[seatKey]bool{}}
	for i, f := range m.Facilities {
		e.facilities[f.ID] = i
	}
	e.held = make([]map[SeatType][]int, len(m.Facilities))
	for i := range e.held {
		e.held[i] = map[SeatType][]int{}
	}
	e.children = make([]child, len(m.Children))
	e.placed = make([]int, len(m.Children))
	e.seat = make([]SeatType, len(m.Children))
	e.apart = make([]bool, len(m.Children))
	e.listers = make([][]int, len(m.Facilities))
	for i := range m.Children {
		c := &m.Children[i]
		e.children[i] = child{src: c, typ: c.Type()}
		e.children[i].fits = append([]SeatType{c.Type()}, c.Larger...)
		e.placed[i] = -1
		for fid, bonus := range c.Local {
			if bonus != 0 {
				if e.children[i].local == nil {
					e.children[i].local = map[int]int{}
				}
				e.children[i].local[e.facilities[fid]] = bonus
			}
		}
		e.children[i].prefs = make([]int, 0, len(c.Prefs))
		for _, f := range c.Prefs {
			e.children[i].prefs = append(e.children[i].prefs, e.facilities[f])
			e.listers[e.facilities[f]] = append(e.listers[e.facilities[f]], i)
		}
	}
	return e
}

// Run matches m. m must be valid (Validate).
func Run(m *Market) *Result {
	e := newEngine(m)
	index := make(map[string]int, len(m.Children))
	for i := range m.Children {
		index[m.Children[i].ID] = i
	}
	var queue []*unit
	for _, g := range groups(m, index) {
		u := &unit{members: g, joint: len(g) > 1}
		if u.joint {
			u.prefs = e.jointPrefs(g)
		} else {
			u.prefs = e.children[g[0]].prefs
		}
		for _, c := range g {
			e.children[c].unit, e.children[c].group = u, g
		}
		queue = append(queue, u)
	}
	e.drain(queue)
	e.reopen()
	return e.result()
}

func (e *engine) drain(queue []*unit) {
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		queue = append(queue, e.propose(u)...)
	}
}

// reopen offers the seats a pushed-out sibling group left behind: while a single child
// would rather have such a seat (or the seat of a child ranked below it there) than
// what it holds, it takes it and the algorithm goes on from there. Each step moves a
// child up its own list, so it ends; without siblings nothing is ever vacated.
func (e *engine) reopen() {
	for len(e.vacated) > 0 {
		keys := make([]seatKey, 0, len(e.vacated))
		for k := range e.vacated {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(a, b int) bool {
			if keys[a].f != keys[b].f {
				return keys[a].f < keys[b].f
			}
			return keys[a].t < keys[b].t
		})
		clear(e.vacated)
		for _, k := range keys {
			for c := e.claimant(k); c >= 0; c = e.claimant(k) {
				u := e.children[c].unit
				e.release(c)
				u.next, u.ti = slices.Index(u.prefs, k.f), slices.Index(e.children[c].fits, k.t)
				e.drain([]*unit{u})
			}
		}
	}
}

// claimant is the child the facility ranks first among the single children that may take
// a seat of type k.t, would rather have it than where they are, and would be kept there;
// -1 when there is none.
func (e *engine) claimant(k seatKey) int {
	seats := e.m.Facilities[k.f].Seats[k.t]
	held := e.held[k.f][k.t]
	best := -1
	for _, c := range e.listers[k.f] {
		ch := &e.children[c]
		if len(ch.unit.members) > 1 || !slices.Contains(ch.fits, k.t) {
			continue
		}
		if cur := e.placed[c]; cur >= 0 && e.pair(c, cur, e.seat[c]) <= e.pair(c, k.f, k.t) {
			continue
		}
		if len(held) >= seats && (len(held) == 0 || !e.before(k.f, c, held[len(held)-1])) {
			continue
		}
		if best < 0 || e.before(k.f, c, best) {
			best = c
		}
	}
	return best
}

// pair is the place of (facility f, seat type t) in child c's list of pairs: its
// facilities in order, each with its own type first, then the larger ones.
func (e *engine) pair(c, f int, t SeatType) int {
	ch := &e.children[c]
	return slices.Index(ch.prefs, f)*len(ch.fits) + slices.Index(ch.fits, t)
}

// release takes single child c off its seat; the seat counts as vacated.
func (e *engine) release(c int) {
	f := e.placed[c]
	if f < 0 {
		return
	}
	t := e.seat[c]
	e.held[f][t] = slices.DeleteFunc(e.held[f][t], func(x int) bool { return x == c })
	e.placed[c] = -1
	e.vacated[seatKey{f, t}] = true
}

// groups lists the children by sibling group (ids of a group sorted, groups in the order
// of their first child), singles alone.
func groups(m *Market, index map[string]int) [][]int {
	parent := make([]int, len(m.Children))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i, c := range m.Children {
		if c.TwinOf != nil {
			parent[find(i)] = find(index[*c.TwinOf])
		}
	}
	byRoot := map[int][]int{}
	var roots []int
	for i := range m.Children {
		r := find(i)
		if _, ok := byRoot[r]; !ok {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], i)
	}
	out := make([][]int, 0, len(roots))
	for _, r := range roots {
		g := byRoot[r]
		sort.Slice(g, func(a, b int) bool { return m.Children[g[a]].ID < m.Children[g[b]].ID })
		out = append(out, g)
	}
	return out
}

// levels is how many seat types a joint unit asks for at each facility: as many as its
// member with the most fitting types has.
func (e *engine) levels(u *unit) int {
	n := 1
	for _, c := range u.members {
		n = max(n, len(e.children[c].fits))
	}
	return n
}

// jointPrefs are the facilities every member chose, in the order of the first member.
func (e *engine) jointPrefs(g []int) []int {
	var out []int
	for _, f := range e.children[g[0]].prefs {
		all := true
		for _, c := range g[1:] {
			all = all && slices.Contains(e.children[c].prefs, f)
		}
		if all {
			out = append(out, f)
		}
	}
	return out
}

// before tells whether child a ranks before child b at facility f: more points with the
// facility's bonus, then the smaller tie-break, then the id (so the order is strict).
func (e *engine) before(f, a, b int) bool {
	ca, cb := e.children[a].src, e.children[b].src
	pa, pb := ca.Points+e.children[a].local[f], cb.Points+e.children[b].local[f]
	if pa != pb {
		return pa > pb
	}
	if ca.Tiebreak != cb.Tiebreak {
		return ca.Tiebreak < cb.Tiebreak
	}
	return ca.ID < cb.ID
}

// propose lets u propose to its next choices until a facility keeps it or its list ends;
// it answers the units the facility pushed out, who propose again.
func (e *engine) propose(u *unit) []*unit {
	for u.next < len(u.prefs) {
		f := u.prefs[u.next]
		if u.joint {
			// Level l asks for each member's l-th seat type (its own first, then larger).
			for levels := e.levels(u); u.ti < levels; {
				l := u.ti
				u.ti++
				if out, ok := e.admit(f, u, l); ok {
					return out
				}
			}
			u.next, u.ti = u.next+1, 0
			continue
		}
		c := u.members[0]
		for fits := e.children[c].fits; u.ti < len(fits); {
			t := fits[u.ti]
			u.ti++
			if out, ok := e.admitOne(f, u, t); ok {
				return out
			}
		}
		u.next, u.ti = u.next+1, 0
	}
	if u.joint {
		// No facility takes the group together: each child goes on alone.
		var out []*unit
		for _, c := range u.members {
			e.apart[c] = true
			single := &unit{members: []int{c}, prefs: e.children[c].prefs}
			e.children[c].unit = single
			out = append(out, single)
		}
		return out
	}
	return nil
}

// admit tries to keep every member of u at f; when it does, it answers the units pushed
// out of f to make room.
func (e *engine) admit(f int, u *unit, level int) ([]*unit, bool) {
	seats := e.m.Facilities[f].Seats
	typeOf := func(c int) SeatType {
		fits := e.children[c].fits
		return fits[min(level, len(fits)-1)]
	}
	// Would every member be among the best of its type, counting the unit's own members?
	trial := map[SeatType][]int{}
	var types []SeatType
	for _, c := range u.members {
		t := typeOf(c)
		if _, ok := trial[t]; !ok {
			trial[t] = slices.Clone(e.held[f][t])
			types = append(types, t)
		}
		trial[t] = e.insert(f, trial[t], c)
	}
	for _, c := range u.members {
		t := typeOf(c)
		if slices.Index(trial[t], c) >= seats[t] {
			return nil, false
		}
	}
	var pushed []*unit
	slices.Sort(types) // pushed units queue in one order: the run is deterministic
	for _, t := range types {
		list := trial[t]
		cut := min(seats[t], len(list))
		for _, c := range list[cut:] {
			if o := e.children[c].unit; !slices.Contains(pushed, o) {
				pushed = append(pushed, o)
			}
		}
		e.held[f][t] = list[:cut]
	}
	for _, c := range u.members {
		e.placed[c], e.seat[c] = f, typeOf(c)
	}
	// A pushed group loses all its members' seats here.
	for _, o := range pushed {
		for _, c := range o.members {
			if e.placed[c] == f {
				t := e.seat[c]
				before := len(e.held[f][t])
				e.held[f][t] = slices.DeleteFunc(e.held[f][t], func(x int) bool { return x == c })
				if len(e.held[f][t]) < before {
					e.vacated[seatKey{f, t}] = true
				}
			}
			e.placed[c] = -1
		}
	}
	return pushed, true
}

// admitOne is admit for a single child on a seat of type t, without a trial copy (the
// common case).
func (e *engine) admitOne(f int, u *unit, t SeatType) ([]*unit, bool) {
	c := u.members[0]
	cap := e.m.Facilities[f].Seats[t]
	list := e.held[f][t]
	i := sort.Search(len(list), func(i int) bool { return e.before(f, c, list[i]) })
	if i >= cap {
		return nil, false
	}
	list = slices.Insert(list, i, c)
	e.placed[c], e.seat[c] = f, t
	if len(list) <= cap {
		e.held[f][t] = list
		return nil, true
	}
	out := list[cap]
	e.held[f][t] = list[:cap]
	o := e.children[out].unit
	// A pushed group loses all its members' seats here.
	for _, m := range o.members {
		if m != out && e.placed[m] == f {
			mt := e.seat[m]
			e.held[f][mt] = slices.DeleteFunc(e.held[f][mt], func(x int) bool { return x == m })
			e.vacated[seatKey{f, mt}] = true
		}
		e.placed[m] = -1
	}
	return []*unit{o}, true
}

// insert puts child c into list (best first) at its place at f.
func (e *engine) insert(f int, list []int, c int) []int {
	i := sort.Search(len(list), func(i int) bool { return e.before(f, c, list[i]) })
	return slices.Insert(list, i, c)
}

func (e *engine) result() *Result {
	n := len(e.children)
	r := &Result{Assignments: make(map[string]*string, n), Explanations: make(map[string]Explanation, n)}
	for i := range e.children {
		c := &e.children[i]
		x := Explanation{Child: c.src.ID, Apart: e.apart[i]}
		for _, o := range c.group {
			if o != i {
				x.Siblings = append(x.Siblings, e.children[o].src.ID)
			}
		}
		got := len(c.prefs)
		if f := e.placed[i]; f >= 0 {
			id := e.m.Facilities[f].ID
			r.Assignments[c.src.ID], x.Placed, x.Seat = &id, &id, e.seat[i]
			got = slices.Index(c.prefs, f)
			x.Choice = got + 1
		} else {
			r.Assignments[c.src.ID] = nil
		}
		x.Above = make([]Denial, got)
		for k, f := range c.prefs[:got] {
			x.Above[k] = e.denial(i, f, k+1)
		}
		r.Explanations[c.src.ID] = x
	}
	return r
}

// denial says why child i did not get facility f, its choice k, on the first of its seat
// types the facility has.
func (e *engine) denial(i, f, k int) Denial {
	t := e.children[i].typ
	for _, ft := range e.children[i].fits {
		if e.m.Facilities[f].Seats[ft] > 0 {
			t = ft
			break
		}
	}
	d := Denial{Facility: e.m.Facilities[f].ID, Choice: k}
	seats := e.m.Facilities[f].Seats[t]
	held := e.held[f][t]
	switch {
	case seats == 0:
		d.Reason = ReasonNoSeats
		return d
	case len(held) < seats || e.before(f, i, held[len(held)-1]):
		// A seat was there or the child ranked high enough: its group could not follow.
		d.Reason = ReasonSiblings
		if len(held) > 0 {
			d.Last = e.children[held[len(held)-1]].src.ID
		}
		return d
	}
	lastIdx := held[len(held)-1]
	last, me := e.children[lastIdx].src, e.children[i].src
	d.Last = last.ID
	switch {
	case last.Points+e.children[lastIdx].local[f] == me.Points+e.children[i].local[f]:
		d.Reason = ReasonTiebreak
	case last.Points > me.Points:
		d.Reason = ReasonPoints
	default:
		d.Reason = ReasonLocal // the points alone would not have put that child ahead
	}
	return d
}
