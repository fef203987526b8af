package notify

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/clock"
	"kitaportal/internal/tenant"
)

// The in-portal inbox: every mail about a request also lands in the account's inbox, so
// a lost or filtered mail loses nothing, and staff get their queue notices there. Rows
// are written in the transaction of the change they report, like the mails.
//
// A message keeps what was sent: its subject and body are the wording the recipient got
// (the mail's, when one went out) and lang names that language. The same notice worded
// in the city's other languages at the same moment is kept beside it
// (inbox_message_translation), so the inbox can show a German notice in English to a
// reader of the English portal while the record of what was sent stays as it was.
// Messages from before languages were kept have lang "" and one wording.

// InboxMessage is one message of an account's inbox. Subject and Body are the wording
// that was sent, in Lang.
type InboxMessage struct {
	ID        uuid.UUID  `bun:"id" json:"id"`
	Kind      string     `bun:"kind" json:"kind"`
	Subject   string     `bun:"subject" json:"subject"`
	Body      string     `bun:"body" json:"body"`
	Link      string     `bun:"link" json:"link,omitempty"`
	CreatedAt time.Time  `bun:"created_at" json:"created_at"`
	ReadAt    *time.Time `bun:"read_at" json:"read_at,omitempty"`
	// Lang is the language the message was sent in ("" for messages from before
	// languages were kept).
	Lang string `bun:"lang" json:"lang,omitempty"`
	// Mailed tells whether the same wording also went out by mail.
	Mailed bool `bun:"mailed" json:"mailed"`
	// Versions are the message's wordings, the sent one first, then the city's other
	// languages; empty for messages from before languages were kept.
	Versions []Version `bun:"-" json:"versions"`
}

// Version is one wording of an inbox message.
type Version struct {
	Lang    string `json:"lang"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Sent    bool   `json:"sent"` // the wording the recipient was sent (and mailed, when the message was)
}

// In returns the wording in lang and whether there is one. A message from before
// languages were kept has only its own wording, in no known language.
func (m InboxMessage) In(lang string) (Version, bool) {
	for _, v := range m.Versions {
		if v.Lang == lang {
			return v, true
		}
	}
	return Version{}, false
}

// Sent is the wording that was sent.
func (m InboxMessage) Sent() Version {
	return Version{Lang: m.Lang, Subject: m.Subject, Body: m.Body, Sent: true}
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

// Entry is one message to put in an inbox: the notice in every language it was worded
// in, and which of them the recipient was sent.
type Entry struct {
	Kind string // what it is about (the mail's kind)
	Link string // a path of the portal
	// Lang is the language the recipient was addressed in; Versions must hold it.
	Lang string
	// Mailed tells whether the notice in Lang also went out by mail.
	Mailed bool
	// Versions are the notice by language (Wordings); the one in Lang is what was sent.
	Versions map[string]Notice
}

// LanguageFor is the language tn addresses someone in who asked for lang: theirs when
// the city offers it, German otherwise.
func LanguageFor(tn *tenant.Tenant, lang string) string {
	if lang == "" || !tn.Rules.SupportsLanguage(lang) {
		return "de"
	}
	return lang
}

// Wordings words a notice in every language tn offers (German at least).
func Wordings(tn *tenant.Tenant, word func(lang string) Notice) map[string]Notice {
	out := map[string]Notice{}
	for _, l := range tn.Rules.Languages {
		out[l] = word(l)
	}
	if _, ok := out["de"]; !ok {
		out["de"] = word("de")
	}
	return out
}

// Deliver puts a notice in the inbox of account accountID in one wording whose language
// it does not record. New code uses DeliverEntry, which keeps the other languages too.
func Deliver(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, kind, link string, n Notice) error {
	return DeliverEntry(ctx, tx, tenantID, accountID, Entry{Kind: kind, Link: link, Versions: map[string]Notice{"": n}})
}

// DeliverEntry puts e in the inbox of account accountID: per language the subject and,
// as plain text, the paragraphs and the facts; the link as a path of the portal.
func DeliverEntry(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, e Entry) error {
	sent, ok := e.Versions[e.Lang]
	if !ok {
		return fmt.Errorf("inbox: %s: no wording in the language sent (%q)", e.Kind, e.Lang)
	}
	id := uuid.Must(uuid.NewV7())
	subject, body := wording(sent)
	_, err := tx.ExecContext(ctx, `INSERT INTO inbox_message (tenant_id, id, account_id, kind, subject, body, link, lang, mailed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, id, accountID, e.Kind, subject, body, e.Link, e.Lang, e.Mailed)
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	for _, lang := range slices.Sorted(maps.Keys(e.Versions)) {
		if lang == e.Lang || lang == "" {
			continue
		}
		subject, body := wording(e.Versions[lang])
		if _, err := tx.ExecContext(ctx, `INSERT INTO inbox_message_translation (tenant_id, message_id, lang, subject, body)
			VALUES (?, ?, ?, ?, ?)`, tenantID, id, lang, subject, body); err != nil {
			return fmt.Errorf("inbox: %s wording: %w", lang, err)
		}
	}
	return nil
}

