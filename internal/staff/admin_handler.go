package staff

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// The member page (change a role with its scope, reset the second factor) and the list
// of who may see child data, as HTML and JSON (admin.go has the rules).

// memberData is the member page.
type memberData struct {
	Member     *Member
	Facilities []Option
	Providers  []Option
	Districts  []Option
	Roles      []string
	Self       bool
	CanChange  bool
	CanReset   bool
	CanDisable bool
}

func (h *Handler) memberPage(c *fiber.Ctx, id uuid.UUID, status int, f *view.Form, failure error) error {
	call := auth.CallerOf(c)
	ctx := c.UserContext()
	m, err := h.s.Member(ctx, call, id)
	if err != nil {
		return err
	}
	domain := call.Tenant.ID.String()
	d := memberData{Member: m, Roles: authz.StaffRoles, Self: call.Principal.ID == m.ID,
		CanChange:  h.s.authz.Allowed(call.Principal, domain, "staff.roles.change"),
		CanReset:   h.s.authz.Allowed(call.Principal, domain, "staff.mfa.reset"),
		CanDisable: h.s.authz.Allowed(call.Principal, domain, "staff.users.disable")}
	facilities, err := h.records.Facilities(ctx, call)
	if err != nil {
		return err
	}
	for _, fa := range facilities {
		d.Facilities = append(d.Facilities, Option{Value: fa.ID.String(), Label: fa.Name})
	}
	if d.Providers, d.Districts, err = h.s.scopeOptions(ctx, call); err != nil {
		return err
	}
	if failure != nil {
		return h.forms.Failed(c, failure, "staff_member", "staff.member.title", f, d)
	}
	return h.forms.Show(c, status, "staff_member", "staff.member.title", f, d)
}

// MemberPage shows one member with the forms to change a role and reset the second
// factor.
func (h *Handler) MemberPage(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	return h.memberPage(c, id, fiber.StatusOK, nil, nil)
}

// ChangeRole replaces one role of a member with another role or scope.
func (h *Handler) ChangeRole(c *fiber.Ctx) error {
	id, roleID, err := httpserver.PathIDs(c, "id", "role")
	if err != nil {
		return err
	}
	g := grantFromForm(c)
	if err := h.s.ChangeRole(c.UserContext(), auth.CallerOf(c), id, roleID, g); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound && e.Field == "" {
			return err // the member or the role is unknown
		}
		f := view.NewForm(map[string]string{"role": g.Role, "facility_id": c.FormValue("facility_id"),
			"provider_id": c.FormValue("provider_id"), "district_key": g.DistrictKey, "role_id": roleID.String()})
		return h.memberPage(c, id, 0, f, err)
	}
	return c.Redirect("/staff/users/"+id.String()+"?done=role_changed", fiber.StatusSeeOther)
}

// ResetSecondFactor resets a member's second factor with the reason given.
func (h *Handler) ResetSecondFactor(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	if err := h.s.ResetSecondFactor(c.UserContext(), auth.CallerOf(c), id, reason); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return err
		}
		return h.memberPage(c, id, 0, view.NewForm(map[string]string{"reason": reason}), err)
	}
	return c.Redirect("/staff/users/"+id.String()+"?done=mfa_reset", fiber.StatusSeeOther)
}

// childDataData is the page of who may see child data.
type childDataData struct {
	Readers []ChildDataReader
}

// ChildDataAccess lists who may see child data, with their scope.
func (h *Handler) ChildDataAccess(c *fiber.Ctx) error {
	readers, err := h.s.ChildDataReaders(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_child_data", "staff.child_data.title", nil, childDataData{Readers: readers})
}

// APIChangeRole handles PUT /api/v1/staff/users/{id}/roles/{role}.
func (h *Handler) APIChangeRole(c *fiber.Ctx) error {
	id, roleID, err := httpserver.PathIDs(c, "id", "role")
	if err != nil {
		return err
	}
	var b grantBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.ChangeRole(c.UserContext(), auth.CallerOf(c), id, roleID, RoleGrant(b)); err != nil {
		return err
	}
	m, err := h.s.Member(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

type resetBody struct {
	Reason string `json:"reason"`
}

// APIResetSecondFactor handles POST /api/v1/staff/users/{id}/mfa-reset.
func (h *Handler) APIResetSecondFactor(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b resetBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.ResetSecondFactor(c.UserContext(), auth.CallerOf(c), id, b.Reason); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "reset"})
}

// APIChildDataAccess handles GET /api/v1/staff/child-data-access.
func (h *Handler) APIChildDataAccess(c *fiber.Ctx) error {
	readers, err := h.s.ChildDataReaders(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": httpserver.List(readers)})
}
