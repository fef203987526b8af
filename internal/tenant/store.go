package tenant

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
)

// Status of a tenant.
const (
	StatusOnboarding = "onboarding"
	StatusActive     = "active"
	StatusSuspended  = "suspended"
)

// Tenant is one city as the running portal sees it. Values are immutable once published
// by the Registry; a change produces a new value.
type Tenant struct {
	ID           uuid.UUID
	Slug         string
	Name         string
	Status       string
	StatusNote   string
	Rules        *Rules
	RulesVersion int
}

// Store reads and writes tenants and their rules.
type Store struct {
	db bun.IDB
}

// NewStore returns a store over db.
func NewStore(db bun.IDB) *Store { return &Store{db: db} }

// SyncResult says what Sync did with one file.
type SyncResult struct {
	Slug    string
	Created bool // the tenant is new
	Version int  // rules version in force after the sync
	Changed bool // a new rules version was written
	// KeptAdminVersion: the file did not change since it was last synced, but an admin
	// changed the rules since; the admin's version stays in force.
	KeptAdminVersion bool
	// NotLive: the tenant is new and stays in onboarding (not live) because its rules
	// lack these.
	NotLive []LaunchProblem
}

// Sync writes one validated rules file: the tenant row, a new rules version when the file
// changed, and the municipalities and districts of the rules in force. Either all of it
// is written or nothing.
func (s *Store) Sync(ctx context.Context, lr LoadedRules) (SyncResult, error) {
	res := SyncResult{Slug: lr.Rules.Slug}
	err := database.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var id uuid.UUID
		var status string
		err := tx.QueryRowContext(ctx, `SELECT id, status FROM tenant WHERE slug = ? FOR UPDATE`, lr.Rules.Slug).Scan(&id, &status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			id = uuid.Must(uuid.NewV7())
			res.Created = true
			// A new city goes live at once only when its file has all a public portal
			// needs; otherwise it stays in onboarding until an operator activates it.
			status, note := StatusActive, ""
			if res.NotLive = lr.Rules.LaunchProblems(); len(res.NotLive) > 0 {
				status, note = StatusOnboarding, "not live yet: "+launchFields(res.NotLive)+" missing"
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenant (id, slug, name, status, status_note) VALUES (?, ?, ?, ?, ?)`,
				id, lr.Rules.Slug, lr.Rules.Name, status, note); err != nil {
				return fmt.Errorf("insert tenant: %w", err)
			}
		case err != nil:
			return fmt.Errorf("lock tenant: %w", err)
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE tenant SET name = ?, updated_at = now() WHERE id = ? AND name <> ?`,
				lr.Rules.Name, id, lr.Rules.Name); err != nil {
				return fmt.Errorf("update tenant: %w", err)
			}
		}

		var versions []ruleVersion
		if err := tx.NewRaw(`SELECT version, checksum, source FROM tenant_rules WHERE tenant_id = ? ORDER BY version DESC`, id).
			Scan(ctx, &versions); err != nil {
			return fmt.Errorf("read versions: %w", err)
		}
		inForce := lr.Rules
		switch {
		case len(versions) > 0 && versions[0].Checksum == lr.Checksum:
			res.Version = versions[0].Version
		case len(versions) > 0 && lastFileChecksum(versions) == lr.Checksum:
			res.Version = versions[0].Version
			res.KeptAdminVersion = true
			if inForce, err = s.rulesVersion(ctx, tx, id, versions[0].Version); err != nil {
				return err
			}
		default:
			res.Version = 1
			if len(versions) > 0 {
				res.Version = versions[0].Version + 1
			}
			res.Changed = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_rules (tenant_id, version, rules, checksum, source) VALUES (?, ?, ?, ?, ?)`,
				id, res.Version, string(lr.JSON), lr.Checksum, "file:"+lr.File); err != nil {
				return fmt.Errorf("insert rules: %w", err)
			}
		}
		// A live city keeps its imprint and privacy notice: a file that drops them is
		// refused like a broken one.
		if status == StatusActive && !res.Created {
			if err := inForce.LaunchError(); err != nil {
				return launchRefusal(lr.Rules.Slug, err)
			}
		}
		return syncGeography(ctx, tx, id, inForce)
	})
	if err != nil {
		return res, fmt.Errorf("%s: %w", lr.File, err)
	}
	return res, nil
}

// ruleVersion is one stored version of a tenant's rules, without the rules.
type ruleVersion struct {
	Version  int    `bun:"version"`
	Checksum string `bun:"checksum"`
	Source   string `bun:"source"`
}

// lastFileChecksum is the checksum of the newest version that came from a file.
func lastFileChecksum(versions []ruleVersion) string {
	for _, v := range versions {
		if strings.HasPrefix(v.Source, "file:") {
			return v.Checksum
		}
	}
	return ""
}

func (s *Store) rulesVersion(ctx context.Context, tx bun.Tx, id uuid.UUID, version int) (*Rules, error) {
	var raw []byte
	if err := tx.QueryRowContext(ctx, `SELECT rules FROM tenant_rules WHERE tenant_id = ? AND version = ?`, id, version).Scan(&raw); err != nil {
		return nil, fmt.Errorf("read rules version %d: %w", version, err)
	}
	var r Rules
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode rules version %d: %w", version, err)
	}
	return &r, nil
}

// Refusals of syncGeography, for the rules editor to name the field.
var (
	ErrDistrictInUse     = apperr.Invalid("districts", "rules_district_in_use", nil)
	ErrMunicipalityInUse = apperr.Invalid("municipalities", "rules_municipality_in_use", nil)
)

// syncGeography makes the municipality and district tables match the rules. Removing one
// that facilities or families still use is refused by the foreign keys, with a message.
func syncGeography(ctx context.Context, tx bun.Tx, id uuid.UUID, r *Rules) error {
	muniKeys := make([]string, 0, len(r.Municipalities))
	for _, m := range r.Municipalities {
		muniKeys = append(muniKeys, m.Key)
		if _, err := tx.ExecContext(ctx, `INSERT INTO municipality (tenant_id, key, name) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id, key) DO UPDATE SET name = EXCLUDED.name`, id, m.Key, m.Name); err != nil {
			return fmt.Errorf("municipality %q: %w", m.Key, err)
		}
	}
	distKeys := make([]string, 0, len(r.Districts))
	for _, d := range r.Districts {
		distKeys = append(distKeys, d.Key)
		if _, err := tx.ExecContext(ctx, `INSERT INTO district (tenant_id, key, name, municipality_key) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant_id, key) DO UPDATE SET name = EXCLUDED.name, municipality_key = EXCLUDED.municipality_key`,
			id, d.Key, d.Name, d.Municipality); err != nil {
			return fmt.Errorf("district %q: %w", d.Key, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM district WHERE tenant_id = ? AND key <> ALL(?)`, id, pgdialect.Array(distKeys)); err != nil {
		if database.IsForeignKeyViolation(err, "") {
			return fmt.Errorf("districts: a district that facilities still belong to cannot be removed; move the facilities first: %w", ErrDistrictInUse)
		}
		return fmt.Errorf("remove districts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM municipality WHERE tenant_id = ? AND key <> ALL(?)`, id, pgdialect.Array(muniKeys)); err != nil {
		if database.IsForeignKeyViolation(err, "") {
			return fmt.Errorf("municipalities: a municipality that postcodes, facilities or families still refer to cannot be removed: %w", ErrMunicipalityInUse)
		}
		return fmt.Errorf("remove municipalities: %w", err)
	}
	return nil
}

