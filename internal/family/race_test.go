package family_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/family"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant/tenanttest"
)

// Against the real PostgreSQL: the same child entered in many families at the same moment
// (walk-ins, pre-registrations, imports) is flagged as a duplicate between every pair of
// records; without the identity lock the racing writers would not see each other.
func TestConcurrentEntriesOfOneChildAreAllFlagged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	tn := tenanttest.Get(t, tenanttest.Registry(t, db), "leipzig")
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	const racers = 30
	for run := range 5 {
		last := fmt.Sprintf("Lang%c", 'a'+run)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, racers)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first := "Mia"
				if i%2 == 1 {
					first = "MIA"
				}
				nc, err := family.CheckChild(family.ChildInput{FirstName: first, LastName: last, BirthDate: "2025-03-04"}, date.In(now))
				if err != nil {
					errs[i] = err
					return
				}
				<-start
				errs[i] = database.InTenantTx(ctx, db, tn.ID, func(ctx context.Context, tx bun.Tx) error {
					fam := uuid.New()
					if _, err := tx.ExecContext(ctx, `INSERT INTO family (tenant_id, id) VALUES (?, ?)`, tn.ID, fam); err != nil {
						return err
					}
					_, err := family.CreateChild(ctx, tx, tn.ID, fam, nc, now)
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
		}
		var children, flags int
		if err := db.QueryRowContext(ctx, `SELECT count(*), (SELECT count(*) FROM child_duplicate d JOIN child c ON c.tenant_id = d.tenant_id AND c.id = d.child_id
			WHERE c.tenant_id = ?0 AND c.last_name = ?1) FROM child WHERE tenant_id = ?0 AND last_name = ?1`, tn.ID, last).Scan(&children, &flags); err != nil {
			t.Fatal(err)
		}
		if want := racers * (racers - 1) / 2; children != racers || flags != want {
			t.Errorf("run %d: %d children with %d duplicate flags, want %d with %d", run, children, flags, racers, want)
		}
	}
}
