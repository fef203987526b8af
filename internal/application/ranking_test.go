package application

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/database"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// Each seed city's tie-breaks order the same tied requests differently.
func TestStaffListsFollowTheCitysTieBreaks(t *testing.T) {
	t.Parallel()
	at := func(day int) *time.Time { v := time.Date(2026, 11, day, 10, 0, 0, 0, time.UTC); return &v }
	sibling := uuid.New()
	// Filing order: A, B, C, D, E, G. A and B have 5 points; C and D 3; E and G 1.
	base := []RequestRow{
		{Reference: "A", Points: 5, BirthDate: date.MustParse("2025-06-01"), SubmittedAt: at(1), ChildID: uuid.New()},
		{Reference: "B", Points: 5, BirthDate: date.MustParse("2025-02-01"), SubmittedAt: at(2), ChildID: sibling},
		// E claims a sibling at the facility; only confirmed would it count (see G).
		{Reference: "E", Points: 1, BirthDate: date.MustParse("2025-03-01"), SubmittedAt: at(4), ChildID: uuid.New(),
			Claims: []Claim{{Criterion: SiblingCriterion, Status: ClaimPending}}},
		{Reference: "G", Points: 1, BirthDate: date.MustParse("2025-04-01"), SubmittedAt: at(5), ChildID: uuid.New(),
			Claims: []Claim{{Criterion: SiblingCriterion, Status: ClaimConfirmed}}},
		{Reference: "C", Points: 3, BirthDate: date.MustParse("2025-01-01"), SubmittedAt: at(3), ChildID: uuid.New()},
		{Reference: "D", Points: 3, BirthDate: date.MustParse("2024-12-01"), SubmittedAt: at(3), ChildID: uuid.New()},
	}
	for _, tc := range []struct {
		city      string
		tieBreaks []string
		want      string
	}{
		{"leipzig", []string{"points", "application_date"}, "A B C D E G"}, // C and D filed at the same moment: filing order stays
		{"kempten", []string{"points", "birth_date", "application_date"}, "B A D C E G"},
		{"herzberg", []string{"points", "siblings", "application_date"}, "B A C D G E"},
		{"bochum", []string{"points", "siblings", "birth_date", "lottery"}, "B A D C G E"},
		{"first come", []string{"application_date"}, "A B C D E G"},
		{"age only", []string{"birth_date", "lottery"}, "D C B E G A"},
	} {
		rows := append([]RequestRow(nil), base...)
		r := &tenant.Rules{Criteria: tenant.Criteria{TieBreaks: tc.tieBreaks}}
		rankRows(r, rows, rankInputs{sibling: map[uuid.UUID]bool{sibling: true}})
		var got []string
		for _, row := range rows {
			got = append(got, row.Reference)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s %v: %s, want %s", tc.city, tc.tieBreaks, strings.Join(got, " "), tc.want)
		}
	}
}

// In Herzberg (points, siblings, application_date) a family that applies for two
// children comes before an earlier family with the same points, in the real list.
func TestHerzbergListsSiblingsFirstAmongEqualPoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	tn := tenanttest.Get(t, tenanttest.Registry(t, db), "herzberg")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	prov, fac := uuid.New(), uuid.New()
	exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Stadt', 'municipal')`, tn.ID, prov)
	exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, lat, lon, age_min_months, age_max_months)
		VALUES (?, ?, ?, 'kita', 'Kita Regenbogen', 'Weg', '1', '04916', 'Herzberg', 'herzberg', 51.69, 13.23, 0, 72)`, tn.ID, fac, prov)
	file := func(fam uuid.UUID, ref string, day int) {
		child, app := uuid.New(), uuid.New()
		exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, ?, 'Kind', '2025-03-01')`, tn.ID, child, fam, ref)
		exec(`INSERT INTO application (tenant_id, id, child_id, status, reference, start_date, start_period, care_hours, criteria, submitted_at)
			VALUES (?, ?, ?, 'submitted', ?, '2027-08-01', '2027-08-01', 30, '{"employment": "yes"}', ?)`, tn.ID, app, child, ref,
			fmt.Sprintf("2026-11-%02d 10:00:00+01", day))
		exec(`INSERT INTO application_choice (tenant_id, application_id, rank, facility_id, status) VALUES (?, ?, 1, ?, 'pending')`, tn.ID, app, fac)
	}
	alone, twins := uuid.New(), uuid.New()
	for _, f := range []uuid.UUID{alone, twins} {
		exec(`INSERT INTO family (tenant_id, id, plz) VALUES (?, ?, '04916')`, tn.ID, f)
	}
	file(alone, "early", 1)
	file(twins, "twin-1", 5)
	file(twins, "twin-2", 6)
	support := auth.Caller{Tenant: tn, Principal: &auth.Principal{Kind: auth.KindSupport, ID: uuid.New(), TenantID: tn.ID}}
	for sort, want := range map[string]string{"points": "twin-1 twin-2 early", "submitted": "early twin-1 twin-2"} {
		var rows []RequestRow
		if err := database.InTenantTx(ctx, db, tn.ID, func(ctx context.Context, tx bun.Tx) error {
			var err error
			rows, err = requestRows(ctx, tx, support, Filter{Sort: sort})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Reference)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("sort %s: %v, want %s", sort, got, want)
		}
	}
}
