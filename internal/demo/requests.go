package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// DemoRequests is how many demo requests per city are filed: one family files for
// twins, every other family for one child.
const DemoRequests = 40

// SeedRequests gives the demo parent a family with a child (ready to file a request) and
// writes DemoRequests submitted requests of invented families for the next Kita year, a
// quarter of them naming the demo lead's facility first, so the staff lists are not
// empty. DEMO ONLY (personal-looking data): the seed calls it outside production only.
// Deterministic; running it again changes nothing.
func SeedRequests(ctx context.Context, db bun.IDB, t *tenant.Tenant, today date.Date) error {
	rng := newRand(t.Slug, "requests")
	cal := t.Rules.Calendar()
	start := cal.YearStart(today.AddMonths(12))
	if t.Rules.Registration.NoticeMonths > 0 && start.Before(today.AddMonths(t.Rules.Registration.NoticeMonths)) {
		start = start.AddMonths(12)
	}
	birth := start.AddMonths(-14) // a Krippe child at the start
	return database.InTenantTx(ctx, db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var plz, muni, city string
		if err := tx.QueryRowContext(ctx, `SELECT plz, municipality_key, place FROM postcode WHERE tenant_id = ? ORDER BY plz LIMIT 1`, t.ID).
			Scan(&plz, &muni, &city); err != nil {
			return fmt.Errorf("demo requests: postcode: %w", err)
		}
		// The facility of the demo lead (SeedAccounts) gets a quarter of the requests.
		var lead uuid.UUID
		if err := tx.QueryRowContext(ctx, `SELECT facility_id FROM staff_role WHERE tenant_id = ? AND id = ?`,
			t.ID, uuid.NewSHA1(namespace, []byte(t.Slug+"/role/leitung"))).Scan(&lead); err != nil {
			return fmt.Errorf("demo requests: the demo lead's facility (seed the accounts first): %w", err)
		}
		var krippen []uuid.UUID
		if err := tx.NewRaw(`SELECT DISTINCT f.id FROM facility f JOIN facility_group g ON g.tenant_id = f.tenant_id AND g.facility_id = f.id
			WHERE f.tenant_id = ? AND g.age_band = 'krippe' AND f.municipality_key = ? AND f.type NOT IN ('tagespflege', 'grosstagespflege')
			ORDER BY f.id LIMIT 60`, t.ID, muni).Scan(ctx, &krippen); err != nil {
			return err
		}
		if len(krippen) == 0 {
			return nil
		}
		hours := t.Rules.CareScopes[len(t.Rules.CareScopes)/2]
		now := time.Now()

		// The demo parent: a family and a child, no request yet.
		parent := uuid.NewSHA1(namespace, []byte(t.Slug+"/account/eltern"))
		famID := uuid.NewSHA1(namespace, []byte(t.Slug+"/family/eltern"))
		if err := demoFamily(ctx, tx, t, famID, &parent, "Erika", "Demo", "Paul", birth, plz, muni, city); err != nil {
			return err
		}
		file := func(app, child uuid.UUID, i int, choices []uuid.UUID, submitted time.Time) error {
			res, err := tx.ExecContext(ctx, `INSERT INTO application (tenant_id, id, child_id, reference, status, start_date, start_period, care_hours,
				criteria, source, submitted_at, declared_at) VALUES (?, ?, ?, ?, 'submitted', ?, ?, ?, '{}', 'online', ?, ?) ON CONFLICT DO NOTHING`,
				t.ID, app, child, fmt.Sprintf("%s-DEMO-%06d", application.ReferencePrefix(t.Slug), i+1), start, start, hours, submitted, submitted)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // seeded before
			}
			for r, f := range choices {
				if _, err := tx.ExecContext(ctx, `INSERT INTO application_choice (tenant_id, application_id, rank, facility_id) VALUES (?, ?, ?, ?)`,
					t.ID, app, r+1, f); err != nil {
					return err
				}
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO application_event (tenant_id, id, application_id, at, actor_kind, to_status)
				VALUES (?, ?, ?, ?, 'parent', 'submitted')`, t.ID, uuid.NewSHA1(namespace, []byte(app.String()+"/event")), app, submitted)
			return err
		}
		for i := range DemoRequests - 1 {
			fam := uuid.NewSHA1(namespace, []byte(fmt.Sprintf("%s/family/%d", t.Slug, i)))
			first, last := pick(rng, adultFirstNames), pick(rng, lastNames)
			kid := pick(rng, childFirstNames)
			b := birth.AddDays(-rng.IntN(200))
			if err := demoFamily(ctx, tx, t, fam, nil, first, last, kid, b, plz, muni, city); err != nil {
				return err
			}
			child := uuid.NewSHA1(namespace, []byte(fam.String()+"/child"))
			app := uuid.NewSHA1(namespace, []byte(fam.String()+"/application"))
			n := 1 + rng.IntN(min(t.Rules.Registration.MaxChoices, len(krippen)))
			choices := pickN(rng, krippen, n)
			if i%4 == 0 && !slices.Contains(choices, lead) {
				choices = append([]uuid.UUID{lead}, choices[:len(choices)-1]...)
			}
			submitted := now.Add(-time.Duration(1+rng.IntN(120*24)) * time.Hour)
			if err := file(app, child, i, choices, submitted); err != nil {
				return err
			}
			if i == 0 {
				// Twins: the first family files the same wishes for a second child born
				// the same day, so a central round has siblings to place together.
				twin := uuid.NewSHA1(namespace, []byte(fam.String()+"/child/2"))
				if _, err := tx.ExecContext(ctx, `INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date, dedupe_key)
					VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, t.ID, twin, fam, twinName(kid), last, b, family.DedupeKey(twinName(kid), last, b)); err != nil {
					return err
				}
				if err := file(uuid.NewSHA1(namespace, []byte(fam.String()+"/application/2")), twin, DemoRequests-1, choices, submitted); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func demoFamily(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID, account *uuid.UUID, first, last, kid string, birth date.Date, plz, muni, city string) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO family (tenant_id, id, street, house_number, plz, city, municipality_key)
		VALUES (?, ?, 'Demoweg', ?, ?, ?, ?) ON CONFLICT DO NOTHING`, t.ID, id, fmt.Sprint(1+int(id[0])%90), plz, city, muni)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO guardian (tenant_id, id, family_id, user_id, first_name, last_name) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, uuid.NewSHA1(namespace, []byte(id.String()+"/guardian")), id, account, first, last); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, uuid.NewSHA1(namespace, []byte(id.String()+"/child")), id, kid, last, birth, family.DedupeKey(kid, last, birth))
	return err
}

func pickN(rng *rand.Rand, from []uuid.UUID, n int) []uuid.UUID {
	idx := rng.Perm(len(from))[:n]
	out := make([]uuid.UUID, n)
	for i, j := range idx {
		out[i] = from[j]
	}
	return out
}

// twinName gives the twin a first name other than its sibling's.
func twinName(sibling string) string {
	for _, n := range childFirstNames {
		if n != sibling {
			return n
		}
	}
	return sibling + " Zwei"
}
