package round

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/date"
)

// A request's priority from the frozen catalogue: global criteria everywhere; a facility
// criterion only at the facility that confirmed the family's claim; a sibling also
// where the register shows one, once per facility. A claim not confirmed counts
// nowhere. A snapshot frozen before claims were confirmed keeps its old rule.
func TestPriorityCountsAFacilityClaimOnlyWhereConfirmed(t *testing.T) {
	catalogue := map[string]Criterion{
		"single_parent": {Key: "single_parent", Points: 3, Scope: "global"},
		"sibling":       {Key: "sibling", Points: 4, Scope: "facility"},
		"staff_child":   {Key: "staff_child", Points: 2, Scope: "facility"},
	}
	for _, tc := range []struct {
		name      string
		confirmed bool // Snapshot.ConfirmedClaims
		q         Request
		points    int
		local     string
	}{
		{"global only", true, Request{Choices: []string{"A", "B"}, Criteria: []string{"single_parent"}}, 3, "map[]"},
		{"claims pending", true, Request{Choices: []string{"A", "B"}, Criteria: []string{"sibling", "staff_child"}}, 0, "map[]"},
		{"confirmed at A", true, Request{Choices: []string{"A", "B"}, Criteria: []string{"sibling", "staff_child"},
			Local: map[string]string{"sibling": "A", "staff_child": "B"}}, 0, "map[A:4 B:2]"},
		{"register and confirmed claim at A count once", true, Request{Choices: []string{"A", "B"}, Criteria: []string{"sibling"},
			SiblingAt: []string{"A"}, Local: map[string]string{"sibling": "A"}}, 0, "map[A:4]"},
		{"register unclaimed", true, Request{Choices: []string{"A", "B"}, SiblingAt: []string{"B"}}, 0, "map[B:4]"},
		{"confirmed at a facility no longer chosen", true, Request{Choices: []string{"B"}, Local: map[string]string{"staff_child": "A"}}, 0, "map[]"},
		{"an unknown criterion", true, Request{Choices: []string{"A"}, Criteria: []string{"gone"}, Local: map[string]string{"gone": "A"}}, 0, "map[]"},
		{"old snapshot: other facility criteria at every choice", false, Request{Choices: []string{"A", "B"}, Criteria: []string{"sibling", "staff_child"}},
			0, "map[A:2 B:2]"},
	} {
		s := &Snapshot{ConfirmedClaims: tc.confirmed}
		points, local := s.priority(&tc.q, catalogue)
		if points != tc.points || fmt.Sprint(local) != tc.local {
			t.Errorf("%s: %d %v, want %d %s", tc.name, points, local, tc.points, tc.local)
		}
	}
	// The siblings tie-break: a confirmed sibling claim, not a pending one.
	s := &Snapshot{ConfirmedClaims: true}
	if s.hasSibling(&Request{Family: "f", Criteria: []string{"sibling"}}, map[string]int{"f": 1}) {
		t.Error("a pending sibling claim broke a tie")
	}
	if !s.hasSibling(&Request{Family: "f", Criteria: []string{"sibling"}, Local: map[string]string{"sibling": "A"}}, map[string]int{"f": 1}) {
		t.Error("a confirmed sibling claim did not count for the siblings tie-break")
	}
	if got := s.localCriterion(&Request{Criteria: []string{"sibling", "staff_child"}, Local: map[string]string{"staff_child": "B"}}, "B"); got != "" {
		t.Errorf("the explanation names %q without the catalogue; want none", got)
	}
	s.Criteria = []Criterion{catalogue["single_parent"], catalogue["sibling"], catalogue["staff_child"]}
	if got := s.localCriterion(&Request{Criteria: []string{"sibling", "staff_child"}, Local: map[string]string{"staff_child": "B"}}, "B"); got != "staff_child" {
		t.Errorf("the explanation at B names %q, want staff_child (the sibling claim is not confirmed)", got)
	}
	if got := s.localCriterion(&Request{Criteria: []string{"staff_child"}, Local: map[string]string{"staff_child": "B"}}, "A"); got != "" {
		t.Errorf("the explanation at A names %q, want none", got)
	}
}

// Freezing reads the facilities' decisions: a sibling claim the facility confirmed gives
// points there and nowhere else; a pending or rejected one, or a decision for a facility
// the family no longer names, gives none.
func TestAFreezeCountsConfirmedClaimsOnly(t *testing.T) {
	c := newCity(t, "bochum")
	a, b := c.kita("Kita Ahorn", 1), c.kita("Kita Birke", 1)
	claim := func(f uuid.UUID) string { return fmt.Sprintf(`{"sibling": %q, "single_parent": "yes"}`, f) }
	confirmed := c.family([]date.Date{c.start.AddMonths(-18)}, claim(a), a, b)[0]
	pending := c.family([]date.Date{c.start.AddMonths(-18)}, claim(a), a, b)[0]
	rejected := c.family([]date.Date{c.start.AddMonths(-18)}, claim(b), a, b)[0]
	moved := c.family([]date.Date{c.start.AddMonths(-18)}, claim(b), a, b)[0] // confirmed at A, then named B
	decide := func(app, f uuid.UUID, status string) {
		c.exec(`INSERT INTO application_claim (tenant_id, application_id, criterion, facility_id, status, decided_at) VALUES (?, ?, 'sibling', ?, ?, now())`,
			c.tn.ID, app, f, status)
	}
	decide(confirmed.app, a, "confirmed")
	decide(rejected.app, b, "rejected")
	decide(moved.app, a, "confirmed")
	var s *Snapshot
	c.tx(func(tx bun.Tx) error {
		var err error
		s, err = Freeze(c.ctx, tx, c.tn, c.start, c.start.AddMonths(1), c.clk.Now(), 1)
		return err
	})
	if !s.ConfirmedClaims {
		t.Error("a new snapshot does not say that claims are confirmed")
	}
	single := mustCriterionPoints(t, c, "single_parent")
	sibling := mustCriterionPoints(t, c, "sibling")
	want := map[uuid.UUID]string{
		confirmed.app: fmt.Sprintf("%d map[%s:%d]", single, a, sibling),
		pending.app:   fmt.Sprintf("%d map[]", single),
		rejected.app:  fmt.Sprintf("%d map[]", single),
		moved.app:     fmt.Sprintf("%d map[]", single),
	}
	m := s.Market(Changes{})
	for _, ch := range m.Children {
		id := uuid.MustParse(ch.ID)
		if got := fmt.Sprintf("%d %v", ch.Points, ch.Local); got != want[id] {
			t.Errorf("request %s: %s, want %s", id, got, want[id])
		}
	}
	if len(m.Children) != 4 {
		t.Errorf("%d requests frozen, want 4", len(m.Children))
	}
}

func mustCriterionPoints(t *testing.T, c *city, key string) int {
	t.Helper()
	for _, cr := range c.tn.Rules.Criteria.Catalogue {
		if cr.Key == key {
			return cr.Points
		}
	}
	t.Fatalf("bochum has no criterion %s", key)
	return 0
}
