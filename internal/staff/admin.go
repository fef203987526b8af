package staff

import (
	"context"
	"sort"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
)

// What tenant admins do to the members of their city besides inviting, granting and
// disabling (members.go): change a role with its scope in one step, reset a member's
// second factor with a logged reason, and see who may see child data.

// ChangeRole replaces role roleID of a member with g (another role, another scope or
// both) in one transaction with one audit entry naming both. The scope must exist in the
// caller's city; the city's last tenant admin keeps that role.
func (s *Service) ChangeRole(ctx context.Context, c auth.Caller, accountID, roleID uuid.UUID, g RoleGrant) error {
	t := c.Tenant
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := member(ctx, tx, t.ID, accountID)
		if err != nil {
			return err
		}
		if err := g.validate(); err != nil {
			return err
		}
		if a.Status == account.StatusDisabled {
			return apperr.Invalid("role", "staff_disabled", nil)
		}
		if err := checkScope(ctx, tx, t.ID, g); err != nil {
			return err
		}
		revoked, err := authz.RevokeStaffRole(ctx, tx, t.ID, a.ID, roleID)
		if err != nil {
			return err
		}
		if revoked == nil {
			return apperr.NotFound("not_found")
		}
		old := RoleGrant(revoked.Grant())
		if old == g {
			return apperr.Invalid("role", "role_unchanged", nil)
		}
		var by *uuid.UUID
		if c.Principal != nil && c.Principal.Kind == auth.KindStaff {
			by = &c.Principal.ID
		}
		granted, err := authz.GrantStaffRole(ctx, tx, t.ID, a.ID, authz.StaffGrant(g), by)
		if err != nil {
			return err
		}
		if !granted {
			return apperr.Invalid("role", "role_exists", nil)
		}
		if old.Role == authz.RoleTenantAdmin && g.Role != authz.RoleTenantAdmin {
			if err := ensureAdminLeft(ctx, tx, t.ID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionRoleChanged, ObjectKind: "account", ObjectID: a.ID.String(),
			Details: map[string]any{"from": roleDetails(old), "to": roleDetails(g)}})
	})
	if err != nil {
		return err
	}
	return s.authz.Reload(ctx)
}

// Lengths of the reason an admin gives for resetting a second factor.
const (
	minResetReason = 10
	maxResetReason = 500
)

// ResetSecondFactor switches a member's second factor off, with the reason logged (the
// phone was lost, the recovery codes too): the secret and the recovery codes are gone,
// every session of the member ends, and the next sign-in asks for a new enrolment. It
// gives nobody access — the member still needs their password. Admins cannot reset their
// own factor (their recovery codes or another admin do that).
func (s *Service) ResetSecondFactor(ctx context.Context, c auth.Caller, accountID uuid.UUID, reason string) error {
	reason, err := auth.FreeText("reason", reason, minResetReason, maxResetReason)
	if err != nil {
		return err
	}
	if c.Principal != nil && c.Principal.ID == accountID {
		return apperr.Conflict("mfa_reset_self")
	}
	t := c.Tenant
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := member(ctx, tx, t.ID, accountID)
		if err != nil {
			return err
		}
		if a.Status != account.StatusActive {
			return apperr.Conflict("mfa_reset_inactive")
		}
		reset, err := account.ResetTOTP(ctx, tx, t.ID, a.ID, s.clock.Now())
		if err != nil {
			return err
		}
		if !reset {
			return apperr.Conflict("mfa_not_enrolled_reset")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_code WHERE tenant_id = ? AND account_id = ?`, t.ID, a.ID); err != nil {
			return err
		}
		if err := s.sessions.EndAll(ctx, tx, t.ID, a.ID, uuid.Nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionMFAReset, ObjectKind: "account", ObjectID: a.ID.String(),
			Details: map[string]any{"reason": reason}})
	})
}

// ChildDataReader is a member whose roles let them see personal data of children: the
// roles that do, with their scope, and the actions behind it.
type ChildDataReader struct {
	ID        uuid.UUID `json:"id"`
	Email     string    `json:"email"`
	FirstName string    `json:"first_name"`
	LastName  string    `json:"last_name"`
	MFA       bool      `json:"mfa_enrolled"`
	Roles     []Role    `json:"roles"`
	Actions   []string  `json:"actions"` // of config/permissions.yaml child_data, sorted
}

// ChildDataReaders lists the city's active members holding a role that carries an action
// of the catalogue's child_data list (config/permissions.yaml), by name. What a role
// reaches is its scope: a facility lead sees the children of that facility only.
func (s *Service) ChildDataReaders(ctx context.Context, c auth.Caller) ([]ChildDataReader, error) {
	byRole := s.authz.Catalogue().ChildDataActions()
	var out []ChildDataReader
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		accounts, err := account.StaffAccounts(ctx, tx, c.Tenant.ID)
		if err != nil {
			return err
		}
		var ids []uuid.UUID
		for _, a := range accounts {
			if a.Status == account.StatusActive {
				ids = append(ids, a.ID)
			}
		}
		roles, err := rolesOf(ctx, tx, c.Tenant.ID, ids)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			if a.Status != account.StatusActive {
				continue
			}
			r := ChildDataReader{ID: a.ID, Email: a.Email, FirstName: a.FirstName, LastName: a.LastName, MFA: a.TOTPEnabledAt != nil}
			seen := map[string]bool{}
			for _, role := range roles[a.ID] {
				actions := byRole[role.Role]
				if len(actions) == 0 {
					continue
				}
				r.Roles = append(r.Roles, role)
				for _, act := range actions {
					if !seen[act] {
						seen[act] = true
						r.Actions = append(r.Actions, act)
					}
				}
			}
			if len(r.Roles) > 0 {
				sort.Strings(r.Actions)
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// Member reads one member of the city with its roles (the member page).
func (s *Service) Member(ctx context.Context, c auth.Caller, accountID uuid.UUID) (*Member, error) {
	var m *Member
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := member(ctx, tx, c.Tenant.ID, accountID)
		if err != nil {
			return err
		}
		roles, err := rolesOf(ctx, tx, c.Tenant.ID, []uuid.UUID{a.ID})
		if err != nil {
			return err
		}
		m = &Member{ID: a.ID, Email: a.Email, FirstName: a.FirstName, LastName: a.LastName, Status: a.Status,
			MFA: a.TOTPEnabledAt != nil, LastLoginAt: a.LastLoginAt, Roles: roles[a.ID]}
		return nil
	})
	return m, err
}
