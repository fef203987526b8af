package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
)

// RoleGrant is a role with its object scope.
type RoleGrant struct {
	Role        string
	FacilityID  uuid.UUID // facility_lead, facility_staff
	ProviderID  uuid.UUID // provider_admin
	DistrictKey string    // tagespflege_counsellor
}

// validate checks the role and that its scope is given, and only the scope it needs.
func (g *RoleGrant) validate() error {
	if !authz.IsStaffRole(g.Role) {
		return apperr.Invalid("role", "role_unknown", nil)
	}
	switch g.Role {
	case authz.RoleProvider:
		g.FacilityID, g.DistrictKey = uuid.Nil, ""
		if g.ProviderID == uuid.Nil {
			return apperr.Invalid("provider_id", "scope_required", nil)
		}
	case authz.RoleLead, authz.RoleStaff:
		g.ProviderID, g.DistrictKey = uuid.Nil, ""
		if g.FacilityID == uuid.Nil {
			return apperr.Invalid("facility_id", "scope_required", nil)
		}
	case authz.RoleCounsellor:
		g.ProviderID, g.FacilityID = uuid.Nil, uuid.Nil
		if g.DistrictKey == "" {
			return apperr.Invalid("district_key", "scope_required", nil)
		}
	default:
		g.ProviderID, g.FacilityID, g.DistrictKey = uuid.Nil, uuid.Nil, ""
	}
	return nil
}

// checkScope makes sure the scope's object exists in the tenant; an id of another city
// is unknown here, like any other unknown id.
func checkScope(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, g RoleGrant) error {
	var q, field string
	var arg any
	switch {
	case g.FacilityID != uuid.Nil:
		q, field, arg = `SELECT 1 FROM facility WHERE tenant_id = ? AND id = ?`, "facility_id", g.FacilityID
	case g.ProviderID != uuid.Nil:
		q, field, arg = `SELECT 1 FROM provider WHERE tenant_id = ? AND id = ?`, "provider_id", g.ProviderID
	case g.DistrictKey != "":
		q, field, arg = `SELECT 1 FROM district WHERE tenant_id = ? AND key = ?`, "district_key", g.DistrictKey
	default:
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, q, tenantID, arg).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound("not_found").WithField(field)
	}
	return err
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

// grant stores a role (staff_role and the casbin grouping rule) and audits it.
func grant(ctx context.Context, tx bun.IDB, c auth.Caller, accountID uuid.UUID, g RoleGrant) error {
	t := c.Tenant
	var by *uuid.UUID
	if c.Principal != nil && c.Principal.Kind == auth.KindStaff {
		by = &c.Principal.ID
	}
	id := uuid.Must(uuid.NewV7())
	res, err := tx.ExecContext(ctx, `INSERT INTO staff_role (tenant_id, id, account_id, role, provider_id, facility_id, district_key, granted_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ON CONSTRAINT staff_role_once DO NOTHING`,
		t.ID, id, accountID, g.Role, nullUUID(g.ProviderID), nullUUID(g.FacilityID), nullString(g.DistrictKey), by)
	if err != nil {
		return fmt.Errorf("grant role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.Invalid("role", "role_exists", nil)
	}
	if err := authz.GrantRole(ctx, tx, t.ID, accountID, g.Role); err != nil {
		return err
	}
	return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionRoleGranted, ObjectKind: "account", ObjectID: accountID.String(),
		Details: roleDetails(g)})
}

func roleDetails(g RoleGrant) map[string]any {
	d := map[string]any{"role": g.Role}
	if g.FacilityID != uuid.Nil {
		d["facility_id"] = g.FacilityID
	}
	if g.ProviderID != uuid.Nil {
		d["provider_id"] = g.ProviderID
	}
	if g.DistrictKey != "" {
		d["district_key"] = g.DistrictKey
	}
	return d
}

// Invitation is what a tenant admin (or an operator onboarding a city) enters.
type Invitation struct {
	Email     string
	FirstName string
	LastName  string
	Grant     RoleGrant
}

