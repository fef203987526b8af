package application

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
)

// The staff API of requests (bearer tokens of staff with their second factor; same
// services and scopes as the pages).

// APIRequests answers GET /api/v1/staff/requests.
func (h *Handler) APIRequests(c *fiber.Ctx) error {
	f, err := ParseFilter(func(k string) string { return c.Query(k) })
	if err != nil {
		return err
	}
	rows, err := h.s.Requests(c.UserContext(), auth.CallerOf(c), f)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": rows, "total": len(rows)})
}

// APIRequest answers GET /api/v1/staff/requests/{id}.
func (h *Handler) APIRequest(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v, err := h.s.Request(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}

// APIDecide answers POST /api/v1/staff/requests/{id}/decisions {rank, action, note}.
func (h *Handler) APIDecide(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Rank   int    `json:"rank"`
		Action string `json:"action"`
		Note   string `json:"note"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	v, err := h.s.Decide(c.UserContext(), auth.CallerOf(c), id, b.Rank, b.Action, b.Note)
	if err != nil {
		return err
	}
	return c.JSON(v)
}
