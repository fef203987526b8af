package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/offer"
	"kitaportal/internal/placement"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// SeedOffers files a request of the demo parent's second child for a start three months
// ahead (inside every city's lead time) at two Krippen with a free place, and lets the
// city's demo administration offer the first one: after `make run` the demo parent has
// an offer to accept (Herzberg: a proposal waiting for the administration; Lüneburg:
// the first choice's turn; Bochum allocates centrally and gets none). DEMO ONLY;
// running it again changes nothing.
func SeedOffers(ctx context.Context, db bun.IDB, t *tenant.Tenant, offers *placement.Service, today date.Date) error {
	if t.Rules.Allocation.Mode == tenant.ModeDeferredAcceptance {
		return nil
	}
	start := today.FirstOfMonth().AddMonths(3)
	birth := start.AddMonths(-17)
	famID := uuid.NewSHA1(namespace, []byte(t.Slug+"/family/eltern"))
	child := uuid.NewSHA1(namespace, []byte(famID.String()+"/child/offer"))
	app := uuid.NewSHA1(namespace, []byte(famID.String()+"/application/offer"))
	band, ok := t.Rules.Calendar().BandAt(birth, start)
	if !ok {
		return nil
	}
	hours := t.Rules.CareScopes[len(t.Rules.CareScopes)/2]
	filed := false
	err := database.InTenantTx(ctx, db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date)
			VALUES (?, ?, ?, 'Lina', 'Demo', ?) ON CONFLICT DO NOTHING`, t.ID, child, famID, birth)
		if err != nil {
			return fmt.Errorf("demo offers: child: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // seeded before
		}
		var kitas []uuid.UUID
		if err := tx.NewRaw(`SELECT DISTINCT f.id FROM facility f JOIN facility_group g ON g.tenant_id = f.tenant_id AND g.facility_id = f.id
			WHERE f.tenant_id = ? AND g.age_band = ? AND f.type NOT IN ('tagespflege', 'grosstagespflege') ORDER BY f.id`, t.ID, band.Key).
			Scan(ctx, &kitas); err != nil {
			return err
		}
		free, err := availability.Lookup(ctx, tx, t.ID, kitas, band.Key, hours, start)
		if err != nil {
			return err
		}
		var choices []uuid.UUID
		for _, k := range kitas {
			if free[k] > 0 && len(choices) < 2 {
				choices = append(choices, k)
			}
		}
		if len(choices) == 0 {
			return nil
		}
		now := time.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO application (tenant_id, id, child_id, reference, status, start_date, start_period, care_hours,
			criteria, source, submitted_at, declared_at) VALUES (?, ?, ?, ?, 'submitted', ?, ?, ?, '{}', 'online', ?, ?)`,
			t.ID, app, child, application.ReferencePrefix(t.Slug)+"-DEMO-OFFER", start, t.Rules.Calendar().YearStart(start), hours, now, now); err != nil {
			return err
		}
		for r, k := range choices {
			status, turn := application.ChoicePending, any(nil)
			if t.Rules.Allocation.Mode == tenant.ModeCascade {
				if r == 0 {
					turn = application.TurnEnd(t, now)
				} else {
					status = application.ChoiceQueued
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO application_choice (tenant_id, application_id, rank, facility_id, status, turn_until)
				VALUES (?, ?, ?, ?, ?, ?)`, t.ID, app, r+1, k, status, turn); err != nil {
				return err
			}
		}
		filed = true
		return nil
	})
	if err != nil || !filed {
		return err
	}
	admin := uuid.NewSHA1(namespace, []byte(t.Slug+"/account/admin"))
	caller := auth.Caller{Tenant: t, Principal: &auth.Principal{Kind: auth.KindStaff, ID: admin, TenantID: t.ID, MFADone: true}}
	if _, err := offers.Make(ctx, caller, placement.NewOffer{ApplicationID: app, Rank: 1, Reason: "Demo"}); err != nil && !errors.Is(err, offer.ErrChoiceOffered) {
		return fmt.Errorf("demo offers: %w", err)
	}
	return nil
}
