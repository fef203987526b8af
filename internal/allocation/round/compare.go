package round

import (
	"context"
	"sort"

	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
)

// Move is a request placed differently by two runs.
type Move struct {
	ApplicationID uuid.UUID
	Reference     string
	FirstName     string
	LastName      string
	From, To      *uuid.UUID // nil: not placed (or not in that run)
	FromChoice    int
	ToChoice      int
}

// LeftRow is the seats one facility's type has left in each run.
type LeftRow struct {
	Facility uuid.UUID
	Type     string
	A, B     int
}

// Comparison sets two runs of a round side by side.
type Comparison struct {
	A, B  *Run
	Moves []Move
	Left  []LeftRow
	Names map[uuid.UUID]string
}

// ErrOtherRound: only runs of one round compare.
var ErrOtherRound = apperr.Conflict("round_compare_other_round")

// Compare lists who moves where from run a to run b and the seats each leaves empty.
func (s *Service) Compare(ctx context.Context, c auth.Caller, a, b uuid.UUID) (*Comparison, error) {
	ra, err := s.GetRun(ctx, c, a)
	if err != nil {
		return nil, err
	}
	rb, err := s.GetRun(ctx, c, b)
	if err != nil {
		return nil, err
	}
	if ra.RoundID != rb.RoundID {
		return nil, ErrOtherRound
	}
	xa, names, err := s.allResults(ctx, c, a, ShowAll)
	if err != nil {
		return nil, err
	}
	xb, namesB, err := s.allResults(ctx, c, b, ShowAll)
	if err != nil {
		return nil, err
	}
	for id, n := range namesB {
		names[id] = n
	}
	inB := make(map[uuid.UUID]Result, len(xb))
	for _, r := range xb {
		inB[r.ApplicationID] = r
	}
	cmp := &Comparison{A: ra, B: rb, Names: names}
	same := func(x, y *uuid.UUID) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	seen := map[uuid.UUID]bool{}
	for _, r := range xa {
		seen[r.ApplicationID] = true
		o, ok := inB[r.ApplicationID]
		if ok && same(r.FacilityID, o.FacilityID) {
			continue
		}
		cmp.Moves = append(cmp.Moves, Move{ApplicationID: r.ApplicationID, Reference: r.Reference, FirstName: r.FirstName, LastName: r.LastName,
			From: r.FacilityID, To: o.FacilityID, FromChoice: r.Choice, ToChoice: o.Choice})
	}
	for _, o := range xb {
		if !seen[o.ApplicationID] && o.FacilityID != nil {
			cmp.Moves = append(cmp.Moves, Move{ApplicationID: o.ApplicationID, Reference: o.Reference, FirstName: o.FirstName, LastName: o.LastName,
				To: o.FacilityID, ToChoice: o.Choice})
		}
	}
	type key struct{ f, t string }
	left := map[key]*LeftRow{}
	row := func(f, t string) *LeftRow {
		k := key{f, t}
		if left[k] == nil {
			id, _ := uuid.Parse(f)
			left[k] = &LeftRow{Facility: id, Type: t}
		}
		return left[k]
	}
	for f, byType := range ra.Figures.Left {
		for t, n := range byType {
			row(f, t).A = n
		}
	}
	for f, byType := range rb.Figures.Left {
		for t, n := range byType {
			row(f, t).B = n
		}
	}
	for _, r := range left {
		cmp.Left = append(cmp.Left, *r)
	}
	sort.Slice(cmp.Left, func(i, j int) bool {
		ni, nj := names[cmp.Left[i].Facility], names[cmp.Left[j].Facility]
		if ni != nj {
			return ni < nj
		}
		return cmp.Left[i].Type < cmp.Left[j].Type
	})
	// Names of facilities with empty seats may not be among the results'.
	var missing []uuid.UUID
	for _, r := range cmp.Left {
		if _, ok := names[r.Facility]; !ok {
			missing = append(missing, r.Facility)
		}
	}
	if len(missing) > 0 {
		more, err := s.facilityNames(ctx, c, missing)
		if err != nil {
			return nil, err
		}
		for id, n := range more {
			names[id] = n
		}
	}
	return cmp, nil
}

// Name names a facility of the comparison; "" for none.
func (c *Comparison) Name(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return c.Names[*id]
}
