package staff

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/account"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
)

// The staff API: the same operations as the staff pages, for the cities' back-office
// software. Bearer tokens come from POST /api/v1/staff/auth/login with password and a
// current TOTP code.

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Code     string `json:"code"`
}

// APILogin handles POST /api/v1/staff/auth/login.
func (h *Handler) APILogin(c *fiber.Ctx) error {
	var b loginBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	sess, err := h.s.APILogin(c.UserContext(), auth.CallerOf(c), b.Email, b.Password, b.Code)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(account.LoginAnswer{Token: sess.Token, ExpiresAt: sess.ExpiresAt.UTC()})
}

// APIMembers handles GET /api/v1/staff/users.
func (h *Handler) APIMembers(c *fiber.Ctx) error {
	items, err := h.s.Members(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": httpserver.List(items)})
}

type grantBody struct {
	Role        string    `json:"role"`
	FacilityID  uuid.UUID `json:"facility_id"`
	ProviderID  uuid.UUID `json:"provider_id"`
	DistrictKey string    `json:"district_key"`
}

type inviteBody struct {
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	grantBody
}

// APIInvite handles POST /api/v1/staff/invitations.
func (h *Handler) APIInvite(c *fiber.Ctx) error {
	var b inviteBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	in := Invitation{Email: b.Email, FirstName: b.FirstName, LastName: b.LastName, Grant: RoleGrant(b.grantBody)}
	if err := h.s.Invite(c.UserContext(), auth.CallerOf(c), in); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"status": "invited"})
}

// APIGrant handles POST /api/v1/staff/users/{id}/roles.
func (h *Handler) APIGrant(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b grantBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.Grant(c.UserContext(), auth.CallerOf(c), id, RoleGrant(b)); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"status": "granted"})
}

// APIRevoke handles DELETE /api/v1/staff/users/{id}/roles/{role}.
func (h *Handler) APIRevoke(c *fiber.Ctx) error {
	id, roleID, err := httpserver.PathIDs(c, "id", "role")
	if err != nil {
		return err
	}
	if err := h.s.Revoke(c.UserContext(), auth.CallerOf(c), id, roleID); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "revoked"})
}

// APIDisable handles POST /api/v1/staff/users/{id}/disable.
func (h *Handler) APIDisable(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.s.Disable(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "disabled"})
}
