package contract_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/contract"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant/tenanttest"
)

// Against the real PostgreSQL: many staff entering the same new child at the same moment
// leave one child and one contract; every other entry is refused as a duplicate.
func TestConcurrentEntriesOfOneNewChildLeaveOne(t *testing.T) {
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
	provider, kita, lead := uuid.New(), uuid.New(), uuid.New()
	exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Träger', 'municipal')`, tn.ID, provider)
	exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, lat, lon, age_min_months, age_max_months)
		VALUES (?, ?, ?, 'kita', 'Kita A', 'Weg', '1', '04103', 'Leipzig', 'leipzig', 51.3, 12.4, 0, 84)`, tn.ID, kita, provider)
	exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'staff', 'traeger@test', 'pending')`, tn.ID, lead)
	exec(`INSERT INTO staff_role (tenant_id, id, account_id, role, provider_id) VALUES (?, ?, ?, 'provider_admin', ?)`, tn.ID, uuid.New(), lead, provider)

	s := newService(t, db, clock.NewManual(time.Date(2026, 11, 21, 10, 0, 0, 0, clock.Berlin)))
	caller := auth.Caller{Tenant: tn, Principal: &auth.Principal{Kind: auth.KindStaff, ID: lead, TenantID: tn.ID, MFADone: true}}
	const racers = 30
	for run := range 5 {
		last := fmt.Sprintf("Kurz%c", 'a'+run)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, racers)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The same child as typed by different people: case and spaces differ.
				first, family := "Ben", last
				if i%3 == 1 {
					first, family = " ben ", " "+last+" "
				}
				<-start
				_, errs[i] = s.Create(ctx, caller, contract.NewContract{FacilityID: kita, CareHours: 30,
					Child: &contract.NewChild{FirstName: first, LastName: family, BirthDate: date.MustParse("2025-01-10"),
						GuardianFirstName: "Eva", GuardianLastName: last, Street: "Weg", HouseNumber: "2", PLZ: "04103", City: "Leipzig"},
					Start: date.MustParse("2027-01-01"), End: date.MustParse("2027-08-01"), Source: "manual"})
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if e, isApp := apperr.As(err); !isApp || e.Code != "contract_child_already_contracted" {
				t.Errorf("run %d: a racing entry failed otherwise: %v", run, err)
			}
		}
		var children, contracts int
		if err := db.QueryRowContext(ctx, `SELECT count(*), (SELECT count(*) FROM contract k JOIN child c ON c.tenant_id = k.tenant_id AND c.id = k.child_id
			WHERE c.tenant_id = ?0 AND lower(c.last_name) = lower(?1))
			FROM child WHERE tenant_id = ?0 AND lower(last_name) = lower(?1)`, tn.ID, last).Scan(&children, &contracts); err != nil {
			t.Fatal(err)
		}
		if ok != 1 || children != 1 || contracts != 1 {
			t.Errorf("run %d: %d entries succeeded, %d children and %d contracts exist, want exactly one each", run, ok, children, contracts)
		}
	}
}
