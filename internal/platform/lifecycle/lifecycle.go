// Package lifecycle is the table every explicit state machine of the product is written
// as (requests, their choices, offers; allocation rounds next): which event moves which
// status to which. The domains own their statuses, events and the statement that
// performs a transition; this package only answers questions about the table.
package lifecycle

// Table is the allowed transitions of one kind of record: from → event → to. A status
// without a row is final.
type Table[S ~string, E ~string] struct {
	statuses []S // every status, in the order of the flow
	next     map[S]map[E]S
}

// New returns the table over statuses (in the order lists should follow) with the
// transitions next.
func New[S ~string, E ~string](statuses []S, next map[S]map[E]S) Table[S, E] {
	return Table[S, E]{statuses: statuses, next: next}
}

// Next is the status ev moves from to; ok is false when the table does not allow it.
func (t Table[S, E]) Next(from S, ev E) (to S, ok bool) {
	to, ok = t.next[from][ev]
	return to, ok
}

// From lists the statuses ev may move on, in the order of the flow.
func (t Table[S, E]) From(ev E) []S {
	var out []S
	for _, s := range t.statuses {
		if _, ok := t.Next(s, ev); ok {
			out = append(out, s)
		}
	}
	return out
}

// Pairs are the moves of ev as two parallel lists, from and to, for an SQL statement
// that moves a row only from a status the table lists (unnest($from, $to)).
func (t Table[S, E]) Pairs(ev E) (from, to []string) {
	for _, s := range t.From(ev) {
		next, _ := t.Next(s, ev)
		from, to = append(from, string(s)), append(to, string(next))
	}
	return from, to
}

// Rows is the table itself, for tests that walk every transition.
func (t Table[S, E]) Rows() map[S]map[E]S { return t.next }
