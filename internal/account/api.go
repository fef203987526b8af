package account

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
)

// The JSON API of accounts (API.md): POST /api/v1/auth/register|verify|login|logout,
// GET /api/v1/me, and the rest of the account flows. The API signs in with bearer tokens
// only; it never reads the session cookie, so it needs no CSRF token.

type registerBody struct {
	Email     string `json:"email"`
	Password  string `json:"password"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Language  string `json:"language"`
}

// APIRegister handles POST /api/v1/auth/register: 201 and a mail, whatever the address.
func (h *Handler) APIRegister(c *fiber.Ctx) error {
	var b registerBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	call := auth.CallerOf(c)
	if b.Language == "" {
		b.Language = call.Lang
	}
	if err := h.s.Register(c.UserContext(), call, Registration(b)); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"status": "verification_sent",
		"message": h.views.Catalogue().T(call.Lang, "account.register.sent.text", nil)})
}

type tokenBody struct {
	Token string `json:"token"`
}

// APIVerify handles POST /api/v1/auth/verify.
func (h *Handler) APIVerify(c *fiber.Ctx) error {
	var b tokenBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.Verify(c.UserContext(), auth.CallerOf(c), b.Token); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "verified"})
}

type loginBody struct {
	Email      string      `json:"email"`
	Password   string      `json:"password"`
	Favourites []uuid.UUID `json:"favourites,omitempty"`
}

// LoginAnswer is the answer of a sign-in through the API.
type LoginAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// APILogin handles POST /api/v1/auth/login: a bearer token.
func (h *Handler) APILogin(c *fiber.Ctx) error {
	var b loginBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	sess, err := h.s.Login(c.UserContext(), auth.CallerOf(c), Login{Email: b.Email, Password: b.Password, API: true, Favourites: b.Favourites})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(LoginAnswer{Token: sess.Token, ExpiresAt: sess.ExpiresAt.UTC()})
}

// APILogout handles POST /api/v1/auth/logout: the token is revoked.
func (h *Handler) APILogout(c *fiber.Ctx) error {
	if err := h.s.Logout(c.UserContext(), auth.CallerOf(c)); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "logged_out"})
}

// MeAnswer is GET /api/v1/me.
type MeAnswer struct {
	ID        uuid.UUID `json:"id"`
	Kind      string    `json:"kind"`
	Email     string    `json:"email"`
	FirstName string    `json:"first_name"`
	LastName  string    `json:"last_name"`
	Language  string    `json:"language"`
	ExpiresAt time.Time `json:"session_expires_at"`
}

// APIMe handles GET /api/v1/me: who the token belongs to.
func (h *Handler) APIMe(c *fiber.Ctx) error {
	p := auth.PrincipalOf(c)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(MeAnswer{ID: p.ID, Kind: string(p.Kind), Email: p.Email, FirstName: p.FirstName, LastName: p.LastName,
		Language: p.Language, ExpiresAt: p.ExpiresAt.UTC()})
}

type profileBody struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Language  string `json:"language"`
}

// APIUpdateMe handles PATCH /api/v1/me (omitted fields stay as they are).
func (h *Handler) APIUpdateMe(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	a, err := h.s.Me(c.UserContext(), call)
	if err != nil {
		return err
	}
	b := profileBody{FirstName: a.FirstName, LastName: a.LastName, Language: a.Language}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	a, err = h.s.UpdateProfile(c.UserContext(), call, Profile(b))
	if err != nil {
		return err
	}
	return c.JSON(MeAnswer{ID: a.ID, Kind: a.Kind, Email: a.Email, FirstName: a.FirstName, LastName: a.LastName,
		Language: a.Language, ExpiresAt: call.Principal.ExpiresAt.UTC()})
}

type passwordBody struct {
	CurrentPassword string `json:"current_password"`
	Password        string `json:"password"`
	Email           string `json:"email"`
	Token           string `json:"token"`
}

// APIChangePassword handles POST /api/v1/me/password.
func (h *Handler) APIChangePassword(c *fiber.Ctx) error {
	var b passwordBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.ChangePassword(c.UserContext(), auth.CallerOf(c), b.CurrentPassword, b.Password); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "password_changed"})
}

// APIChangeEmail handles POST /api/v1/me/email: a link goes to the new address.
func (h *Handler) APIChangeEmail(c *fiber.Ctx) error {
	var b passwordBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.RequestEmailChange(c.UserContext(), auth.CallerOf(c), b.CurrentPassword, b.Email); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "confirmation_sent"})
}

// APIConfirmEmail handles POST /api/v1/auth/email/confirm.
func (h *Handler) APIConfirmEmail(c *fiber.Ctx) error {
	var b tokenBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.ConfirmEmailChange(c.UserContext(), auth.CallerOf(c), b.Token); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "email_changed"})
}

// APIForgot handles POST /api/v1/auth/password/forgot: 202, whatever the address.
func (h *Handler) APIForgot(c *fiber.Ctx) error {
	var b passwordBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	call := auth.CallerOf(c)
	if err := h.s.RequestReset(c.UserContext(), call, KindParent, b.Email); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "reset_requested",
		"message": h.views.Catalogue().T(call.Lang, "account.forgot.sent.text", nil)})
}

// APIReset handles POST /api/v1/auth/password/reset.
func (h *Handler) APIReset(c *fiber.Ctx) error {
	var b passwordBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.ResetPassword(c.UserContext(), auth.CallerOf(c), KindParent, b.Token, b.Password); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "password_reset"})
}
