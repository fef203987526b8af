package provider

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// CityFigures are a city's key figures as its home page shows them.
type CityFigures struct {
	Facilities  int // active Kitas (every type but Kindertagespflege)
	Tagespflege int // active Kindertagespflege
	Places      int // places of the active facilities' groups today
}

// Figures counts the tenant's active facilities and their places today, in one statement.
func Figures(ctx context.Context, db bun.IDB, tenantID uuid.UUID) (CityFigures, error) {
	var f CityFigures
	err := db.QueryRowContext(ctx, `
		SELECT
			count(*) FILTER (WHERE f.type NOT IN ('tagespflege', 'grosstagespflege')),
			count(*) FILTER (WHERE f.type IN ('tagespflege', 'grosstagespflege')),
			coalesce((SELECT sum(gc.places) FROM group_capacity gc
			          JOIN facility_group g ON g.tenant_id = gc.tenant_id AND g.id = gc.group_id
			          JOIN facility gf ON gf.tenant_id = g.tenant_id AND gf.id = g.facility_id AND gf.status = 'active'
			          WHERE gc.tenant_id = ? AND gc.period @> current_date), 0)
		FROM facility f
		WHERE f.tenant_id = ? AND f.status = 'active'`, tenantID, tenantID).Scan(&f.Facilities, &f.Tagespflege, &f.Places)
	if err != nil {
		return f, fmt.Errorf("provider: figures: %w", err)
	}
	return f, nil
}