// wording is a notice as the inbox keeps it: the subject, and the paragraphs and facts
// as plain text.
func wording(n Notice) (subject, body string) {
	var b strings.Builder
	for _, l := range n.Lines {
		b.WriteString(l)
		b.WriteString("\n\n")
	}
	for _, f := range n.Facts {
		b.WriteString(f.Label + ": " + f.Value + "\n")
	}
	return truncate(n.Subject, 300), truncate(strings.TrimSpace(b.String()), 10000)
}

const inboxColumns = `id, kind, subject, body, link, created_at, read_at, lang, mailed`

// Inbox lists the newest messages of an account, each with its wordings.
func Inbox(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID) ([]InboxMessage, error) {
	out := []InboxMessage{}
	err := tx.NewRaw(`SELECT `+inboxColumns+` FROM inbox_message
		WHERE tenant_id = ? AND account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, tenantID, accountID, InboxLimit).Scan(ctx, &out)
	if err != nil {
		return nil, err
	}
	return out, withVersions(ctx, tx, tenantID, out)
}

// InboxMessageOf is message id of the account's inbox; found is false when the account
// has none by that id (another account's message is not found either).
func InboxMessageOf(ctx context.Context, tx bun.IDB, tenantID, accountID, id uuid.UUID) (m InboxMessage, found bool, err error) {
	var out []InboxMessage
	err = tx.NewRaw(`SELECT `+inboxColumns+` FROM inbox_message WHERE tenant_id = ? AND account_id = ? AND id = ?`,
		tenantID, accountID, id).Scan(ctx, &out)
	if err != nil || len(out) == 0 {
		return InboxMessage{}, false, err
	}
	return out[0], true, withVersions(ctx, tx, tenantID, out)
}

// withVersions fills each message's wordings: the one sent, then the translations by
// language. Messages without a language keep none.
func withVersions(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ms []InboxMessage) error {
	var ids []uuid.UUID
	at := map[uuid.UUID]int{}
	for i := range ms {
		ms[i].Versions = []Version{}
		if ms[i].Lang == "" {
			continue
		}
		ms[i].Versions = append(ms[i].Versions, ms[i].Sent())
		ids = append(ids, ms[i].ID)
		at[ms[i].ID] = i
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		MessageID uuid.UUID `bun:"message_id"`
		Lang      string    `bun:"lang"`
		Subject   string    `bun:"subject"`
		Body      string    `bun:"body"`
	}
	if err := tx.NewRaw(`SELECT message_id, lang, subject, body FROM inbox_message_translation
		WHERE tenant_id = ? AND message_id IN (?) ORDER BY message_id, lang`, tenantID, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("inbox wordings: %w", err)
	}
	for _, r := range rows {
		m := &ms[at[r.MessageID]]
		m.Versions = append(m.Versions, Version{Lang: r.Lang, Subject: r.Subject, Body: r.Body})
	}
	return nil
}

// MarkAllRead marks every message of the account read (opening the inbox reads them).
func MarkAllRead(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE inbox_message SET read_at = ? WHERE tenant_id = ? AND account_id = ? AND read_at IS NULL`,
		at, tenantID, accountID)
	return err
}

// MarkRead marks message id of the account read.
func MarkRead(ctx context.Context, tx bun.IDB, tenantID, accountID, id uuid.UUID, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE inbox_message SET read_at = ? WHERE tenant_id = ? AND account_id = ? AND id = ? AND read_at IS NULL`,
		at, tenantID, accountID, id)
	return err
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
