package application

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/family"
	"kitaportal/internal/tenant"
)

// The order of the staff lists is the city's: points first, then each of its
// criteria.tie_breaks in turn (tenants/*.yaml), the same keys the allocation round
// uses. What a list cannot decide by itself stays in filing order: the lottery is drawn
// only when a round is frozen, so until then a tie the lottery would break keeps the
// order in which the requests came in.

// rankInputs is what the tie-breaks need of one row beyond the row itself.
type rankInputs struct {
	sibling map[uuid.UUID]bool // child → a sibling is in the picture (see siblingsOf)
}

// SiblingCriterion is the criterion key that names a sibling in the facility; once that
// facility confirms it, the row counts as having a sibling for the "siblings" tie-break.
const SiblingCriterion = "sibling"

// hasSibling: another child of the family waits too, or the row's facility confirmed the
// sibling claimed there.
func (in rankInputs) hasSibling(r *RequestRow) bool {
	if in.sibling[r.ChildID] {
		return true
	}
	for _, c := range r.Claims {
		if c.Criterion == SiblingCriterion && c.Status == ClaimConfirmed {
			return true
		}
	}
	return false
}

// rankRows orders rows by the city's tie-breaks, keeping the given (filing) order where
// every tie-break ties.
func rankRows(r *tenant.Rules, rows []RequestRow, in rankInputs) {
	keys := r.Criteria.TieBreaks
	if len(keys) == 0 {
		keys = []string{tenant.TieBreakPoints}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		_, first := tieBreak(keys, &rows[i], &rows[j], in)
		return first
	})
}

// tieBreak compares a and b by keys: which key decides and whether a comes first; "" and
// false when none does.
func tieBreak(keys []string, a, b *RequestRow, in rankInputs) (string, bool) {
	for _, key := range keys {
		switch key {
		case tenant.TieBreakPoints:
			if a.Points != b.Points {
				return key, a.Points > b.Points
			}
		case tenant.TieBreakSiblings:
			if sa, sb := in.hasSibling(a), in.hasSibling(b); sa != sb {
				return key, sa
			}
		case tenant.TieBreakBirthDate: // the older child first: it needs the place sooner
			if a.BirthDate != b.BirthDate {
				return key, a.BirthDate.Before(b.BirthDate)
			}
		case tenant.TieBreakApplicationDate:
			if sa, sb := a.SubmittedAt, b.SubmittedAt; sa != nil && sb != nil && !sa.Equal(*sb) {
				return key, sa.Before(*sb)
			}
		}
	}
	return "", false
}

// siblingsOf tells, for the children of rows, whether another child of the family has a
// filed request still waiting in the city. (A sibling already at the facility is the
// sibling criterion, which counts once the facility confirms it: hasSibling.) Only read
// when the city's tie-breaks ask for it.
func siblingsOf(ctx context.Context, tx bun.IDB, t *tenant.Tenant, rows []RequestRow, cards map[uuid.UUID]family.ChildCard) (map[uuid.UUID]bool, error) {
	out := map[uuid.UUID]bool{}
	if !slices.Contains(t.Rules.Criteria.TieBreaks, tenant.TieBreakSiblings) || len(rows) == 0 {
		return out, nil
	}
	families := []uuid.UUID{}
	for _, r := range rows {
		if f := cards[r.ChildID].FamilyID; f != uuid.Nil && !slices.Contains(families, f) {
			families = append(families, f)
		}
	}
	kids, err := family.ChildIDsOfFamilies(ctx, tx, t.ID, families)
	if err != nil {
		return nil, err
	}
	var waiting []uuid.UUID
	if err := tx.NewRaw(`SELECT DISTINCT child_id FROM application WHERE tenant_id = ? AND child_id = ANY(?::uuid[]) AND status = ANY(?::text[])`,
		t.ID, pgdialect.Array(kids), pgdialect.Array(Queued)).Scan(ctx, &waiting); err != nil {
		return nil, fmt.Errorf("ranking: siblings: %w", err)
	}
	if len(waiting) == 0 {
		return out, nil
	}
	waitingKids, err := family.ChildCards(ctx, tx, t.ID, waiting)
	if err != nil {
		return nil, err
	}
	perFamily := map[uuid.UUID]int{}
	for _, k := range waitingKids {
		perFamily[k.FamilyID]++
	}
	for _, r := range rows {
		others := perFamily[cards[r.ChildID].FamilyID]
		if _, self := waitingKids[r.ChildID]; self {
			others--
		}
		if others > 0 {
			out[r.ChildID] = true
		}
	}
	return out, nil
}
