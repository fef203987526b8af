package family

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
)

// Recipient is a guardian the portal's notices and mails reach.
type Recipient struct {
	FirstName string     `bun:"first_name"`
	LastName  string     `bun:"last_name"`
	Email     string     `bun:"email"`
	AccountID *uuid.UUID `bun:"account_id"`
	Language  string     `bun:"language"`
}

// Recipients are the family's guardians who can be reached: by their active account,
// or by the address entered for them.
func Recipients(ctx context.Context, tx bun.IDB, tenantID, familyID uuid.UUID) ([]Recipient, error) {
	var gs []struct {
		FirstName string     `bun:"first_name"`
		LastName  string     `bun:"last_name"`
		Email     string     `bun:"email"`
		AccountID *uuid.UUID `bun:"user_id"`
	}
	if err := tx.NewRaw(`SELECT first_name, last_name, coalesce(email::text, '') AS email, user_id
		FROM guardian WHERE tenant_id = ? AND family_id = ? ORDER BY created_at, id`, tenantID, familyID).Scan(ctx, &gs); err != nil {
		return nil, err
	}
	var linked []uuid.UUID
	for _, g := range gs {
		if g.AccountID != nil {
			linked = append(linked, *g.AccountID)
		}
	}
	contacts, err := account.ActiveContacts(ctx, tx, tenantID, linked)
	if err != nil {
		return nil, err
	}
	var rs []Recipient
	for _, g := range gs {
		r := Recipient{FirstName: g.FirstName, LastName: g.LastName, Email: g.Email}
		if g.AccountID != nil {
			if c, ok := contacts[*g.AccountID]; ok {
				r.Email, r.AccountID, r.Language = c.Email, &c.ID, c.Language
			}
		}
		rs = append(rs, r)
	}
	return rs, nil
}
