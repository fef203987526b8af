package authz

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// What a staff account's roles let it set up in the provider portal. These read
// staff_role at the moment of asking, so a role revoked a moment ago no longer counts.

// ProviderReach is which providers an account's roles reach: all of the tenant's for a
// tenant admin, otherwise those it administers.
type ProviderReach struct {
	TenantAdmin bool
	Providers   []uuid.UUID // of its provider_admin roles
}

// Reaches tells whether provider id is in reach.
func (r ProviderReach) Reaches(id uuid.UUID) bool {
	if r.TenantAdmin {
		return true
	}
	for _, p := range r.Providers {
		if p == id {
			return true
		}
	}
	return false
}

// ProviderReachOf reads the provider reach of account accountID in the tenant.
func ProviderReachOf(ctx context.Context, db bun.IDB, tenantID, accountID uuid.UUID) (ProviderReach, error) {
	var rows []struct {
		Role       string     `bun:"role"`
		ProviderID *uuid.UUID `bun:"provider_id"`
	}
	err := db.NewRaw(`SELECT role, provider_id FROM staff_role WHERE tenant_id = ? AND account_id = ? AND role IN (?, ?)`,
		tenantID, accountID, RoleTenantAdmin, RoleProvider).Scan(ctx, &rows)
	if err != nil {
		return ProviderReach{}, fmt.Errorf("authz: provider reach: %w", err)
	}
	var r ProviderReach
	for _, row := range rows {
		switch {
		case row.Role == RoleTenantAdmin:
			r.TenantAdmin = true
		case row.ProviderID != nil:
			r.Providers = append(r.Providers, *row.ProviderID)
		}
	}
	return r, nil
}

// ReachesTagespflegeIn tells whether account accountID may set up Kindertagespflege in
// district districtKey: a tenant admin in every district, the Fachberatung in its own.
func ReachesTagespflegeIn(ctx context.Context, db bun.IDB, tenantID, accountID uuid.UUID, districtKey string) (bool, error) {
	var reach bool
	err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM staff_role WHERE tenant_id = ? AND account_id = ?
		AND (role = ? OR (role = ? AND district_key = ?)))`,
		tenantID, accountID, RoleTenantAdmin, RoleCounsellor, districtKey).Scan(&reach)
	if err != nil {
		return false, fmt.Errorf("authz: tagespflege reach: %w", err)
	}
	return reach, nil
}