// Invite invites a person into the staff area with a first role: the staff account is
// created (pending) with the role, and a link to set a password goes out. An existing
// staff account simply gets the role.
func (s *Service) Invite(ctx context.Context, c auth.Caller, in Invitation) error {
	var errs apperr.List
	var err error
	add := func(err error) {
		if e, ok := apperr.As(err); ok {
			errs = append(errs, e)
		}
	}
	if in.Email, err = auth.Email("email", in.Email); err != nil {
		add(err)
	}
	if in.FirstName, err = auth.Name("first_name", in.FirstName, true); err != nil {
		add(err)
	}
	if in.LastName, err = auth.Name("last_name", in.LastName, true); err != nil {
		add(err)
	}
	if err := in.Grant.validate(); err != nil {
		add(err)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	t := c.Tenant
	now := s.clock.Now()
	err = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := checkScope(ctx, tx, t.ID, in.Grant); err != nil {
			return err
		}
		a, err := account.ByEmail(ctx, tx, t.ID, account.KindStaff, in.Email, true)
		if err != nil {
			return err
		}
		if a != nil && a.Status == account.StatusDisabled {
			return apperr.Invalid("email", "staff_disabled", nil)
		}
		if a == nil {
			id := uuid.Must(uuid.NewV7())
			if _, err := tx.ExecContext(ctx, `INSERT INTO account (tenant_id, id, kind, email, status, first_name, last_name, language, created_at, updated_at)
				VALUES (?, ?, 'staff', ?, 'pending', ?, ?, 'de', ?, ?)`, t.ID, id, in.Email, in.FirstName, in.LastName, now, now); err != nil {
				return fmt.Errorf("create staff account: %w", err)
			}
			if a, err = account.ByID(ctx, tx, t.ID, id, true); err != nil {
				return err
			}
		}
		if err := grant(ctx, tx, c, a.ID, in.Grant); err != nil {
			return err
		}
		if a.Status == account.StatusActive {
			return nil // already on board: the new role is enough
		}
		token, err := account.IssueToken(ctx, tx, t.ID, a.ID, account.PurposeInvitation, nil, now.Add(account.InvitationTTL))
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionStaffInvited, ObjectKind: "account", ObjectID: a.ID.String(),
			Details: roleDetails(in.Grant)}); err != nil {
			return err
		}
		inviter := "Kitaportal"
		if c.Principal != nil {
			inviter = c.Principal.Name()
		}
		cat := s.mails
		return cat.Queue(ctx, tx, t.ID, notify.Mail{Kind: "staff_invitation", Lang: a.Language, To: a.Email, Brand: s.links.Brand(t),
			Data: notify.MailData{Name: in.FirstName + " " + in.LastName, URL: s.links.URL(t, "/staff/invitation?token="+token),
				Hours: int(account.InvitationTTL.Hours()), Inviter: inviter, Role: s.roleLabel(a.Language, in.Grant.Role)}})
	})
	if err != nil {
		return err
	}
	return s.authz.Reload(ctx)
}

func (s *Service) roleLabel(lang, role string) string {
	return s.mails.Translate(lang, "role."+role)
}

// AcceptInvitation sets the invited person's password; the second factor is set up at
// the first sign-in.
func (s *Service) AcceptInvitation(ctx context.Context, c auth.Caller, token, password string) error {
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitTokenAddr, c.AddrKey()); err != nil {
		return err
	}
	t := c.Tenant
	var a *account.Account
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		tok, err := account.PeekToken(ctx, tx, t.ID, account.PurposeInvitation, token, s.clock.Now(), false)
		if err != nil {
			return err
		}
		a, err = account.ByID(ctx, tx, t.ID, tok.AccountID, false)
		return err
	})
	if err != nil {
		return err
	}
	if a.Status != account.StatusPending {
		return account.ErrTokenInvalid
	}
	if err := auth.CheckPassword("password", password, a.Email, a.FirstName, a.LastName); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		tok, err := account.UseToken(ctx, tx, t.ID, account.PurposeInvitation, token, now)
		if err != nil || tok.AccountID != a.ID {
			return account.ErrTokenInvalid
		}
		res, err := tx.ExecContext(ctx, `UPDATE account SET status = 'active', password_hash = ?, email_verified_at = ?, updated_at = ?
			WHERE tenant_id = ? AND id = ? AND status = 'pending'`, hash, now, now, t.ID, a.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return account.ErrTokenInvalid
		}
		return audit.Record(ctx, tx, t.ID, account.ActorOf(c, a), audit.Event{Action: audit.ActionInvitationUsed, ObjectKind: "account", ObjectID: a.ID.String()})
	})
}

