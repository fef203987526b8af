package provider

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// GroupName is a group's id and name.
type GroupName struct {
	ID   uuid.UUID `bun:"id"`
	Name string    `bun:"name"`
}

// GroupNames are the names of the groups ids, by name and id.
func GroupNames(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) ([]GroupName, error) {
	out := []GroupName{}
	if len(ids) == 0 {
		return out, nil
	}
	if err := tx.NewRaw(`SELECT id, name FROM facility_group WHERE tenant_id = ? AND id = ANY(?::uuid[]) ORDER BY name, id`,
		tenantID, pgdialect.Array(ids)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("provider: group names: %w", err)
	}
	return out, nil
}

// GroupHours is the longest weekly scope group groupID of facility facilityID takes;
// found is false for a group the facility does not have.
func GroupHours(ctx context.Context, tx bun.IDB, tenantID, facilityID, groupID uuid.UUID) (hours int, found bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT care_hours FROM facility_group WHERE tenant_id = ? AND facility_id = ? AND id = ?`,
		tenantID, facilityID, groupID).Scan(&hours)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("provider: group hours: %w", err)
	}
	return hours, true, nil
}

// GroupIDsNamed are the groups of facility facilityID called name, case-insensitively.
func GroupIDsNamed(ctx context.Context, tx bun.IDB, tenantID, facilityID uuid.UUID, name string) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := tx.NewRaw(`SELECT id FROM facility_group WHERE tenant_id = ? AND facility_id = ? AND lower(name) = lower(?)`,
		tenantID, facilityID, name).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("provider: groups named: %w", err)
	}
	return ids, nil
}
