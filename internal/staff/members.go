package staff

import (
	"context"
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
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// RoleGrant is a role with its object scope.
type RoleGrant authz.StaffGrant

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
	var found bool
	var field string
	switch {
	case g.FacilityID != uuid.Nil:
		names, err := provider.FacilityNames(ctx, tx, tenantID, []uuid.UUID{g.FacilityID})
		if err != nil {
			return err
		}
		_, found = names[g.FacilityID]
		field = "facility_id"
	case g.ProviderID != uuid.Nil:
		names, err := provider.ProviderNames(ctx, tx, tenantID, []uuid.UUID{g.ProviderID})
		if err != nil {
			return err
		}
		_, found = names[g.ProviderID]
		field = "provider_id"
	case g.DistrictKey != "":
		names, err := tenant.DistrictNames(ctx, tx, tenantID, []string{g.DistrictKey})
		if err != nil {
			return err
		}
		_, found = names[g.DistrictKey]
		field = "district_key"
	default:
		return nil
	}
	if !found {
		return apperr.NotFound("not_found").WithField(field)
	}
	return nil
}

// grant stores a role (staff_role and the casbin grouping rule) and audits it.
func grant(ctx context.Context, tx bun.IDB, c auth.Caller, accountID uuid.UUID, g RoleGrant) error {
	t := c.Tenant
	var by *uuid.UUID
	if c.Principal != nil && c.Principal.Kind == auth.KindStaff {
		by = &c.Principal.ID
	}
	granted, err := authz.GrantStaffRole(ctx, tx, t.ID, accountID, authz.StaffGrant(g), by)
	if err != nil {
		return err
	}
	if !granted {
		return apperr.Invalid("role", "role_exists", nil)
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
			id, err := account.CreateStaff(ctx, tx, t.ID, in.Email, in.FirstName, in.LastName, now)
			if err != nil {
				return err
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
		activated, err := account.ActivateInvited(ctx, tx, t.ID, a.ID, hash, now)
		if err != nil {
			return err
		}
		if !activated {
			return account.ErrTokenInvalid
		}
		return audit.Record(ctx, tx, t.ID, account.ActorOf(c, a), audit.Event{Action: audit.ActionInvitationUsed, ObjectKind: "account", ObjectID: a.ID.String()})
	})
}

// Role is one granted role with the names of its scope.
type Role struct {
	ID           uuid.UUID  `json:"id"`
	Role         string     `json:"role"`
	FacilityID   *uuid.UUID `json:"facility_id,omitempty"`
	FacilityName string     `json:"facility_name,omitempty"`
	ProviderID   *uuid.UUID `json:"provider_id,omitempty"`
	ProviderName string     `json:"provider_name,omitempty"`
	DistrictKey  *string    `json:"district_key,omitempty"`
	DistrictName string     `json:"district_name,omitempty"`
}

