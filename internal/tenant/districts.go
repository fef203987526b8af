package tenant

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// DistrictName is a planning district's key and name.
type DistrictName struct {
	Key  string `bun:"key"`
	Name string `bun:"name"`
}

// DistrictNames answers the names of the tenant's districts among keys; a key of no
// district of the tenant is missing from the map.
func DistrictNames(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var rows []DistrictName
	if err := tx.NewRaw(`SELECT key, name FROM district WHERE tenant_id = ? AND key = ANY(?::text[])`,
		tenantID, pgdialect.Array(keys)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("tenant: districts: %w", err)
	}
	for _, r := range rows {
		out[r.Key] = r.Name
	}
	return out, nil
}

// DistrictsByName lists the tenant's districts by name.
func DistrictsByName(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) ([]DistrictName, error) {
	var out []DistrictName
	err := tx.NewRaw(`SELECT key, name FROM district WHERE tenant_id = ? ORDER BY name`, tenantID).Scan(ctx, &out)
	return out, err
}
