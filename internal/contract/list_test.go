package contract_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/contract"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/tenant/tenanttest"
)

// Against the real PostgreSQL: the register reads only contracts and takes the names
// from their owners, yet lists exactly what one query over contract, facility, child and
// group would: by facility name (two facilities of one name mix their children), the
// child's last and first name, start and id, cut after the first 2000 rows.
func TestTheRegisterListsInTheOrderOfTheNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	tn := tenanttest.Get(t, tenanttest.Registry(t, db), "leipzig")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	provider, lead, family := uuid.New(), uuid.New(), uuid.New()
	exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Träger', 'municipal')`, tn.ID, provider)
	kitas := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	for i, name := range []string{"Kita Süd", "Kita Nord", "Kita Süd", "Äpfelchen"} {
		exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, lat, lon, age_min_months, age_max_months)
			VALUES (?, ?, ?, 'kita', ?, 'Weg', '1', '04103', 'Leipzig', 'leipzig', 51.3, 12.4, 0, 84)`, tn.ID, kitas[i], provider, name)
	}
	group := uuid.New()
	exec(`INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours) VALUES (?, ?, ?, 'Bären', 'krippe', 50)`, tn.ID, group, kitas[0])
	exec(`INSERT INTO family (tenant_id, id) VALUES (?, ?)`, tn.ID, family)
	// 2300 children of few names (in two cases), each with one contract: most at the two
	// facilities of one name, so the cut falls in their middle.
	exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date)
		SELECT ?, gen_random_uuid(), ?, (ARRAY['Ben', 'ben', 'Öli', 'Zoe'])[1 + n % 4], (ARRAY['Meier', 'meier', 'Özil', 'Abel', 'Zander'])[1 + n % 5],
		       date '2024-01-01' + (n % 300)
		FROM generate_series(1, 2300) AS n`, tn.ID, family)
	exec(`INSERT INTO contract (tenant_id, child_id, facility_id, group_id, care_hours, start_date, end_date, status, source)
		SELECT ch.tenant_id, ch.id, (?::uuid[])[1 + (row_number() OVER (ORDER BY ch.id)) % 7 % 4], NULL, 30,
		       date '2026-09-01' + (row_number() OVER (ORDER BY ch.id))::int % 3, date '2028-08-01',
		       (ARRAY['active', 'active', 'terminated', 'cancelled'])[1 + (row_number() OVER (ORDER BY ch.id)) % 11 % 4], 'manual'
		FROM child ch WHERE ch.tenant_id = ? AND ch.family_id = ?`, "{"+kitas[0].String()+","+kitas[2].String()+","+kitas[2].String()+","+kitas[1].String()+"}", tn.ID, family)
	exec(`UPDATE contract SET group_id = ? WHERE tenant_id = ? AND facility_id = ? AND care_hours = 30 AND start_date = '2026-09-02'`, group, tn.ID, kitas[0])
	exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'staff', 'traeger@test', 'pending')`, tn.ID, lead)
	exec(`INSERT INTO staff_role (tenant_id, id, account_id, role, provider_id) VALUES (?, ?, ?, 'provider_admin', ?)`, tn.ID, uuid.New(), lead, provider)

	s := newService(t, db, clock.NewManual(time.Date(2026, 11, 21, 10, 0, 0, 0, clock.Berlin)))
	caller := auth.Caller{Tenant: tn, Principal: &auth.Principal{Kind: auth.KindStaff, ID: lead, TenantID: tn.ID, MFADone: true}}
	for _, f := range []contract.Filter{{Show: contract.ShowAll}, {Show: contract.ShowCurrent}, {Show: contract.ShowEnded}, {FacilityID: kitas[0], Show: contract.ShowAll}} {
		var want []contract.Contract
		where := `k.status <> 'cancelled'`
		switch f.Show {
		case contract.ShowAll:
			where = `true`
		case contract.ShowEnded:
			where = `k.status = 'cancelled'`
		}
		if f.FacilityID != uuid.Nil {
			where += ` AND k.facility_id = '` + f.FacilityID.String() + `'`
		}
		if err := db.NewRaw(`SELECT k.id, k.facility_id, f.name AS facility, k.group_id, coalesce(g.name, '') AS group_name, k.child_id,
				ch.first_name, ch.last_name, ch.birth_date, k.care_hours, k.start_date, k.end_date, k.status, k.source,
				coalesce(k.reference, '') AS reference, k.replaces_id
			FROM contract k JOIN facility f ON f.tenant_id = k.tenant_id AND f.id = k.facility_id
			JOIN child ch ON ch.tenant_id = k.tenant_id AND ch.id = k.child_id
			LEFT JOIN facility_group g ON g.tenant_id = k.tenant_id AND g.id = k.group_id
			WHERE k.tenant_id = ? AND `+where+` ORDER BY f.name, ch.last_name, ch.first_name, k.start_date, k.id LIMIT 2000`, tn.ID).Scan(ctx, &want); err != nil {
			t.Fatal(err)
		}
		got, err := s.List(ctx, caller, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) < 10 {
			t.Fatalf("%+v: only %d contracts to compare", f, len(want))
		}
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		if string(w) != string(g) {
			t.Errorf("%+v: the register lists %d contracts otherwise than the joined query (%d)", f, len(got), len(want))
			for i := range min(len(want), len(got)) {
				if a, b := want[i], got[i]; a.ID != b.ID || a.Facility != b.Facility || a.LastName != b.LastName || a.Group != b.Group {
					t.Errorf("first difference at row %d: want %+v, got %+v", i, a, b)
					break
				}
			}
		}
	}
}
