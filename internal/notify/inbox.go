package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/clock"
)

// The in-portal inbox: every mail about a request also lands in the account's inbox, so
// a lost or filtered mail loses nothing, and staff get their queue notices there. Rows
// are written in the transaction of the change they report, like the mails.

// InboxMessage is one message of an account's inbox.
type InboxMessage struct {
	ID        uuid.UUID  `bun:"id" json:"id"`
	Kind      string     `bun:"kind" json:"kind"`
	Subject   string     `bun:"subject" json:"subject"`
	Body      string     `bun:"body" json:"body"`
	Link      string     `bun:"link" json:"link,omitempty"`
	CreatedAt time.Time  `bun:"created_at" json:"created_at"`
	ReadAt    *time.Time `bun:"read_at" json:"read_at,omitempty"`
}

// Inboxes reads the callers' inboxes for the pages and the API.
type Inboxes struct {
	db    bun.IDB
	clock clock.Clock
}

// NewInboxes returns the inbox service.
func NewInboxes(db bun.IDB, clk clock.Clock) *Inboxes { return &Inboxes{db: db, clock: clk} }

// InboxLimit is how many messages an inbox page shows.
const InboxLimit = 100

// Deliver puts a notice in the inbox of account accountID: the subject, the paragraphs
// and the facts as plain text, and the link as a path of the portal.
func Deliver(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, kind, link string, n Notice) error {
	var body strings.Builder
	for _, l := range n.Lines {
		body.WriteString(l)
		body.WriteString("\n\n")
	}
	for _, f := range n.Facts {
		body.WriteString(f.Label + ": " + f.Value + "\n")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO inbox_message (tenant_id, id, account_id, kind, subject, body, link)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, uuid.Must(uuid.NewV7()), accountID, kind,
		truncate(n.Subject, 300), truncate(strings.TrimSpace(body.String()), 10000), link)
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	return nil
}

// Inbox lists the newest messages of an account.
func Inbox(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID) ([]InboxMessage, error) {
	out := []InboxMessage{}
	err := tx.NewRaw(`SELECT id, kind, subject, body, link, created_at, read_at FROM inbox_message
		WHERE tenant_id = ? AND account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, tenantID, accountID, InboxLimit).Scan(ctx, &out)
	return out, err
}

// MarkAllRead marks every message of the account read (opening the inbox reads them).
func MarkAllRead(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE inbox_message SET read_at = ? WHERE tenant_id = ? AND account_id = ? AND read_at IS NULL`,
		at, tenantID, accountID)
	return err
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
