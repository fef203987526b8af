package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
)

// Versions of a city's rules saved in the staff area (rules editor, branding, restore).
// Each is a new row of tenant_rules, validated like a file; the registry picks it up on
// every server process at its next reload (TENANT_RELOAD_INTERVAL, 5 s). A file synced
// later wins only when the file itself changed (Sync: KeptAdminVersion), so neither
// silently overwrites the other.

// ErrStaleVersion: another version was saved since the editor was opened.
var ErrStaleVersion = errors.New("tenant: the rules changed meanwhile")

// SourceAdmin marks a version saved in the staff area.
const SourceAdmin = "admin"

// VersionInfo is one stored version, without its rules.
type VersionInfo struct {
	Version   int        `bun:"version" json:"version"`
	Source    string     `bun:"source" json:"source"` // "file:<name>" or "admin"
	AuthorID  *uuid.UUID `bun:"author_id" json:"author_id,omitempty"`
	Reason    string     `bun:"reason" json:"reason"`
	CreatedAt time.Time  `bun:"created_at" json:"created_at"`
}

// SaveVersion writes r as the next version of tenant tenantID, saved by author for
// reason, if base is still the version in force (otherwise ErrStaleVersion and nothing
// is written). r is validated as a file is (the errors are FieldErrors, joined); a live
// city keeps its imprint and privacy notice. The municipalities and districts follow in
// the same transaction. It answers the new version.
func (s *Store) SaveVersion(ctx context.Context, tenantID uuid.UUID, base int, r *Rules, author uuid.UUID, reason string) (int, error) {
	if err := r.Validate(); err != nil {
		return 0, err
	}
	js, sum, err := Canonical(r)
	if err != nil {
		return 0, err
	}
	next := 0
	err = database.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM tenant WHERE id = ? FOR UPDATE`, tenantID).Scan(&status); err != nil {
			return fmt.Errorf("lock tenant: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM tenant_rules WHERE tenant_id = ?`, tenantID).Scan(&current); err != nil {
			return fmt.Errorf("current version: %w", err)
		}
		if current != base {
			return ErrStaleVersion
		}
		if status == StatusActive {
			if err := r.LaunchError(); err != nil {
				return err
			}
		}
		next = current + 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_rules (tenant_id, version, rules, checksum, source, author_id, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, next, string(js), sum, SourceAdmin, author, reason); err != nil {
			return fmt.Errorf("insert rules: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenant SET name = ?, updated_at = now() WHERE id = ? AND name <> ?`, r.Name, tenantID, r.Name); err != nil {
			return fmt.Errorf("update tenant: %w", err)
		}
		return syncGeography(ctx, tx, tenantID, r)
	})
	return next, err
}

// Versions lists the stored versions of tenantID, newest first.
func (s *Store) Versions(ctx context.Context, tenantID uuid.UUID) ([]VersionInfo, error) {
	var out []VersionInfo
	if err := s.db.NewRaw(`SELECT version, source, author_id, reason, created_at FROM tenant_rules WHERE tenant_id = ? ORDER BY version DESC`,
		tenantID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("tenant: versions: %w", err)
	}
	return out, nil
}

// Version reads version v of tenantID's rules; sql.ErrNoRows when there is none.
func (s *Store) Version(ctx context.Context, tenantID uuid.UUID, v int) (*Rules, error) {
	var raw []byte
	err := s.db.QueryRowContext(ctx, `SELECT rules FROM tenant_rules WHERE tenant_id = ? AND version = ?`, tenantID, v).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("tenant: version %d: %w", v, err)
	}
	return decodeStored(raw)
}
