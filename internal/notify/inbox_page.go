package notify

import (
	"context"
	"net/url"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/platform/view"
)

// The inbox pages of parents (/inbox) and staff (/staff/inbox): what the portal told
// them, newest first; opening the inbox marks it read. Each message shows in the page's
// language when it was worded in it, names the language it was sent (and mailed) in, and
// links to its other wordings (/inbox/{id}?lang=de).

// ErrMessageNotFound answers for a message the caller's inbox does not hold.
var ErrMessageNotFound = apperr.NotFound("not_found")

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

// Message returns message id of the caller's inbox and marks it read; a message of
// another account is ErrMessageNotFound.
func (s *Inboxes) Message(ctx context.Context, c auth.Caller, id uuid.UUID) (InboxMessage, error) {
	var out InboxMessage
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		m, found, err := InboxMessageOf(ctx, tx, c.Tenant.ID, c.Principal.ID, id)
		if err != nil {
			return err
		}
		if !found {
			return ErrMessageNotFound
		}
		out = m
		return MarkRead(ctx, tx, c.Tenant.ID, c.Principal.ID, id, s.clock.Now())
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

// inboxPath is where page ("inbox" or "staff_inbox") lives.
func inboxPath(page string) string {
	if page == "staff_inbox" {
		return "/staff/inbox"
	}
	return "/inbox"
}

// InboxPage shows the inbox; page is "inbox" or "staff_inbox".
func (h *InboxHandler) InboxPage(page string) fiber.Handler {
	base := inboxPath(page)
	return func(c *fiber.Ctx) error {
		msgs, err := h.s.Inbox(c.UserContext(), auth.CallerOf(c))
		if err != nil {
			return err
		}
		lang := pageLang(c)
		out := make([]EntryView, len(msgs))
		for i, m := range msgs {
			out[i] = h.entry(lang, base, m, lang)
		}
		return h.forms.Show(c, fiber.StatusOK, page, "inbox.title", nil, out)
	}
}

// MessagePage shows one message of the inbox of page ("inbox" or "staff_inbox") in the
// wording ?lang asks for (the page's language by default; the sent wording when there is
// none in it), with links to the others.
func (h *InboxHandler) MessagePage(page string) fiber.Handler {
	base := inboxPath(page)
	return func(c *fiber.Ctx) error {
		id, err := httpserver.PathID(c, "id")
		if err != nil {
			return err
		}
		m, err := h.s.Message(c.UserContext(), auth.CallerOf(c), id)
		if err != nil {
			return err
		}
		lang := pageLang(c)
		want := c.Query("lang")
		if want == "" {
			want = lang
		}
		e := h.entry(lang, base, m, want)
		e.Back = base
		p := h.forms.Views.NewPage(c, e.Shown.Subject, e)
		p.CSRF = h.forms.CSRF(c)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return h.forms.Views.RenderPage(c, fiber.StatusOK, "inbox_message", p)
	}
}

// APIInbox answers GET /api/v1/inbox (and /api/v1/staff/inbox): subject and body as
// sent, with every wording in versions.
func (h *InboxHandler) APIInbox(c *fiber.Ctx) error {
	msgs, err := h.s.Inbox(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": msgs})
}

// EntryView is a message as an inbox page shows it.
type EntryView struct {
	InboxMessage
	Shown Version // the wording shown
	// ShownLang is the language of the wording shown when it is not the page's (for the
	// lang attribute); "" when it is the page's or unknown.
	ShownLang string
	// SentNote names the language the message was sent in and whether it was mailed,
	// after "Translation" when the wording shown is another; "" for messages from before
	// languages were kept.
	SentNote string
	Others   []VersionLink // the other wordings
	Back     string        // the inbox (on a message's own page)
}

// VersionLink leads to one other wording of a message, labelled in its own language
// ("Auf Deutsch", "In English").
type VersionLink struct{ Lang, Label, URL string }

// entry prepares m for a page in lang, showing the wording in want when there is one.
func (h *InboxHandler) entry(lang, base string, m InboxMessage, want string) EntryView {
	cat := h.forms.Views.Catalogue()
	e := EntryView{InboxMessage: m, Shown: m.Sent()}
	if v, ok := m.In(want); ok {
		e.Shown = v
	} else if v, ok := m.In(lang); ok {
		e.Shown = v
	}
	if m.Lang == "" {
		return e // one wording, language unknown
	}
	if e.Shown.Lang != lang {
		e.ShownLang = e.Shown.Lang
	}
	key := "inbox.sent_in"
	if m.Mailed {
		key = "inbox.mailed_in"
	}
	e.SentNote = cat.T(lang, key, map[string]any{"language": cat.T(lang, "inbox.language."+m.Lang, nil)})
	if !e.Shown.Sent {
		e.SentNote = cat.T(lang, "inbox.translation", nil) + " · " + e.SentNote
	}
	for _, v := range m.Versions {
		if v.Lang == e.Shown.Lang {
			continue
		}
		e.Others = append(e.Others, VersionLink{Lang: v.Lang, Label: cat.T(v.Lang, "inbox.read_in", nil),
			URL: base + "/" + m.ID.String() + "?lang=" + url.QueryEscape(v.Lang)})
	}
	return e
}

func pageLang(c *fiber.Ctx) string {
	if l, _ := c.Locals(view.LocalLang).(string); l != "" {
		return l
	}
	return i18n.Default
}