// Role is one granted role with the names of its scope.
type Role struct {
	ID           uuid.UUID  `bun:"id" json:"id"`
	Role         string     `bun:"role" json:"role"`
	FacilityID   *uuid.UUID `bun:"facility_id" json:"facility_id,omitempty"`
	FacilityName string     `bun:"facility_name" json:"facility_name,omitempty"`
	ProviderID   *uuid.UUID `bun:"provider_id" json:"provider_id,omitempty"`
	ProviderName string     `bun:"provider_name" json:"provider_name,omitempty"`
	DistrictKey  *string    `bun:"district_key" json:"district_key,omitempty"`
	DistrictName string     `bun:"district_name" json:"district_name,omitempty"`
}

// Member is a staff account as the user list shows it.
type Member struct {
	ID          uuid.UUID  `bun:"id" json:"id"`
	Email       string     `bun:"email" json:"email"`
	FirstName   string     `bun:"first_name" json:"first_name"`
	LastName    string     `bun:"last_name" json:"last_name"`
	Status      string     `bun:"status" json:"status"`
	MFA         bool       `bun:"mfa" json:"mfa_enrolled"`
	LastLoginAt *time.Time `bun:"last_login_at" json:"last_login_at,omitempty"`
	Roles       []Role     `bun:"-" json:"roles"`
}

const rolesQuery = `
	SELECT r.id, r.role, r.facility_id, coalesce(f.name, '') AS facility_name, r.provider_id, coalesce(p.name, '') AS provider_name,
	       r.district_key, coalesce(d.name, '') AS district_name
	FROM staff_role r
	LEFT JOIN facility f ON f.tenant_id = r.tenant_id AND f.id = r.facility_id
	LEFT JOIN provider p ON p.tenant_id = r.tenant_id AND p.id = r.provider_id
	LEFT JOIN district d ON d.tenant_id = r.tenant_id AND d.key = r.district_key
	WHERE r.tenant_id = ? AND r.account_id = ? ORDER BY r.granted_at, r.id`

