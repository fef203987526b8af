package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// MunicipalityOfPostcode is the key of the municipality postcode plz of the city belongs
// to; "" for a postcode outside the city's area.
func MunicipalityOfPostcode(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, plz string) (string, error) {
	var key string
	err := tx.QueryRowContext(ctx, `SELECT municipality_key FROM postcode WHERE tenant_id = ? AND plz = ?`, tenantID, plz).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("tenant: municipality of postcode: %w", err)
	}
	return key, nil
}
