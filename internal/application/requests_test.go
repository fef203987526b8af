package application

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant/tenanttest"
)

// The staff's request list reads requests here and children and facilities from their
// owners; it answers exactly what one query over all four tables answers, in the same
// order (names sorted by the database's collation), for every sort and filter.
func TestRequestListIsTheJoinOfItsOwners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	tn := tenanttest.Get(t, tenanttest.Registry(t, db), "kempten")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	prov, lead := uuid.New(), uuid.New()
	facs := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Träger', 'welfare')`, tn.ID, prov)
	for i, id := range facs {
		exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, lat, lon, age_min_months, age_max_months)
			VALUES (?, ?, ?, 'kita', ?, 'Weg', '1', '87435', 'Kempten', 'kempten', 47.7, 10.3, 0, 72)`, tn.ID, id, prov, []string{"Kita Sonne", "Kita Mond", "Kita Stern"}[i])
	}
	exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'staff', 'lead@test', 'pending')`, tn.ID, lead)
	exec(`INSERT INTO staff_role (tenant_id, id, account_id, role, facility_id) VALUES (?, ?, ?, 'facility_lead', ?)`, tn.ID, uuid.New(), lead, facs[0])

	names := [][2]string{{"Zoë", "Ähm"}, {"anna", "Berg"}, {"Ben", "Äpfel"}, {"Émile", "Zorn"}, {"Mia", "Muster"}, {"Lea", "muster"}, {"Tom", "Berg"}}
	statuses := []Status{StatusSubmitted, StatusInReview, StatusDraft, StatusRefused, StatusSubmitted, StatusOffered, StatusWithdrawn}
	var kids []uuid.UUID
	for i, n := range names {
		fam, child, app := uuid.New(), uuid.New(), uuid.New()
		kids = append(kids, child)
		exec(`INSERT INTO family (tenant_id, id, plz) VALUES (?, ?, '87435')`, tn.ID, fam)
		birth, expected := any(fmt.Sprintf("2025-0%d-01", i+1)), any(nil)
		if i == 3 {
			birth, expected = nil, "2026-12-01"
		}
		exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date, expected_birth_date) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			tn.ID, child, fam, n[0], n[1], birth, expected)
		crit := `{}`
		if i%2 == 0 {
			crit = `{"employment": "yes"}`
		}
		exec(`INSERT INTO application (tenant_id, id, child_id, status, reference, start_date, start_period, care_hours, criteria, submitted_at)
			VALUES (?, ?, ?, ?, ?, ?, '2027-01-01', ?, ?, ?)`, tn.ID, app, child, statuses[i], fmt.Sprintf("KEM-2026-%06d", i+1),
			fmt.Sprintf("2027-%02d-01", 9-i%3), []int{25, 35, 45}[i%3], crit, fmt.Sprintf("2026-11-%02d 10:00:00+01", 20-i))
		for rank := 1; rank <= 1+i%3; rank++ {
			exec(`INSERT INTO application_choice (tenant_id, application_id, rank, facility_id, status) VALUES (?, ?, ?, ?, ?)`,
				tn.ID, app, rank, facs[(i+rank)%3], []ChoiceStatus{ChoicePending, ChoiceInReview, ChoiceRefused}[rank-1])
		}
	}
	exec(`INSERT INTO child_duplicate (tenant_id, id, child_id, other_child_id) VALUES (?, ?, ?, ?)`, tn.ID, uuid.New(), kids[4], kids[5])
	exec(`INSERT INTO child_duplicate (tenant_id, id, child_id, other_child_id, status) VALUES (?, ?, ?, ?, 'dismissed')`, tn.ID, uuid.New(), kids[1], kids[6])

	support := auth.Caller{Tenant: tn, Principal: &auth.Principal{Kind: auth.KindSupport, ID: uuid.New(), TenantID: tn.ID}}
	facilityLead := auth.Caller{Tenant: tn, Principal: &auth.Principal{Kind: auth.KindStaff, ID: lead, TenantID: tn.ID, MFADone: true}}
	filters := []Filter{
		{}, {Sort: "points"}, {Sort: "submitted"}, {Sort: "start"}, {Sort: "name"}, {Sort: "name", Limit: 4},
		{Facility: facs[1], Sort: "name"}, {Status: StatusSubmitted}, {CareHours: 35, Sort: "start"},
		{StartFrom: date.MustParse("2027-08-01"), StartTo: date.MustParse("2027-08-31")}, {Facility: uuid.New()},
	}
	var total int
	for _, c := range []auth.Caller{support, facilityLead} {
		for _, f := range filters {
			var got, want []RequestRow
			err := database.InTenantTx(ctx, db, tn.ID, func(ctx context.Context, tx bun.Tx) error {
				var err error
				if got, err = requestRows(ctx, tx, c, f); err != nil {
					return err
				}
				want, err = joinedRequestRows(ctx, tx, c, f)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			total += len(got)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %+v:\n got %v\nwant %v", c.Principal.Kind, f, got, want)
			}
		}
	}
	if total < 40 {
		t.Errorf("the lists showed %d rows in all; is the fixture still right?", total)
	}
}

