package family

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/date"
)

// The reads other owners' lists and records take child and family data from.

// ChildName is a child as lists name it: names and birth date (the expected one before
// birth).
type ChildName struct {
	ID        uuid.UUID `bun:"id"`
	FirstName string    `bun:"first_name"`
	LastName  string    `bun:"last_name"`
	Birth     date.Date `bun:"birth_date"`
}

// ChildNames are the children ids by last name, first name and id: the order of every
// list of children, so callers sort their rows by the position of the child here.
func ChildNames(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) ([]ChildName, error) {
	out := []ChildName{}
	if len(ids) == 0 {
		return out, nil
	}
	if err := tx.NewRaw(`SELECT id, first_name, last_name, coalesce(birth_date, expected_birth_date) AS birth_date
		FROM child WHERE tenant_id = ? AND id = ANY(?::uuid[]) ORDER BY last_name, first_name, id`,
		tenantID, pgdialect.Array(ids)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("family: child names: %w", err)
	}
	return out, nil
}

// ChildIDsNamed are the born children with these names (case-insensitive) and birth date:
// the same child entered once more.
func ChildIDsNamed(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, first, last string, birth date.Date) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := tx.NewRaw(`SELECT id FROM child WHERE tenant_id = ? AND lower(first_name) = lower(?) AND lower(last_name) = lower(?) AND birth_date = ?`,
		tenantID, first, last, birth).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("family: children named: %w", err)
	}
	return ids, nil
}

// ChildAtHome is a child with the address of its family.
type ChildAtHome struct {
	ID          uuid.UUID  `bun:"id"`
	FirstName   string     `bun:"first_name"`
	LastName    string     `bun:"last_name"`
	BirthDate   *date.Date `bun:"birth_date"`
	Expected    *date.Date `bun:"expected_birth_date"`
	FamilyID    uuid.UUID  `bun:"family_id"`
	Street      string     `bun:"street"`
	HouseNumber string     `bun:"house_number"`
	PLZ         string     `bun:"plz"`
	City        string     `bun:"city"`
}

// ChildWithAddress reads child id with its family's address; ErrNotFound for an unknown
// id.
func ChildWithAddress(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) (*ChildAtHome, error) {
	var out ChildAtHome
	err := tx.NewRaw(`SELECT ch.id, ch.first_name, ch.last_name, ch.birth_date, ch.expected_birth_date, ch.family_id,
			fam.street, fam.house_number, fam.plz, fam.city
		FROM child ch JOIN family fam ON fam.tenant_id = ch.tenant_id AND fam.id = ch.family_id
		WHERE ch.tenant_id = ? AND ch.id = ?`, tenantID, id).Scan(ctx, &out)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("family: child with address: %w", err)
	}
	return &out, nil
}

// GuardianContact is a guardian with the contact data entered for them.
type GuardianContact struct {
	FirstName string  `bun:"first_name"`
	LastName  string  `bun:"last_name"`
	Email     *string `bun:"email"`
	Phone     *string `bun:"phone"`
}

// GuardianContacts are the guardians of family familyID by last and first name.
func GuardianContacts(ctx context.Context, tx bun.IDB, tenantID, familyID uuid.UUID) ([]GuardianContact, error) {
	var out []GuardianContact
	if err := tx.NewRaw(`SELECT first_name, last_name, email, phone FROM guardian WHERE tenant_id = ? AND family_id = ? ORDER BY last_name, first_name`,
		tenantID, familyID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("family: guardian contacts: %w", err)
	}
	return out, nil
}

// ChildBirths are the birth dates (the expected one before birth) of the children ids;
// unknown ids are left out.
func ChildBirths(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]date.Date, error) {
	out := make(map[uuid.UUID]date.Date, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID    uuid.UUID `bun:"id"`
		Birth date.Date `bun:"birth"`
	}
	if err := tx.NewRaw(`SELECT id, coalesce(birth_date, expected_birth_date) AS birth FROM child WHERE tenant_id = ? AND id = ANY(?::uuid[])`,
		tenantID, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("family: child births: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Birth
	}
	return out, nil
}
