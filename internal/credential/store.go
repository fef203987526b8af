package credential

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/database"
)

// The SQL of machine_credential. Every statement names the tenant; the callers run them in
// the tenant's transaction (row-level security is the second line).

const columns = `id, name, scopes, secret_prefix, created_by, created_at, rotated_at, last_used_at, revoked_at`

// liveName is the unique index of the names of live keys.
const liveName = "machine_credential_live_name"

func insert(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, c *Credential, hash []byte) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO machine_credential (tenant_id, id, name, scopes, secret_prefix, secret_hash, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, c.ID, c.Name, pgdialect.Array(c.Scopes), c.Prefix, hash, c.CreatedBy, c.CreatedAt)
	if database.IsUniqueViolation(err, liveName) {
		return errNameTaken
	}
	if err != nil {
		return fmt.Errorf("credential: insert: %w", err)
	}
	return nil
}

func list(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) ([]Credential, error) {
	out := []Credential{}
	if err := tx.NewRaw(`SELECT `+columns+` FROM machine_credential WHERE tenant_id = ?
		ORDER BY revoked_at IS NOT NULL, lower(name), created_at, id`, tenantID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("credential: list: %w", err)
	}
	for i := range out {
		out[i].Revoked = out[i].RevokedAt != nil
	}
	return out, nil
}

// byID reads one credential, locked for a change when lock is set; nil when unknown.
func byID(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, lock bool) (*Credential, error) {
	q := `SELECT ` + columns + ` FROM machine_credential WHERE tenant_id = ? AND id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var c Credential
	err := tx.NewRaw(q, tenantID, id).Scan(ctx, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credential: read: %w", err)
	}
	c.Revoked = c.RevokedAt != nil
	return &c, nil
}

func setSecret(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, prefix string, hash []byte, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE machine_credential SET secret_prefix = ?, secret_hash = ?, rotated_at = ?
		WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`, prefix, hash, now, tenantID, id)
	if err != nil {
		return fmt.Errorf("credential: rotate: %w", err)
	}
	return nil
}

func revoke(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, by *uuid.UUID, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE machine_credential SET revoked_at = ?, revoked_by = ?
		WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`, now, by, tenantID, id)
	if err != nil {
		return fmt.Errorf("credential: revoke: %w", err)
	}
	return nil
}

// live is what the authentication of a request needs of a key.
type live struct {
	ID         uuid.UUID  `bun:"id"`
	Name       string     `bun:"name"`
	Scopes     []string   `bun:"scopes,array"`
	LastUsedAt *time.Time `bun:"last_used_at"`
}

// findLive reads the live key of tenantID with this hash; nil when there is none.
func findLive(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, hash []byte) (*live, error) {
	var l live
	err := tx.NewRaw(`SELECT id, name, scopes, last_used_at FROM machine_credential
		WHERE tenant_id = ? AND secret_hash = ? AND revoked_at IS NULL`, tenantID, hash).Scan(ctx, &l)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credential: find: %w", err)
	}
	return &l, nil
}

func touch(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE machine_credential SET last_used_at = ? WHERE tenant_id = ? AND id = ?`, now, tenantID, id)
	return err
}
