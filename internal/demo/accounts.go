package demo

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/operator"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/staff"
	"kitaportal/internal/tenant"
)

// DemoPassword is the password of every demo account. DEMO ONLY: the seed refuses to
// create these accounts in production.
const DemoPassword = "Sommerwiese-Demo-2026"

// Account is a demo account as `kitaportal seed` prints it.
type Account struct {
	Tenant string // slug; "" for the operator
	Kind   string // parent, staff, operator
	Role   string // staff role (with its scope in Scope)
	Scope  string
	Email  string
	TOTP   string // base32 secret of the second factor ("" for parents)
	URI    string // otpauth:// URI of the secret
}

// demoSecret derives a fixed TOTP secret, so the printed secret stays valid across
// re-seeding.
func demoSecret(name string) []byte {
	h := sha256.Sum256([]byte("kitaportal demo totp secret/" + name))
	return h[:20]
}

// SeedAccounts creates the demo accounts of tenant t: a parent, a tenant admin, a case
// worker, the admin of the first Kita's provider, that Kita's lead, and the Fachberatung
// of a district with Kindertagespflege — every staff account with its second factor
// enrolled. Running it again changes nothing.
func SeedAccounts(ctx context.Context, db bun.IDB, t *tenant.Tenant, hasher *auth.Hasher, keys *auth.Keys) ([]Account, error) {
	var facilityID, providerID uuid.UUID
	var facilityName, providerName, districtKey string
	err := database.InTenantTx(ctx, db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		// A Kita (Krippe and Kindergarten) where one exists, preferably one with exactly one
		// Krippe place free at the start of the next Kita year: the lead's first contract
		// there turns the blue house yellow (the provider portal's demo).
		nextYear := t.Rules.Calendar().YearStart(date.In(time.Now())).AddMonths(12)
		err := tx.QueryRowContext(ctx, `SELECT f.id, f.name, p.id, p.name FROM facility f JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id
			WHERE f.tenant_id = ? AND f.type NOT IN ('tagespflege', 'grosstagespflege')
			ORDER BY f.type <> 'kita', NOT EXISTS (SELECT 1 FROM availability a WHERE a.tenant_id = f.tenant_id AND a.facility_id = f.id
			  AND a.age_band = ? AND a.care_hours = ? AND a.month = ? AND a.free = 1), f.name, f.id LIMIT 1`,
			t.ID, t.Rules.AgeBands[0].Key, t.Rules.CareScopes[0], nextYear).
			Scan(&facilityID, &facilityName, &providerID, &providerName)
		if err != nil {
			return err
		}
		// The Fachberatung of the district of the first Kindertagespflege, one outside the
		// main municipality where there is one (a Landkreis); none without Tagespflege.
		err = tx.QueryRowContext(ctx, `SELECT f.district_key FROM facility f
			WHERE f.tenant_id = ? AND f.type IN ('tagespflege', 'grosstagespflege') AND f.district_key IS NOT NULL
			ORDER BY f.municipality_key = ?, f.name, f.id LIMIT 1`, t.ID, t.Rules.Municipalities[0].Key).Scan(&districtKey)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("demo accounts %s: first facility: %w", t.Slug, err)
	}
	hash, err := hasher.Hash(ctx, DemoPassword)
	if err != nil {
		return nil, err
	}
	type spec struct {
		local, role, scope string
		facility, provider uuid.UUID
		district           string
	}
	staffAccounts := []spec{
		{"admin", authz.RoleTenantAdmin, "", uuid.Nil, uuid.Nil, ""},
		{"jugendamt", authz.RoleCaseWorker, "", uuid.Nil, uuid.Nil, ""},
		{"traeger", authz.RoleProvider, providerName, uuid.Nil, providerID, ""},
		{"leitung", authz.RoleLead, facilityName, facilityID, uuid.Nil, ""},
	}
	if d, ok := t.Rules.District(districtKey); ok {
		staffAccounts = append(staffAccounts, spec{"fachberatung", authz.RoleCounsellor, d.Name, uuid.Nil, uuid.Nil, d.Key})
	}
	out := []Account{{Tenant: t.Slug, Kind: "parent", Email: "eltern@" + t.Slug + ".demo"}}
	now := time.Now()
	err = database.InTenantTx(ctx, db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		parent := uuid.NewSHA1(namespace, []byte(t.Slug+"/account/eltern"))
		if _, err := tx.ExecContext(ctx, `INSERT INTO account (tenant_id, id, kind, email, status, password_hash, first_name, last_name, language, email_verified_at)
			VALUES (?, ?, 'parent', ?, 'active', ?, 'Erika', 'Demo', 'de', ?) ON CONFLICT DO NOTHING`,
			t.ID, parent, out[0].Email, hash, now); err != nil {
			return err
		}
		for _, s := range staffAccounts {
			id := uuid.NewSHA1(namespace, []byte(t.Slug+"/account/"+s.local))
			email := s.local + "@" + t.Slug + ".demo"
			secret := demoSecret(t.Slug + "/" + s.local)
			sealed := keys.Seal(secret, staff.SealContext(t.ID, id))
			if _, err := tx.ExecContext(ctx, `INSERT INTO account (tenant_id, id, kind, email, status, password_hash, first_name, last_name,
				language, email_verified_at, totp_secret, totp_enabled_at)
				VALUES (?, ?, 'staff', ?, 'active', ?, ?, 'Demo', 'de', ?, ?, ?) ON CONFLICT DO NOTHING`,
				t.ID, id, email, hash, capitalise(s.local), now, sealed, now); err != nil {
				return err
			}
			var facility, provider *uuid.UUID
			var district *string
			if s.facility != uuid.Nil {
				facility = &s.facility
			}
			if s.provider != uuid.Nil {
				provider = &s.provider
			}
			if s.district != "" {
				district = &s.district
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO staff_role (tenant_id, id, account_id, role, facility_id, provider_id, district_key)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO UPDATE SET facility_id = EXCLUDED.facility_id,
				provider_id = EXCLUDED.provider_id, district_key = EXCLUDED.district_key`, // the demo's choice of facility may change
				t.ID, uuid.NewSHA1(namespace, []byte(t.Slug+"/role/"+s.local)), id, s.role, facility, provider, district); err != nil {
				return err
			}
			if err := authz.GrantRole(ctx, tx, t.ID, id, s.role); err != nil {
				return err
			}
			out = append(out, Account{Tenant: t.Slug, Kind: "staff", Role: s.role, Scope: s.scope, Email: email,
				TOTP: auth.EncodeTOTPSecret(secret), URI: auth.TOTPURI(t.Rules.Branding.DisplayName, email, secret)})
		}
		return nil
	})
	return out, err
}

// SeedOperator creates the demo operator of the base domain.
func SeedOperator(ctx context.Context, db bun.IDB, hasher *auth.Hasher, keys *auth.Keys) (Account, error) {
	id := uuid.NewSHA1(namespace, []byte("operator/demo"))
	a := Account{Kind: "operator", Email: "operator@kitaportal.demo"}
	secret := demoSecret("operator")
	a.TOTP, a.URI = auth.EncodeTOTPSecret(secret), auth.TOTPURI("Kitaportal Betrieb", a.Email, secret)
	hash, err := hasher.Hash(ctx, DemoPassword)
	if err != nil {
		return a, err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO operator (id, email, name, password_hash, totp_secret, totp_enabled_at)
		VALUES (?, ?, 'Demo-Betrieb', ?, ?, now()) ON CONFLICT DO NOTHING`,
		id, a.Email, hash, keys.Seal(secret, operator.SealContext(id)))
	return a, err
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
