package family

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/date"
)

// CreateRegisterChild writes a born child of family familyID as a provider's contracts
// register enters it. Unlike CreateChild it keeps no duplicate key and flags nothing: the
// register refuses the same child under contract twice itself, under LockChildIdentity.
func CreateRegisterChild(ctx context.Context, tx bun.IDB, tenantID, familyID uuid.UUID, first, last string, birth date.Date) (uuid.UUID, error) {
	id := uuid.Must(uuid.NewV7())
	if _, err := tx.ExecContext(ctx, `INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, ?, ?, ?)`,
		tenantID, id, familyID, first, last, birth); err != nil {
		return uuid.Nil, fmt.Errorf("family: register child: %w", err)
	}
	return id, nil
}
