package family

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// The flags of possible duplicate children (child_duplicate; CreateChild raises them)
// and the merge of one record into another, for the case workers (casework) who decide.

// Statuses of a duplicate flag.
const (
	DuplicateOpen      = "open"
	DuplicateMerged    = "merged"
	DuplicateDismissed = "dismissed"
)

// DuplicateFlag says that two child records may be the same child.
type DuplicateFlag struct {
	ID           uuid.UUID `bun:"id"`
	ChildID      uuid.UUID `bun:"child_id"` // the record written second
	OtherChildID uuid.UUID `bun:"other_child_id"`
	DetectedAt   time.Time `bun:"detected_at"`
}

// OpenDuplicates lists up to limit open flags, oldest first.
func OpenDuplicates(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, limit int) ([]DuplicateFlag, error) {
	var out []DuplicateFlag
	if err := tx.NewRaw(`SELECT id, child_id, other_child_id, detected_at FROM child_duplicate WHERE tenant_id = ? AND status = ?
		ORDER BY detected_at, id LIMIT ?`, tenantID, DuplicateOpen, limit).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("family: open duplicates: %w", err)
	}
	return out, nil
}

// LockOpenDuplicate reads open flag id, locked until the transaction ends; nil when there
// is no such open flag.
func LockOpenDuplicate(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) (*DuplicateFlag, error) {
	var f DuplicateFlag
	err := tx.NewRaw(`SELECT id, child_id, other_child_id, detected_at FROM child_duplicate WHERE tenant_id = ? AND id = ? AND status = ?
		FOR UPDATE`, tenantID, id, DuplicateOpen).Scan(ctx, &f)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("family: lock duplicate: %w", err)
	}
	return &f, nil
}

// ResolveDuplicate records the decision on flag id: status merged or dismissed, by whom.
func ResolveDuplicate(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, status string, by uuid.UUID, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE child_duplicate SET status = ?, resolved_at = ?, resolved_by = ? WHERE tenant_id = ? AND id = ?`,
		status, now, by, tenantID, id); err != nil {
		return fmt.Errorf("family: resolve duplicate: %w", err)
	}
	return nil
}

// MergeChildInto marks record drop as merged into keep and settles every open flag that
// names drop. What hangs on drop (requests, offers, contracts, tickets) its owners move.
func MergeChildInto(ctx context.Context, tx bun.IDB, tenantID, drop, keep uuid.UUID, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE child SET merged_into = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		keep, now, tenantID, drop); err != nil {
		return fmt.Errorf("family: merge child: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE child_duplicate SET status = ?, resolved_at = ? WHERE tenant_id = ? AND status = ?
		AND (child_id = ? OR other_child_id = ?)`, DuplicateMerged, now, tenantID, DuplicateOpen, drop, drop); err != nil {
		return fmt.Errorf("family: settle duplicates: %w", err)
	}
	return nil
}

// WithOpenDuplicate is the set of children ids that an open flag names.
func WithOpenDuplicate(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]bool, error) {
	out := map[uuid.UUID]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var hit []uuid.UUID
	if err := tx.NewRaw(`SELECT c.id FROM unnest(?::uuid[]) AS c(id) WHERE EXISTS (SELECT 1 FROM child_duplicate d
		WHERE d.tenant_id = ? AND d.status = ? AND (d.child_id = c.id OR d.other_child_id = c.id))`,
		pgdialect.Array(ids), tenantID, DuplicateOpen).Scan(ctx, &hit); err != nil {
		return nil, fmt.Errorf("family: open duplicates of children: %w", err)
	}
	for _, id := range hit {
		out[id] = true
	}
	return out, nil
}
