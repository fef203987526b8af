package demo

import (
	"context"
	"testing"

	"kitaportal/internal/auth"
)

func TestDemoRequestsAreSeededOnceAndReachTheDemoLead(t *testing.T) {
	t.Parallel()
	db, reg := setup(t)
	tn := mustTenant(t, reg, "herzberg")
	mustSeed(t, db, tn, seedDay)
	keys, err := auth.NewKeys("a test secret of at least thirty-two characters")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SeedAccounts(context.Background(), db, tn, auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 1), keys); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := SeedRequests(context.Background(), db, tn, seedDay); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, db, `SELECT count(*) FROM application WHERE tenant_id = ? AND status = 'submitted' AND reference LIKE 'HER-DEMO-%'`, tn.ID); n != DemoRequests {
		t.Errorf("%d demo requests, want %d", n, DemoRequests)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM application_choice c JOIN staff_role r ON r.tenant_id = c.tenant_id AND r.facility_id = c.facility_id
		WHERE c.tenant_id = ? AND r.role = 'facility_lead'`, tn.ID); n < DemoRequests/4 {
		t.Errorf("the demo lead's facility is named %d times", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM guardian g JOIN account a ON a.tenant_id = g.tenant_id AND a.id = g.user_id
		JOIN child c ON c.tenant_id = g.tenant_id AND c.family_id = g.family_id WHERE g.tenant_id = ? AND a.email = 'eltern@herzberg.demo'`, tn.ID); n != 1 {
		t.Errorf("the demo parent has %d children, want 1", n)
	}
	// One family files for twins: two children, born the same day, the same wishes.
	if n := queryInt(t, db, `SELECT count(*) FROM (SELECT c.family_id FROM application a JOIN child c ON c.tenant_id = a.tenant_id AND c.id = a.child_id
		WHERE a.tenant_id = ? GROUP BY c.family_id HAVING count(*) = 2 AND count(DISTINCT c.birth_date) = 1 AND count(DISTINCT c.first_name) = 2) twins`, tn.ID); n != 1 {
		t.Errorf("%d families file for twins, want 1", n)
	}
	// Every demo request satisfies the schema's rules: start period, choices in range.
	if n := queryInt(t, db, `SELECT count(*) FROM application a WHERE a.tenant_id = ? AND NOT EXISTS (
		SELECT 1 FROM application_choice c WHERE c.tenant_id = a.tenant_id AND c.application_id = a.id)`, tn.ID); n != 0 {
		t.Errorf("%d requests without a choice", n)
	}
}
