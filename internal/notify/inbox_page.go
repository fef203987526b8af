package notify

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/view"
)

// The inbox pages of parents (/inbox) and staff (/staff/inbox): what the portal told
// them, newest first; opening the inbox marks it read.

// Inbox returns the caller's messages and marks them read.
func (s *Inboxes) Inbox(ctx context.Context, c auth.Caller) ([]InboxMessage, error) {
	var out []InboxMessage
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if out, err = Inbox(ctx, tx, c.Tenant.ID, c.Principal.ID); err != nil {
			return err
		}
		return MarkAllRead(ctx, tx, c.Tenant.ID, c.Principal.ID, s.clock.Now())
	})
	return out, database.Classify(err)
}

// InboxHandler serves the inbox pages and GET /api/v1/inbox.
type InboxHandler struct {
	s     *Inboxes
	forms view.Forms
}

// NewInboxHandler returns the inbox handlers.
func NewInboxHandler(s *Inboxes, views *view.Renderer, authn *auth.Authenticator) *InboxHandler {
	return &InboxHandler{s: s, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// InboxPage shows the inbox; page is "inbox" or "staff_inbox".
func (h *InboxHandler) InboxPage(page string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		msgs, err := h.s.Inbox(c.UserContext(), auth.CallerOf(c))
		if err != nil {
			return err
		}
		return h.forms.Show(c, fiber.StatusOK, page, "inbox.title", nil, msgs)
	}
}

// APIInbox answers GET /api/v1/inbox.
func (h *InboxHandler) APIInbox(c *fiber.Ctx) error {
	msgs, err := h.s.Inbox(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": msgs})
}