// joinedRequestRows is the staff's request list as one query over the four tables.
func joinedRequestRows(ctx context.Context, tx bun.IDB, c auth.Caller, f Filter) ([]RequestRow, error) {
	scope, scopeArgs := authz.FacilityScope(c.Principal, "fac")
	q := `SELECT a.id AS application_id, coalesce(a.reference, '') AS reference, ch.id AS child_id, ch.first_name, ch.last_name,
			coalesce(ch.birth_date, ch.expected_birth_date) AS birth_date, a.start_date, a.care_hours, c.rank, fac.id AS facility_id,
			fac.name AS facility, c.status AS choice_status, a.status, a.source, a.submitted_at, a.criteria,
			EXISTS (SELECT 1 FROM child_duplicate d WHERE d.tenant_id = ch.tenant_id AND d.status = 'open'
			        AND (d.child_id = ch.id OR d.other_child_id = ch.id)) AS duplicate
		FROM application a
		JOIN child ch ON ch.tenant_id = a.tenant_id AND ch.id = a.child_id
		JOIN application_choice c ON c.tenant_id = a.tenant_id AND c.application_id = a.id
		JOIN facility fac ON fac.tenant_id = c.tenant_id AND fac.id = c.facility_id
		WHERE a.tenant_id = ? AND a.status <> 'draft' AND ` + scope
	args := append([]any{c.Tenant.ID}, scopeArgs...)
	if f.Facility != uuid.Nil {
		q += ` AND fac.id = ?`
		args = append(args, f.Facility)
	}
	if f.Status != "" {
		q += ` AND a.status = ?`
		args = append(args, f.Status)
	}
	if !f.StartFrom.IsZero() {
		q += ` AND a.start_date >= ?`
		args = append(args, f.StartFrom)
	}
	if !f.StartTo.IsZero() {
		q += ` AND a.start_date <= ?`
		args = append(args, f.StartTo)
	}
	if f.CareHours > 0 {
		q += ` AND a.care_hours = ?`
		args = append(args, f.CareHours)
	}
	order := map[string]string{"submitted": "a.submitted_at, a.id", "start": "a.start_date, a.submitted_at, a.id",
		"name": "ch.last_name, ch.first_name, a.id"}[f.Sort]
	if order == "" {
		order = "a.submitted_at, a.id"
	}
	limit := f.Limit
	if limit <= 0 || limit > MaxRequestRows {
		limit = MaxRequestRows
	}
	q += ` ORDER BY ` + order + `, c.rank LIMIT ?`
	args = append(args, limit)
	rows := []RequestRow{}
	if err := tx.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].Points = PointsAt(c.Tenant.Rules, rows[i].Criteria, rows[i].FacilityID, nil) // the fixture claims no facility criteria
	}
	if f.Sort == "points" {
		cards, err := family.ChildCards(ctx, tx, c.Tenant.ID, childIDs(rows))
		if err != nil {
			return nil, err
		}
		sibling, err := siblingsOf(ctx, tx, c.Tenant, rows, cards)
		if err != nil {
			return nil, err
		}
		rankRows(c.Tenant.Rules, rows, rankInputs{sibling: sibling})
	}
	return rows, nil
}
