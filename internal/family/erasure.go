package family

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// The family's part of deleting a parent account; privacy decides what goes.

// AccountFamily is a family a parent account is a guardian of.
type AccountFamily struct {
	ID       uuid.UUID   `bun:"id"`
	ChildIDs []uuid.UUID `bun:"child_ids,array"`
	Others   int         `bun:"others"` // other guardians with an account of their own
}

// AccountFamilies are the families account accountID is a guardian of, locked for update
// until the transaction ends, with all their children.
func AccountFamilies(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID) ([]AccountFamily, error) {
	var out []AccountFamily
	if err := tx.NewRaw(`
		SELECT f.id, ARRAY(SELECT ch.id FROM child ch WHERE ch.tenant_id = f.tenant_id AND ch.family_id = f.id) AS child_ids,
		       (SELECT count(*) FROM guardian o WHERE o.tenant_id = f.tenant_id AND o.family_id = f.id
		              AND o.user_id IS NOT NULL AND o.user_id <> ?1) AS others
		FROM family f WHERE f.tenant_id = ?0 AND EXISTS (
		  SELECT 1 FROM guardian g WHERE g.tenant_id = f.tenant_id AND g.family_id = f.id AND g.user_id = ?1)
		FOR UPDATE OF f`, tenantID, accountID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("find families: %w", err)
	}
	return out, nil
}

// ChildIDsOfFamilies are all children of the families ids.
func ChildIDsOfFamilies(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) ([]uuid.UUID, error) {
	out := []uuid.UUID{}
	if len(ids) == 0 {
		return out, nil
	}
	if err := tx.NewRaw(`SELECT id FROM child WHERE tenant_id = ? AND family_id = ANY(?::uuid[])`,
		tenantID, pgdialect.Array(ids)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("family: children of families: %w", err)
	}
	return out, nil
}

// DeleteFamilies deletes the families ids with their children and guardians; what
// points at the children (requests, offers) must be gone before.
func DeleteFamilies(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	fam := pgdialect.Array(ids)
	for _, q := range []string{
		`DELETE FROM child WHERE tenant_id = ?0 AND family_id = ANY(?1::uuid[])`,
		`DELETE FROM family WHERE tenant_id = ?0 AND id = ANY(?1::uuid[])`, // guardians go with it (ON DELETE CASCADE)
	} {
		if _, err := tx.ExecContext(ctx, q, tenantID, fam); err != nil {
			return fmt.Errorf("delete families: %w", err)
		}
	}
	return nil
}

// UnlinkAccount detaches account accountID from every guardian it was, removing the
// guardian's e-mail and phone with it: the family stays, its contact through the
// account goes.
func UnlinkAccount(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE guardian SET user_id = NULL, email = NULL, phone = NULL, updated_at = ?
		WHERE tenant_id = ? AND user_id = ?`, now, tenantID, accountID); err != nil {
		return fmt.Errorf("unlink guardians: %w", err)
	}
	return nil
}
