package family

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
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
	var rs []Recipient
	err := tx.NewRaw(`SELECT g.first_name, g.last_name,
			CASE WHEN acc.status = 'active' THEN acc.email::text ELSE coalesce(g.email::text, '') END AS email,
			CASE WHEN acc.status = 'active' THEN acc.id END AS account_id,
			coalesce(CASE WHEN acc.status = 'active' THEN acc.language END, '') AS language
		FROM guardian g LEFT JOIN account acc ON acc.tenant_id = g.tenant_id AND acc.id = g.user_id
		WHERE g.tenant_id = ? AND g.family_id = ? ORDER BY g.created_at, g.id`, tenantID, familyID).Scan(ctx, &rs)
	return rs, err
}
