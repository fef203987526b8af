package family

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/date"
)

// What other packages show of children and families beside their own rows (a request's
// child, a ticket's family), read for a whole list at once.

// ChildCard is who a child is: names, birth and family.
type ChildCard struct {
	ID                uuid.UUID  `bun:"id"`
	FamilyID          uuid.UUID  `bun:"family_id"`
	FirstName         string     `bun:"first_name"`
	LastName          string     `bun:"last_name"`
	BirthDate         *date.Date `bun:"birth_date"`
	ExpectedBirthDate *date.Date `bun:"expected_birth_date"`
}

// Born tells whether the child's birth date is known (not only expected).
func (c ChildCard) Born() bool { return c.BirthDate != nil }

// Birth is the birth date, or the expected one before birth.
func (c ChildCard) Birth() date.Date { return birthOr(c.BirthDate, c.ExpectedBirthDate) }

// ChildCards reads the children ids, merged records too (other rows still name them).
func ChildCards(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]ChildCard, error) {
	out := map[uuid.UUID]ChildCard{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []ChildCard
	if err := tx.NewRaw(`SELECT id, family_id, first_name, last_name, birth_date, expected_birth_date FROM child
		WHERE tenant_id = ? AND id = ANY(?::uuid[])`, tenantID, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("family: child cards: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// FamilyCard is where a family lives and how its record came in.
type FamilyCard struct {
	ID     uuid.UUID `bun:"id"`
	Source string    `bun:"source"`
	PLZ    string    `bun:"plz"`
	City   string    `bun:"city"`
}

// FamilyCards reads the families ids.
func FamilyCards(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]FamilyCard, error) {
	out := map[uuid.UUID]FamilyCard{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []FamilyCard
	if err := tx.NewRaw(`SELECT id, source, plz, city FROM family WHERE tenant_id = ? AND id = ANY(?::uuid[])`,
		tenantID, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("family: family cards: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// ChildIDsOf lists every child record of family familyID, merged ones too: what was filed
// for a child merged away stays the family's.
func ChildIDsOf(ctx context.Context, tx bun.IDB, tenantID, familyID uuid.UUID) ([]uuid.UUID, error) {
	return ChildIDsOfFamilies(ctx, tx, tenantID, []uuid.UUID{familyID})
}

// ChildIDsWithKey lists the live (not merged) children whose identity folds to key
// (DedupeKey).
func ChildIDsWithKey(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, key string) ([]uuid.UUID, error) {
	ids := []uuid.UUID{}
	if err := tx.NewRaw(`SELECT id FROM child WHERE tenant_id = ? AND dedupe_key = ? AND merged_into IS NULL`, tenantID, key).
		Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("family: children with key: %w", err)
	}
	return ids, nil
}
