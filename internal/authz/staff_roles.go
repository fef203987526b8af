package authz

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// StaffGrant is a staff role with its object scope; uuid.Nil and "" stand for no scope.
type StaffGrant struct {
	Role        string
	FacilityID  uuid.UUID // facility_lead, facility_staff
	ProviderID  uuid.UUID // provider_admin
	DistrictKey string    // tagespflege_counsellor
}

// StaffRole is one granted role of a staff account (a staff_role row).
type StaffRole struct {
	ID          uuid.UUID  `bun:"id"`
	AccountID   uuid.UUID  `bun:"account_id"`
	Role        string     `bun:"role"`
	FacilityID  *uuid.UUID `bun:"facility_id"`
	ProviderID  *uuid.UUID `bun:"provider_id"`
	DistrictKey *string    `bun:"district_key"`
	GrantedAt   time.Time  `bun:"granted_at"`
}

// Grant is the role with its scope.
func (r StaffRole) Grant() StaffGrant {
	g := StaffGrant{Role: r.Role}
	if r.FacilityID != nil {
		g.FacilityID = *r.FacilityID
	}
	if r.ProviderID != nil {
		g.ProviderID = *r.ProviderID
	}
	if r.DistrictKey != nil {
		g.DistrictKey = *r.DistrictKey
	}
	return g
}

func nullUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// GrantStaffRole stores a role of a staff account with its scope and the casbin grouping
// rule, in the caller's tenant transaction; by is who granted it (nil for an operator).
// It answers false, and stores nothing, when the account already holds that role with
// that scope. Call Reload after commit.
func GrantStaffRole(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, g StaffGrant, by *uuid.UUID) (bool, error) {
	id := uuid.Must(uuid.NewV7())
	res, err := tx.ExecContext(ctx, `INSERT INTO staff_role (tenant_id, id, account_id, role, provider_id, facility_id, district_key, granted_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ON CONSTRAINT staff_role_once DO NOTHING`,
		tenantID, id, accountID, g.Role, nullUUID(g.ProviderID), nullUUID(g.FacilityID), nullString(g.DistrictKey), by)
	if err != nil {
		return false, fmt.Errorf("grant role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	return true, GrantRole(ctx, tx, tenantID, accountID, g.Role)
}

// RevokeStaffRole deletes one role of a staff account and answers it (nil when the
// account has no role with that id). The casbin grouping rule goes with the account's
// last role of that name. Call Reload after commit.
func RevokeStaffRole(ctx context.Context, tx bun.IDB, tenantID, accountID, roleID uuid.UUID) (*StaffRole, error) {
	var r StaffRole
	err := tx.NewRaw(`DELETE FROM staff_role WHERE tenant_id = ? AND id = ? AND account_id = ?
		RETURNING id, account_id, role, facility_id, provider_id, district_key, granted_at`, tenantID, roleID, accountID).Scan(ctx, &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var left int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM staff_role WHERE tenant_id = ? AND account_id = ? AND role = ?`,
		tenantID, accountID, r.Role).Scan(&left); err != nil {
		return nil, err
	}
	if left == 0 {
		if err := RevokeRole(ctx, tx, tenantID, accountID, r.Role); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// RevokeStaffRoles deletes every role of a staff account and its grouping rules
// (disabled). Call Reload after commit.
func RevokeStaffRoles(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_role WHERE tenant_id = ? AND account_id = ?`, tenantID, accountID); err != nil {
		return err
	}
	return RevokeAll(ctx, tx, tenantID, accountID)
}

// StaffRolesOf answers the roles of the given staff accounts, each account's in the order
// they were granted.
func StaffRolesOf(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, accountIDs []uuid.UUID) (map[uuid.UUID][]StaffRole, error) {
	out := map[uuid.UUID][]StaffRole{}
	if len(accountIDs) == 0 {
		return out, nil
	}
	var rows []StaffRole
	if err := tx.NewRaw(`SELECT id, account_id, role, facility_id, provider_id, district_key, granted_at
		FROM staff_role WHERE tenant_id = ? AND account_id = ANY(?::uuid[]) ORDER BY granted_at, id`,
		tenantID, pgdialect.Array(accountIDs)).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.AccountID] = append(out[r.AccountID], r)
	}
	return out, nil
}

// HoldersOf answers the staff accounts that hold role in the tenant (any scope).
func HoldersOf(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, role string) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := tx.NewRaw(`SELECT DISTINCT account_id FROM staff_role WHERE tenant_id = ? AND role = ?`, tenantID, role).Scan(ctx, &ids)
	return ids, err
}
