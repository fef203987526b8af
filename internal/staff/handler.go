package staff

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/account"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/childfile"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// Handler serves the staff area (HTML) and its API (api.go).
type Handler struct {
	s       *Service
	records *childfile.Service
	views   *view.Renderer
	authn   *auth.Authenticator
	forms   view.Forms
}

// NewHandler returns the staff handlers; records lists the facilities in the caller's
// scope (the start page, the role form).
func NewHandler(s *Service, records *childfile.Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, records: records, views: views, authn: authn, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// LoginForm shows the staff sign-in.
func (h *Handler) LoginForm(c *fiber.Ctx) error {
	if p := auth.PrincipalOf(c); p != nil && (p.Kind == auth.KindStaff || p.Kind == auth.KindSupport) {
		if p.Subject() == auth.SubjectMFAPending {
			return c.Redirect("/staff/2fa", fiber.StatusSeeOther)
		}
		return c.Redirect("/staff", fiber.StatusSeeOther)
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_login", "staff.login.title", view.NewForm(map[string]string{"next": account.SafeNext(c.Query("next"))}), nil)
}

// Login checks the password; the second factor follows on /staff/2fa.
func (h *Handler) Login(c *fiber.Ctx) error {
	next := account.SafeNext(c.FormValue("next"))
	f := view.NewForm(map[string]string{"email": c.FormValue("email"), "next": next})
	sess, err := h.s.Login(c.UserContext(), auth.CallerOf(c), c.FormValue("email"), c.FormValue("password"))
	if err != nil {
		return h.forms.Failed(c, err, "staff_login", "staff.login.title", f, nil)
	}
	h.authn.SetSessionCookie(c, sess.Token, sess.ExpiresAt)
	target := "/staff/2fa"
	if next != "/" && strings.HasPrefix(next, "/staff") {
		target += "?next=" + next
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// Logout ends a staff (or support) session.
func (h *Handler) Logout(c *fiber.Ctx) error {
	if err := h.s.accounts.Logout(c.UserContext(), auth.CallerOf(c)); err != nil {
		return err
	}
	h.authn.ClearSessionCookie(c)
	return c.Redirect("/staff/login?done=logged_out", fiber.StatusSeeOther)
}

// mfaData is the second-factor page.
type mfaData struct {
	Enrolment *Enrolment // set while the factor is being set up
	Next      string
}

// SecondFactorForm asks for the code, or shows the QR code when the factor is not set
// up yet.
func (h *Handler) SecondFactorForm(c *fiber.Ctx) error {
	return h.secondFactorPage(c, fiber.StatusOK, nil, nil)
}

func (h *Handler) secondFactorPage(c *fiber.Ctx, status int, f *view.Form, failure error) error {
	call := auth.CallerOf(c)
	enrolled, err := h.s.Enrolled(c.UserContext(), call)
	if err != nil {
		return err
	}
	data := mfaData{Next: account.SafeNext(c.Query("next", c.FormValue("next")))}
	page, title := "staff_2fa", "staff.mfa.title"
	if !enrolled {
		if data.Enrolment, err = h.s.BeginEnrolment(c.UserContext(), call); err != nil {
			return err
		}
		page, title = "staff_2fa_setup", "staff.mfa.setup.title"
	}
	if failure != nil {
		return h.forms.Failed(c, failure, page, title, f, data)
	}
	return h.forms.Show(c, status, page, title, f, data)
}

// SecondFactor checks a TOTP or recovery code and completes the session.
func (h *Handler) SecondFactor(c *fiber.Ctx) error {
	sess, err := h.s.SecondFactor(c.UserContext(), auth.CallerOf(c), c.FormValue("code"))
	if err != nil {
		return h.secondFactorPage(c, 0, view.NewForm(nil), err)
	}
	h.authn.SetSessionCookie(c, sess.Token, sess.ExpiresAt)
	next := account.SafeNext(c.FormValue("next"))
	if !strings.HasPrefix(next, "/staff") {
		next = "/staff"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// ConfirmSetup confirms the enrolment with the first code and shows the recovery codes
// once.
func (h *Handler) ConfirmSetup(c *fiber.Ctx) error {
	sess, codes, err := h.s.ConfirmEnrolment(c.UserContext(), auth.CallerOf(c), c.FormValue("code"))
	if err != nil {
		return h.secondFactorPage(c, 0, view.NewForm(nil), err)
	}
	h.authn.SetSessionCookie(c, sess.Token, sess.ExpiresAt)
	auth.SetPrincipal(c, sess.Principal)
	return h.showCodes(c, codes)
}

func (h *Handler) showCodes(c *fiber.Ctx, codes []string) error {
	p := h.views.NewPage(c, "", codes)
	p.Title = p.T("staff.mfa.codes.title")
	p.Viewer = nil // the new session's header comes with the next page
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.views.RenderPage(c, fiber.StatusOK, "staff_recovery_codes", p)
}

// securityData is the staff member's security page.
type securityData struct {
	Remaining int
}

// Security shows how many recovery codes are left.
func (h *Handler) Security(c *fiber.Ctx) error {
	n, err := h.s.RemainingRecoveryCodes(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_security", "staff.security.title", nil, securityData{Remaining: n})
}

// NewRecoveryCodes replaces the recovery codes after a TOTP code.
func (h *Handler) NewRecoveryCodes(c *fiber.Ctx) error {
	codes, err := h.s.NewRecoveryCodes(c.UserContext(), auth.CallerOf(c), c.FormValue("code"))
	if err != nil {
		n, _ := h.s.RemainingRecoveryCodes(c.UserContext(), auth.CallerOf(c))
		return h.forms.Failed(c, err, "staff_security", "staff.security.title", view.NewForm(nil), securityData{Remaining: n})
	}
	return h.showCodes(c, codes)
}

// InvitationForm asks the invited person for a password.
func (h *Handler) InvitationForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "staff_invitation", "staff.invitation.title", nil, struct{ Token string }{c.Query("token")})
}

// AcceptInvitation sets the password; sign-in and second factor follow.
func (h *Handler) AcceptInvitation(c *fiber.Ctx) error {
	token := c.FormValue("token")
	if err := h.s.AcceptInvitation(c.UserContext(), auth.CallerOf(c), token, c.FormValue("password")); err != nil {
		return h.forms.Failed(c, err, "staff_invitation", "staff.invitation.title", view.NewForm(nil), struct{ Token string }{token})
	}
	return c.Redirect("/staff/login?done=password_reset", fiber.StatusSeeOther)
}

// homeData is the staff start page.
type homeData struct {
	Roles       []Role
	Facilities  []childfile.FacilitySummary
	Support     bool
	CanManage   bool
	CanAudit    bool
	CanCaseWork bool // tickets, duplicates, imports
	CanMachines bool // machine credentials of the city
	CanWebhooks bool // webhook endpoints of the city
	CanPlanning bool // the demand planning (Bedarfsplanung)
	CanBrand    bool // the branding editor
	CanRules    bool // the city's rules (rules editor)
}

// Home shows the caller's roles and the facilities in scope.
func (h *Handler) Home(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	facilities, err := h.records.Facilities(c.UserContext(), call)
	if err != nil {
		return err
	}
	d := homeData{Facilities: facilities, Support: call.Principal.Kind == auth.KindSupport}
	if !d.Support {
		if d.Roles, err = h.s.MyRoles(c.UserContext(), call); err != nil {
			return err
		}
	}
	domain := call.Tenant.ID.String()
	d.CanManage = h.s.authz.Allowed(call.Principal, domain, "staff.users.read")
	d.CanAudit = h.s.authz.Allowed(call.Principal, domain, "audit.read")
	d.CanMachines = h.s.authz.Allowed(call.Principal, domain, "credentials.read")
	d.CanWebhooks = h.s.authz.Allowed(call.Principal, domain, "webhooks.read")
	d.CanCaseWork = h.s.authz.Allowed(call.Principal, domain, "duplicates.read")
	d.CanPlanning = h.s.authz.Allowed(call.Principal, domain, "planning.read")
	d.CanBrand = h.s.authz.Allowed(call.Principal, domain, "branding.read")
	d.CanRules = h.s.authz.Allowed(call.Principal, domain, "rules.read")
	return h.forms.Show(c, fiber.StatusOK, "staff_home", "staff.home.title", nil, d)
}

// usersData is the user management page.
type usersData struct {
	Members    []Member
	Facilities []childfile.FacilitySummary
	Providers  []Option
	Districts  []Option
	Roles      []string
	Self       uuid.UUID
	CanManage  bool
}

// Option is a choice of a form select.
type Option struct {
	Value string
	Label string
}

func (h *Handler) usersPage(c *fiber.Ctx, status int, f *view.Form, failure error) error {
	call := auth.CallerOf(c)
	ctx := c.UserContext()
	members, err := h.s.Members(ctx, call)
	if err != nil {
		return err
	}
	d := usersData{Members: members, Roles: authz.StaffRoles, Self: call.Principal.ID,
		CanManage: h.s.authz.Allowed(call.Principal, call.Tenant.ID.String(), "staff.users.invite")}
	if d.Facilities, err = h.records.Facilities(ctx, call); err != nil {
		return err
	}
	if d.Providers, d.Districts, err = h.s.scopeOptions(ctx, call); err != nil {
		return err
	}
	if failure != nil {
		return h.forms.Failed(c, failure, "staff_users", "staff.users.title", f, d)
	}
	return h.forms.Show(c, status, "staff_users", "staff.users.title", f, d)
}

// Users lists the staff accounts with their roles, and the invitation form.
func (h *Handler) Users(c *fiber.Ctx) error { return h.usersPage(c, fiber.StatusOK, nil, nil) }

func grantFromForm(c *fiber.Ctx) RoleGrant {
	g := RoleGrant{Role: c.FormValue("role"), DistrictKey: strings.TrimSpace(c.FormValue("district_key"))}
	g.FacilityID, _ = uuid.Parse(c.FormValue("facility_id"))
	g.ProviderID, _ = uuid.Parse(c.FormValue("provider_id"))
	if c.FormValue("facility_id") != "" && g.FacilityID == uuid.Nil {
		g.FacilityID = badID // typed garbage is an unknown facility, not a missing one
	}
	if c.FormValue("provider_id") != "" && g.ProviderID == uuid.Nil {
		g.ProviderID = badID
	}
	return g
}

// badID stands for an id that cannot exist.
var badID = uuid.MustParse("00000000-0000-0000-0000-000000000001")

// Invite sends an invitation.
func (h *Handler) Invite(c *fiber.Ctx) error {
	in := Invitation{Email: c.FormValue("email"), FirstName: c.FormValue("first_name"), LastName: c.FormValue("last_name"), Grant: grantFromForm(c)}
	if err := h.s.Invite(c.UserContext(), auth.CallerOf(c), in); err != nil {
		f := view.NewForm(map[string]string{"email": in.Email, "first_name": in.FirstName, "last_name": in.LastName, "role": in.Grant.Role,
			"facility_id": c.FormValue("facility_id"), "provider_id": c.FormValue("provider_id"), "district_key": in.Grant.DistrictKey})
		return h.usersPage(c, 0, f, err)
	}
	return c.Redirect("/staff/users?done=invited", fiber.StatusSeeOther)
}

// Grant gives a member another role.
func (h *Handler) Grant(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.s.Grant(c.UserContext(), auth.CallerOf(c), id, grantFromForm(c)); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound && e.Field == "" {
			return err // the member itself is unknown
		}
		return h.usersPage(c, 0, view.NewForm(nil), err)
	}
	return c.Redirect("/staff/users?done=role_granted", fiber.StatusSeeOther)
}

// Revoke takes a role away.
func (h *Handler) Revoke(c *fiber.Ctx) error {
	id, roleID, err := httpserver.PathIDs(c, "id", "role")
	if err != nil {
		return err
	}
	if err := h.s.Revoke(c.UserContext(), auth.CallerOf(c), id, roleID); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindConflict {
			return h.usersPage(c, 0, view.NewForm(nil), err)
		}
		return err
	}
	return c.Redirect("/staff/users?done=role_revoked", fiber.StatusSeeOther)
}

// Disable locks a member out.
func (h *Handler) Disable(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.s.Disable(c.UserContext(), auth.CallerOf(c), id); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindConflict {
			return h.usersPage(c, 0, view.NewForm(nil), err)
		}
		return err
	}
	return c.Redirect("/staff/users?done=disabled", fiber.StatusSeeOther)
}
