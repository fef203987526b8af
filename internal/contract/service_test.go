package contract_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/contract"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant/tenanttest"
)

// Against the real PostgreSQL: the database itself refuses two overlapping contracts of
// one child and a group of another facility, whatever the code does; concurrent entries
// for one child leave exactly one contract.
func TestTheDatabaseKeepsOneContractPerChild(t *testing.T) {
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
	provider, lead := uuid.New(), uuid.New()
	kitas := [2]uuid.UUID{uuid.New(), uuid.New()}
	exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Träger', 'municipal')`, tn.ID, provider)
	for i, id := range kitas {
		exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, lat, lon, age_min_months, age_max_months)
			VALUES (?, ?, ?, 'kita', ?, 'Weg', '1', '04103', 'Leipzig', 'leipzig', 51.3, 12.4, 0, 84)`, tn.ID, id, provider, "Kita "+string(rune('A'+i)))
	}
	groupB := uuid.New()
	exec(`INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours) VALUES (?, ?, ?, 'B', 'krippe', 50)`, tn.ID, groupB, kitas[1])
	family, child := uuid.New(), uuid.New()
	exec(`INSERT INTO family (tenant_id, id) VALUES (?, ?)`, tn.ID, family)
	exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, 'Ben', 'Kurz', '2025-01-10')`, tn.ID, child, family)
	exec(`INSERT INTO contract (tenant_id, child_id, facility_id, care_hours, start_date, end_date, source) VALUES (?, ?, ?, 30, '2026-01-01', '2026-12-01', 'manual')`, tn.ID, child, kitas[0])
	exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'staff', 'traeger@test', 'pending')`, tn.ID, lead)
	exec(`INSERT INTO staff_role (tenant_id, id, account_id, role, provider_id) VALUES (?, ?, ?, 'provider_admin', ?)`, tn.ID, uuid.New(), lead, provider)

	insert := func(facility uuid.UUID, group any, start, end string) error {
		return database.InTenantTx(ctx, db, tn.ID, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO contract (tenant_id, child_id, facility_id, group_id, care_hours, start_date, end_date, source)
				VALUES (?, ?, ?, ?, 30, ?, ?, 'manual')`, tn.ID, child, facility, group, start, end)
			return err
		})
	}
	if err := insert(kitas[1], nil, "2026-11-01", "2027-08-01"); !database.IsExclusionViolation(err, "contract_one_per_child") {
		t.Errorf("an overlapping contract elsewhere: %v", err)
	}
	if err := insert(kitas[0], groupB, "2026-12-01", "2027-08-01"); !database.IsForeignKeyViolation(err, "contract_group_of_facility") {
		t.Errorf("a group of another facility: %v", err)
	}
	if err := insert(kitas[1], groupB, "2026-12-01", "2027-08-01"); err != nil {
		t.Errorf("the next contract, right after the first: %v", err)
	}

	// Two staff members enter a contract for the same new period at the same moment.
	s := newService(t, db, clock.NewManual(time.Date(2026, 11, 21, 10, 0, 0, 0, clock.Berlin)))
	caller := auth.Caller{Tenant: tn, Principal: &auth.Principal{Kind: auth.KindStaff, ID: lead, TenantID: tn.ID, MFADone: true}}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Create(ctx, caller, contract.NewContract{FacilityID: kitas[i%2], ChildID: child, CareHours: 30,
				Start: date.MustParse("2027-08-01"), End: date.MustParse("2028-08-01"), Source: "manual"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if e, isApp := apperr.As(err); !isApp || e.Code != "contract_overlaps" {
			t.Errorf("a racing entry failed otherwise: %v", err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM contract WHERE child_id = ? AND start_date = '2027-08-01'`, child).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if ok != 1 || n != 1 {
		t.Errorf("%d entries succeeded and %d contracts exist, want exactly one", ok, n)
	}
}
