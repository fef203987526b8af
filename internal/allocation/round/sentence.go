package round

import (
	"github.com/google/uuid"

	"kitaportal/internal/allocation"
	"kitaportal/internal/tenant"
)

// Sentence is one line of an explanation in words a parent understands: a catalogue
// key ("round.why.…") with what it names.
type Sentence struct {
	Key       string
	Rank      int
	Facility  string
	Criterion tenant.Text
}

// Sentences words a result: where the child got a seat (or that it got none), then for
// every wish above it why it went to other children, and whether siblings stayed
// together.
func Sentences(w Why, names map[uuid.UUID]string, r *tenant.Rules) []Sentence {
	name := func(id string) string {
		u, _ := uuid.Parse(id)
		return names[u]
	}
	var out []Sentence
	if w.Placed != "" {
		out = append(out, Sentence{Key: "round.why.placed", Rank: w.Rank, Facility: name(w.Placed)})
	} else {
		out = append(out, Sentence{Key: "round.why.unplaced"})
	}
	for _, d := range w.Above {
		s := Sentence{Rank: d.Rank, Facility: name(d.Facility)}
		switch d.Reason {
		case allocation.ReasonNoSeats:
			s.Key = "round.why.no_seats"
		case allocation.ReasonPoints:
			s.Key = "round.why.points"
		case allocation.ReasonLocal:
			s.Key = "round.why.local"
			for _, c := range r.Criteria.Catalogue {
				if c.Key == d.Decider {
					s.Criterion = c.Label
				}
			}
		case allocation.ReasonTiebreak:
			s.Key = "round.why.tiebreak"
			switch d.Decider {
			case tenant.TieBreakSiblings, tenant.TieBreakBirthDate, tenant.TieBreakApplicationDate, tenant.TieBreakLottery:
				s.Key += "." + d.Decider
			}
		default:
			s.Key = "round.why.siblings"
		}
		out = append(out, s)
	}
	switch {
	case w.Apart:
		out = append(out, Sentence{Key: "round.why.apart"})
	case len(w.Siblings) > 0 && w.Placed != "":
		out = append(out, Sentence{Key: "round.why.together"})
	}
	return out
}
