package application

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/tenant"
)

// The point rule of facility criteria: a claim counts only at the facility it names,
// and only once that facility confirmed it; global criteria count everywhere.
func TestPointsAtCountAFacilityClaimOnlyWhereConfirmed(t *testing.T) {
	r := rulesOf(t, "bochum") // sibling 4 and staff_child (facility), single_parent, employment, … (global)
	a, b := uuid.New(), uuid.New()
	sibling, staff := mustCriterion(t, r, "sibling").Points, mustCriterion(t, r, "staff_child").Points
	global := Points(r, map[string]string{"single_parent": FlagYes})
	confirmed := func(key string, f uuid.UUID) Decisions {
		return Decisions{{key, f}: {Status: ClaimConfirmed}}
	}
	for _, tc := range []struct {
		name     string
		criteria map[string]string
		d        Decisions
		at       uuid.UUID
		want     int
	}{
		{"nothing claimed", map[string]string{}, nil, a, 0},
		{"a global criterion counts everywhere", map[string]string{"single_parent": FlagYes}, nil, b, global},
		{"a pending claim counts nowhere", map[string]string{"sibling": a.String()}, nil, a, 0},
		{"confirmed at its facility", map[string]string{"sibling": a.String()}, confirmed("sibling", a), a, sibling},
		{"confirmed, at the other choice", map[string]string{"sibling": a.String()}, confirmed("sibling", a), b, 0},
		{"rejected", map[string]string{"sibling": a.String()}, Decisions{{"sibling", a}: {Status: ClaimRejected}}, a, 0},
		{"confirmed for a facility no longer named", map[string]string{"sibling": b.String()}, confirmed("sibling", a), a, 0},
		{"a decision on another criterion", map[string]string{"sibling": a.String()}, confirmed("staff_child", a), a, 0},
		{"a plain yes names no facility", map[string]string{"sibling": FlagYes}, confirmed("sibling", a), a, 0},
		{"both facility criteria and a global one", map[string]string{"sibling": a.String(), "staff_child": a.String(), "single_parent": FlagYes},
			Decisions{{"sibling", a}: {Status: ClaimConfirmed}, {"staff_child", a}: {Status: ClaimConfirmed}}, a, global + sibling + staff},
		{"each facility criterion where it was claimed", map[string]string{"sibling": a.String(), "staff_child": b.String()},
			Decisions{{"sibling", a}: {Status: ClaimConfirmed}, {"staff_child", b}: {Status: ClaimConfirmed}}, b, staff},
	} {
		if got := PointsAt(r, tc.criteria, tc.at, tc.d); got != tc.want {
			t.Errorf("%s: %d points, want %d", tc.name, got, tc.want)
		}
	}
	// The global points leave every facility criterion out.
	if got := Points(r, map[string]string{"sibling": a.String(), "single_parent": FlagYes}); got != global {
		t.Errorf("global points %d, want %d", got, global)
	}
}

// The claims a request shows: pending until decided, with the facility named.
func TestClaimsOfShowPendingAndDecided(t *testing.T) {
	r := rulesOf(t, "bochum")
	a, b := uuid.New(), uuid.New()
	names := func(id uuid.UUID) string { return map[uuid.UUID]string{a: "Kita A", b: "Kita B"}[id] }
	crit := map[string]string{"sibling": a.String(), "staff_child": b.String(), "single_parent": FlagYes}
	got := claimsOf(r, crit, Decisions{{"staff_child", b}: {Status: ClaimRejected, Note: "nicht bei uns beschäftigt"}}, names)
	want := "[{sibling Kita A pending } {staff_child Kita B rejected nicht bei uns beschäftigt}]"
	var short []string
	for _, cl := range got {
		short = append(short, fmt.Sprintf("{%s %s %s %s}", cl.Criterion, cl.Facility, cl.Status, cl.Note))
	}
	if fmt.Sprint(short) != want {
		t.Errorf("claims %v, want %s", short, want)
	}
	if at := claimsAt(got, b); len(at) != 1 || at[0].Criterion != "staff_child" || at[0].DecidedAt == nil {
		t.Errorf("claims at B: %+v", at)
	}
}

// A facility criterion names one of the request's choices.
func TestAFacilityCriterionNamesAChoice(t *testing.T) {
	r := rulesOf(t, "bochum")
	f := good(r)
	for _, tc := range []struct {
		val  string
		want string
	}{
		{f.Choices[0].FacilityID.String(), ""},
		{FlagYes, "criteria.sibling:criterion_facility_missing"},
		{"<script>", "criteria.sibling:criterion_facility_missing"},
		{uuid.NewString(), "criteria.sibling:criterion_facility_not_chosen"},
	} {
		f.Criteria, f.Declared = map[string]string{"sibling": tc.val}, true
		got := ""
		for _, e := range Check(r, f) {
			if e.Field == "criteria.sibling" {
				got = e.Field + ":" + e.Code
			}
		}
		if got != tc.want {
			t.Errorf("sibling %q: %q, want %q", tc.val, got, tc.want)
		}
	}
}

func mustCriterion(t *testing.T, r *tenant.Rules, key string) tenant.Criterion {
	t.Helper()
	c, ok := criterion(r, key)
	if !ok {
		t.Fatalf("criterion %s is not in the city's catalogue", key)
	}
	return c
}