// Member is a staff account as the user list shows it.
type Member struct {
	ID          uuid.UUID  `json:"id"`
	Email       string     `json:"email"`
	FirstName   string     `json:"first_name"`
	LastName    string     `json:"last_name"`
	Status      string     `json:"status"`
	MFA         bool       `json:"mfa_enrolled"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
	Roles       []Role     `json:"roles"`
}

// rolesOf reads the roles of the given staff accounts with the names of their scopes,
// each account's in the order they were granted.
func rolesOf(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, accountIDs []uuid.UUID) (map[uuid.UUID][]Role, error) {
	granted, err := authz.StaffRolesOf(ctx, tx, tenantID, accountIDs)
	if err != nil {
		return nil, err
	}
	var facilityIDs, providerIDs []uuid.UUID
	var districtKeys []string
	for _, rs := range granted {
		for _, r := range rs {
			if r.FacilityID != nil {
				facilityIDs = append(facilityIDs, *r.FacilityID)
			}
			if r.ProviderID != nil {
				providerIDs = append(providerIDs, *r.ProviderID)
			}
			if r.DistrictKey != nil {
				districtKeys = append(districtKeys, *r.DistrictKey)
			}
		}
	}
	facilities, err := provider.FacilityNames(ctx, tx, tenantID, facilityIDs)
	if err != nil {
		return nil, err
	}
	providers, err := provider.ProviderNames(ctx, tx, tenantID, providerIDs)
	if err != nil {
		return nil, err
	}
	districts, err := tenant.DistrictNames(ctx, tx, tenantID, districtKeys)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID][]Role, len(granted))
	for id, rs := range granted {
		for _, r := range rs {
			role := Role{ID: r.ID, Role: r.Role, FacilityID: r.FacilityID, ProviderID: r.ProviderID, DistrictKey: r.DistrictKey}
			if r.FacilityID != nil {
				role.FacilityName = facilities[*r.FacilityID]
			}
			if r.ProviderID != nil {
				role.ProviderName = providers[*r.ProviderID]
			}
			if r.DistrictKey != nil {
				role.DistrictName = districts[*r.DistrictKey]
			}
			out[id] = append(out[id], role)
		}
	}
	return out, nil
}

// Members lists the staff accounts of the caller's tenant with their roles.
func (s *Service) Members(ctx context.Context, c auth.Caller) ([]Member, error) {
	var out []Member
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		accounts, err := account.StaffAccounts(ctx, tx, c.Tenant.ID)
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, len(accounts))
		for i, a := range accounts {
			ids[i] = a.ID
		}
		roles, err := rolesOf(ctx, tx, c.Tenant.ID, ids)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			out = append(out, Member{ID: a.ID, Email: a.Email, FirstName: a.FirstName, LastName: a.LastName, Status: a.Status,
				MFA: a.TOTPEnabledAt != nil, LastLoginAt: a.LastLoginAt, Roles: roles[a.ID]})
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
		revoked, err := authz.RevokeStaffRole(ctx, tx, t.ID, accountID, roleID)
		if err != nil {
			return err
		}
		if revoked == nil {
			return apperr.NotFound("not_found")
		}
		g := RoleGrant(revoked.Grant())
		if g.Role == authz.RoleTenantAdmin {
			if err := ensureAdminLeft(ctx, tx, t.ID); err != nil {
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

// ensureAdminLeft answers last_admin unless an active or pending account still holds
// tenant_admin.
func ensureAdminLeft(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) error {
	holders, err := authz.HoldersOf(ctx, tx, tenantID, authz.RoleTenantAdmin)
	if err != nil {
		return err
	}
	admins, err := account.CountOnBoard(ctx, tx, tenantID, holders)
	if err != nil {
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
		if err := account.Disable(ctx, tx, t.ID, a.ID, s.clock.Now()); err != nil {
			return err
		}
		if err := authz.RevokeStaffRoles(ctx, tx, t.ID, a.ID); err != nil {
			return err
		}
		if err := ensureAdminLeft(ctx, tx, t.ID); err != nil {
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
		roles, err := rolesOf(ctx, tx, c.Tenant.ID, []uuid.UUID{c.Principal.ID})
		out = roles[c.Principal.ID]
		return err
	})
	return out, err
}

// scopeOptions lists the tenant's providers and districts for the role forms.
func (s *Service) scopeOptions(ctx context.Context, c auth.Caller) (providers, districts []Option, err error) {
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		ps, err := provider.ProvidersByName(ctx, tx, c.Tenant.ID, 2000)
		if err != nil {
			return err
		}
		for _, p := range ps {
			providers = append(providers, Option{Value: p.ID.String(), Label: p.Name})
		}
		ds, err := tenant.DistrictsByName(ctx, tx, c.Tenant.ID)
		if err != nil {
			return err
		}
		for _, d := range ds {
			districts = append(districts, Option{Value: d.Key, Label: d.Name})
		}
		return nil
	})
	return providers, districts, err
}
