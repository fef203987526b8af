package application

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/database"
)

// The inbox pages of parents (/inbox) and staff (/staff/inbox): what the portal told
// them, newest first; opening the inbox marks it read.

// Inbox returns the caller's messages and marks them read.
func (s *Service) Inbox(ctx context.Context, c auth.Caller) ([]notify.InboxMessage, error) {
	var out []notify.InboxMessage
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if out, err = notify.Inbox(ctx, tx, c.Tenant.ID, c.Principal.ID); err != nil {
			return err
		}
		return notify.MarkAllRead(ctx, tx, c.Tenant.ID, c.Principal.ID, s.now())
	})
	return out, database.Classify(err)
}

// InboxPage shows the inbox; page is "inbox" or "staff_inbox".
func (h *Handler) InboxPage(page string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		msgs, err := h.s.Inbox(c.UserContext(), auth.CallerOf(c))
		if err != nil {
			return err
		}
		return h.forms.Show(c, fiber.StatusOK, page, "inbox.title", nil, msgs)
	}
}

// APIInbox answers GET /api/v1/inbox.
func (h *Handler) APIInbox(c *fiber.Ctx) error {
	msgs, err := h.s.Inbox(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": msgs})
}
