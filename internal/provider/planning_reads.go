package provider

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// What the demand planning (internal/report) reads of facilities: where each one is
// planned (district), what it is (Kita or Kindertagespflege, its provider's kind) and
// whether it is a district desk, which takes requests but has no places of its own.

// PlanningFacility is a facility as the demand planning groups it.
type PlanningFacility struct {
	ID           uuid.UUID `bun:"id"`
	Name         string    `bun:"name"`
	Type         string    `bun:"type"`
	District     string    `bun:"district_key"` // "" outside the planning districts
	ProviderKind string    `bun:"provider_kind"`
	// Brokered: a district desk (desks.go); its requests count, it has no capacity.
	Brokered bool `bun:"brokered"`
}

// PlanningFacilities lists every facility of the tenant, by name.
func PlanningFacilities(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) ([]PlanningFacility, error) {
	var out []PlanningFacility
	if err := tx.NewRaw(`SELECT f.id, f.name, f.type, coalesce(f.district_key, '') AS district_key, p.kind AS provider_kind, f.brokered
		FROM facility f JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id
		WHERE f.tenant_id = ? ORDER BY f.name, f.id`, tenantID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("provider: planning facilities: %w", err)
	}
	return out, nil
}