// Members lists the staff accounts of the caller's tenant with their roles.
func (s *Service) Members(ctx context.Context, c auth.Caller) ([]Member, error) {
	var out []Member
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw(`SELECT id, email, first_name, last_name, status, totp_enabled_at IS NOT NULL AS mfa, last_login_at
			FROM account WHERE tenant_id = ? AND kind = 'staff' AND status <> 'deleted' ORDER BY last_name, first_name, email`,
			c.Tenant.ID).Scan(ctx, &out); err != nil {
			return err
		}
		for i := range out {
			if err := tx.NewRaw(rolesQuery, c.Tenant.ID, out[i].ID).Scan(ctx, &out[i].Roles); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// member reads one staff account of the tenant; ErrNotFound for anything else.
func member(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) (*account.Account, error) {
	a, err := account.ByID(ctx, tx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	if a.Kind != account.KindStaff || a.Status == account.StatusDeleted {
		return nil, account.ErrNotFound
	}
	return a, nil
}

// Grant gives an existing staff account another role.
func (s *Service) Grant(ctx context.Context, c auth.Caller, accountID uuid.UUID, g RoleGrant) error {
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := member(ctx, tx, c.Tenant.ID, accountID)
		if err != nil {
			return err
		}
		if err := g.validate(); err != nil {
			return err
		}
		if a.Status == account.StatusDisabled {
			return apperr.Invalid("role", "staff_disabled", nil)
		}
		if err := checkScope(ctx, tx, c.Tenant.ID, g); err != nil {
			return err
		}
		return grant(ctx, tx, c, a.ID, g)
	})
	if err != nil {
		return err
	}
	return s.authz.Reload(ctx)
}

// Revoke takes one role away. The city's last tenant admin cannot lose that role: someone
// must be able to manage the city.
func (s *Service) Revoke(ctx context.Context, c auth.Caller, accountID, roleID uuid.UUID) error {
	t := c.Tenant
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if _, err := member(ctx, tx, t.ID, accountID); err != nil {
			return err
		}
		var g RoleGrant
		var facility, provider *uuid.UUID
		var district *string
		err := tx.QueryRowContext(ctx, `DELETE FROM staff_role WHERE tenant_id = ? AND id = ? AND account_id = ?
			RETURNING role, facility_id, provider_id, district_key`, t.ID, roleID, accountID).Scan(&g.Role, &facility, &provider, &district)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.NotFound("not_found")
		}
		if err != nil {
			return err
		}
		if facility != nil {
			g.FacilityID = *facility
		}
		if provider != nil {
			g.ProviderID = *provider
		}
		if district != nil {
			g.DistrictKey = *district
		}
		if g.Role == authz.RoleTenantAdmin {
			if err := ensureAdminLeft(ctx, tx, t.ID); err != nil {
				return err
			}
		}
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM staff_role WHERE tenant_id = ? AND account_id = ? AND role = ?`,
			t.ID, accountID, g.Role).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			if err := authz.RevokeRole(ctx, tx, t.ID, accountID, g.Role); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionRoleRevoked, ObjectKind: "account", ObjectID: accountID.String(),
			Details: roleDetails(g)})
	})
	if err != nil {
		return err
	}
	return s.authz.Reload(ctx)
}

func ensureAdminLeft(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) error {
	var admins int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM staff_role r JOIN account a ON a.tenant_id = r.tenant_id AND a.id = r.account_id
		WHERE r.tenant_id = ? AND r.role = 'tenant_admin' AND a.status IN ('active', 'pending')`, tenantID).Scan(&admins); err != nil {
		return err
	}
	if admins == 0 {
		return apperr.Conflict("last_admin")
	}
	return nil
}

// Disable locks a staff account out: its sessions end and its roles go. People cannot
// disable themselves, and the last tenant admin cannot be disabled.
func (s *Service) Disable(ctx context.Context, c auth.Caller, accountID uuid.UUID) error {
	if c.Principal != nil && c.Principal.ID == accountID {
		return apperr.Conflict("disable_self")
	}
	t := c.Tenant
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := member(ctx, tx, t.ID, accountID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account SET status = 'disabled', updated_at = ? WHERE tenant_id = ? AND id = ?`,
			s.clock.Now(), t.ID, a.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_role WHERE tenant_id = ? AND account_id = ?`, t.ID, a.ID); err != nil {
			return err
		}
		if err := ensureAdminLeft(ctx, tx, t.ID); err != nil {
			return err
		}
		if err := authz.RevokeAll(ctx, tx, t.ID, a.ID); err != nil {
			return err
		}
		if err := s.sessions.EndAll(ctx, tx, t.ID, a.ID, uuid.Nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionStaffDisabled, ObjectKind: "account", ObjectID: a.ID.String()})
	})
	if err != nil {
		return err
	}
	return s.authz.Reload(ctx)
}

// MyRoles lists the caller's roles.
func (s *Service) MyRoles(ctx context.Context, c auth.Caller) ([]Role, error) {
	var out []Role
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(rolesQuery, c.Tenant.ID, c.Principal.ID).Scan(ctx, &out)
	})
	return out, err
}

// scopeOptions lists the tenant's providers and districts for the role forms.
func (s *Service) scopeOptions(ctx context.Context, c auth.Caller) (providers, districts []Option, err error) {
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw(`SELECT id::text AS value, name AS label FROM provider WHERE tenant_id = ? ORDER BY name LIMIT 2000`,
			c.Tenant.ID).Scan(ctx, &providers); err != nil {
			return err
		}
		return tx.NewRaw(`SELECT key AS value, name AS label FROM district WHERE tenant_id = ? ORDER BY name`, c.Tenant.ID).Scan(ctx, &districts)
	})
	return providers, districts, err
}
