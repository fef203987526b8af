package allocation

import "sort"

// Placement is where a child sits in a matching: a facility and the type of seat.
type Placement struct {
	Facility string
	Seat     SeatType
}

// Envy is a child that would rather have a seat of Type at Facility than what it has,
// where that seat is empty (Over "") or held by Over, whom the facility ranks below it:
// a blocking pair, what a stable matching never has among single children.
type Envy struct {
	Child    string   `json:"child"`
	Facility string   `json:"facility"`
	Type     SeatType `json:"type"`
	Over     string   `json:"over,omitempty"`
}

// EnvyOf lists the justified envy of single children in a matching of m (placed: child
// id → placement; absent: not placed), each child's best such seat first, by child id.
// Siblings placed together are not checked: they trade a better seat for staying
// together. It is how a case worker's change to a result is judged.
func EnvyOf(m *Market, placed map[string]Placement) []Envy {
	e := newEngine(m)
	holders := map[seatKey][]int{}
	index := map[string]int{}
	for i := range m.Children {
		index[m.Children[i].ID] = i
	}
	for id, p := range placed {
		k := seatKey{e.facilities[p.Facility], p.Seat}
		holders[k] = append(holders[k], index[id])
	}
	var out []Envy
	for i := range m.Children {
		c := &m.Children[i]
		if c.TwinOf != nil || len(e.childrenNaming(c.ID)) > 0 {
			continue
		}
		mine := len(e.children[i].prefs) * len(e.children[i].fits)
		if p, ok := placed[c.ID]; ok {
			mine = e.pair(i, e.facilities[p.Facility], p.Seat)
		}
	pairs:
		for _, f := range e.children[i].prefs {
			for _, t := range e.children[i].fits {
				if e.pair(i, f, t) >= mine {
					break pairs
				}
				k := seatKey{f, t}
				list := holders[k]
				if len(list) < m.Facilities[f].Seats[t] {
					out = append(out, Envy{Child: c.ID, Facility: m.Facilities[f].ID, Type: t})
					break pairs
				}
				// The holder the facility ranks last.
				worst := -1
				for _, h := range list {
					if worst < 0 || e.before(f, worst, h) {
						worst = h
					}
				}
				if worst >= 0 && e.before(f, i, worst) {
					out = append(out, Envy{Child: c.ID, Facility: m.Facilities[f].ID, Type: t, Over: m.Children[worst].ID})
					break pairs
				}
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Child < out[b].Child })
	return out
}

// childrenNaming lists the children whose twin_of names id.
func (e *engine) childrenNaming(id string) []int {
	if e.namedBy == nil {
		e.namedBy = map[string][]int{}
		for i := range e.m.Children {
			if t := e.m.Children[i].TwinOf; t != nil {
				e.namedBy[*t] = append(e.namedBy[*t], i)
			}
		}
	}
	return e.namedBy[id]
}
