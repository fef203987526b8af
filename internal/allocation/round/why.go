package round

import (
	"slices"

	"kitaportal/internal/allocation"
)

// Why is a request's outcome as a result row stores it: where it got a seat and, for
// every choice above, what put other children ahead. Pages and the parent's sentence
// read only this, never the snapshot.
type Why struct {
	Placed   string   `json:"placed,omitempty"` // facility id
	Choice   int      `json:"choice"`           // 1-based place among its choices; 0: none
	Rank     int      `json:"rank,omitempty"`   // that choice's rank in the request
	Seat     string   `json:"seat,omitempty"`
	Points   int      `json:"points"`
	Above    []Denied `json:"above"`
	Siblings []string `json:"siblings,omitempty"` // the requests it was placed with
	Apart    bool     `json:"apart,omitempty"`    // they could not be placed together
}

// Denied is one choice above the one a request got.
type Denied struct {
	Facility string `json:"facility"`
	Choice   int    `json:"choice"`
	Rank     int    `json:"rank"`
	// Reason as the engine gives it (allocation.Reason*).
	Reason string `json:"reason"`
	// Decider names what put the last child kept there ahead: a tie-break
	// (siblings, birth_date, application_date, lottery) or a facility criterion.
	Decider string `json:"decider,omitempty"`
	// Last is the request of the last child kept there, with its priority there, and
	// this request's.
	Last       string `json:"last,omitempty"`
	LastPoints int    `json:"last_points"`
	MyPoints   int    `json:"my_points"`
}

// explain turns the engine's explanations into Why per request.
func (s *Snapshot) explain(m *allocation.Market, r *allocation.Result) map[string]Why {
	req := make(map[string]*Request, len(s.Requests))
	for i := range s.Requests {
		req[s.Requests[i].ID] = &s.Requests[i]
	}
	child := make(map[string]*allocation.Child, len(m.Children))
	for i := range m.Children {
		child[m.Children[i].ID] = &m.Children[i]
	}
	family := map[string]int{}
	for _, q := range s.Requests {
		family[q.Family]++
	}
	at := func(c *allocation.Child, f string) int { return c.Points + c.Local[f] }
	out := make(map[string]Why, len(r.Explanations))
	for id, x := range r.Explanations {
		q, me := req[id], child[id]
		w := Why{Choice: x.Choice, Points: me.Points, Seat: string(x.Seat), Siblings: x.Siblings, Apart: x.Apart, Above: []Denied{}}
		if x.Placed != nil {
			w.Placed, w.Rank = *x.Placed, q.Ranks[x.Choice-1]
		}
		for _, d := range x.Above {
			dn := Denied{Facility: d.Facility, Choice: d.Choice, Rank: q.Ranks[d.Choice-1], Reason: d.Reason, Last: d.Last, MyPoints: at(me, d.Facility)}
			if last := child[d.Last]; last != nil {
				dn.LastPoints = at(last, d.Facility)
				switch d.Reason {
				case allocation.ReasonTiebreak:
					dn.Decider, _ = s.tieBreak(req[d.Last], q, family)
				case allocation.ReasonLocal:
					dn.Decider = s.localCriterion(req[d.Last], d.Facility)
				}
			}
			w.Above = append(w.Above, dn)
		}
		out[id] = w
	}
	return out
}

// localCriterion is the facility criterion that counted for q at facility f.
func (s *Snapshot) localCriterion(q *Request, f string) string {
	if slices.Contains(q.SiblingAt, f) {
		return SiblingKey
	}
	if s.ConfirmedClaims {
		keys := make([]string, 0, len(q.Local))
		for key, at := range q.Local {
			if at == f {
				keys = append(keys, key)
			}
		}
		for _, c := range s.Criteria { // the catalogue's first that counted there
			if c.Scope == "facility" && slices.Contains(keys, c.Key) {
				return c.Key
			}
		}
		return ""
	}
	for _, key := range q.Criteria {
		for _, c := range s.Criteria {
			if c.Key == key && c.Scope == "facility" && key != SiblingKey {
				return key
			}
		}
	}
	return ""
}