// storedTenant is a tenant row with its newest rules, not yet validated.
type storedTenant struct {
	ID         uuid.UUID `bun:"id"`
	Slug       string    `bun:"slug"`
	Name       string    `bun:"name"`
	Status     string    `bun:"status"`
	StatusNote string    `bun:"status_note"`
	Version    int       `bun:"version"`
	Rules      []byte    `bun:"rules"`
}

// loadAll reads every tenant with its newest rules version.
func (s *Store) loadAll(ctx context.Context) ([]storedTenant, error) {
	var rows []storedTenant
	err := s.db.NewRaw(`
		SELECT t.id, t.slug, t.name, t.status, t.status_note,
		       coalesce(r.version, 0) AS version, r.rules
		FROM tenant t
		LEFT JOIN LATERAL (
			SELECT version, rules FROM tenant_rules WHERE tenant_id = t.id ORDER BY version DESC LIMIT 1
		) r ON true
		ORDER BY t.slug`).Scan(ctx, &rows)
	return rows, err
}

// IDOf returns the id of the tenant with slug; found is false when there is none.
func (s *Store) IDOf(ctx context.Context, slug string) (id uuid.UUID, found bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT id FROM tenant WHERE slug = ?`, slug).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("tenant id: %w", err)
	}
	return id, true, nil
}

// SetStatus suspends, resumes or opens a tenant; its data stays untouched. A tenant goes
// live (active) only when its rules in force have no LaunchProblems: the refusal
// (ErrNotLaunchable) names the missing fields.
func (s *Store) SetStatus(ctx context.Context, slug, status, note string) error {
	err := database.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var id uuid.UUID
		var version int
		err := tx.QueryRowContext(ctx, `SELECT t.id, coalesce((SELECT max(version) FROM tenant_rules r WHERE r.tenant_id = t.id), 0)
			FROM tenant t WHERE t.slug = ? FOR UPDATE`, slug).Scan(&id, &version)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no tenant %q", slug)
		}
		if err != nil {
			return err
		}
		if status == StatusActive {
			if version == 0 {
				return fmt.Errorf("%s has no rules and cannot go live", slug)
			}
			r, err := s.rulesVersion(ctx, tx, id, version)
			if err != nil {
				return err
			}
			if err := r.LaunchError(); err != nil {
				return launchRefusal(slug, err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE tenant SET status = ?, status_note = ?, updated_at = now() WHERE id = ?`, status, note, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set tenant status: %w", err)
	}
	return nil
}

// launchRefusal wraps a LaunchError so that its text names the tenant and the fields
// (the command line prints it), while errors.Is and apperr.As still find it.
func launchRefusal(slug string, err error) error {
	var fields any
	if e, ok := apperr.As(err); ok {
		fields = e.Args["fields"]
	}
	return fmt.Errorf("%s cannot go live: its rules lack %v: %w", slug, fields, err)
}
