// Package notify is what the portal tells people: the mails (templates, links and
// branding) and the in-portal inbox with its pages. Mails leave through the outbox, so a
// mail exists exactly when the change that caused it was committed, and a retried job
// never sends it twice.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/outbox"
)

// TaskSendMail delivers one rendered mail.
const TaskSendMail = "mail:send"

// MailJob is the payload of TaskSendMail.
type MailJob struct {
	TenantID *uuid.UUID   `json:"tenant_id,omitempty"`
	Kind     string       `json:"kind"` // what the mail is about, e.g. "account_verification"
	Message  mail.Message `json:"message"`
}

// QueueMail records a mail in the caller's transaction; it is sent after commit. The
// message gets an id here, which makes delivery idempotent.
func QueueMail(ctx context.Context, tx bun.IDB, tenantID *uuid.UUID, kind string, m mail.Message) error {
	if m.ID == "" {
		m.ID = uuid.Must(uuid.NewV7()).String() + "@kitaportal"
	}
	return outbox.Add(ctx, tx, outbox.Message{
		Type:     TaskSendMail,
		Payload:  MailJob{TenantID: tenantID, Kind: kind, Message: m},
		TenantID: tenantID,
		Queue:    "mail",
		MaxRetry: 12, // about a day with asynq's exponential backoff
	})
}

// Mailer runs TaskSendMail.
type Mailer struct {
	db     bun.IDB
	sender mail.Sender
	log    *slog.Logger
}

// NewMailer returns the handler for mail jobs.
func NewMailer(db bun.IDB, sender mail.Sender, log *slog.Logger) *Mailer {
	return &Mailer{db: db, sender: sender, log: log}
}

// HandleSendMail sends the mail unless it was sent before. A temporary SMTP failure is
// returned so asynq retries; a permanent one (5xx, bad address) is logged and dropped.
func (m *Mailer) HandleSendMail(ctx context.Context, t *asynq.Task) error {
	var job MailJob
	if err := json.Unmarshal(t.Payload(), &job); err != nil || job.Message.ID == "" {
		return fmt.Errorf("mail job without message id: %v: %w", err, asynq.SkipRetry)
	}
	var sent bool
	if err := m.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM mail_delivery WHERE message_id = ?)`, job.Message.ID).Scan(&sent); err != nil {
		return fmt.Errorf("check delivery: %w", err)
	}
	if sent {
		return nil
	}
	if err := m.sender.Send(ctx, job.Message); err != nil {
		// Only a summary: the server's reply may quote the address, which is personal data.
		reason := mail.Describe(err)
		if mail.IsPermanent(err) {
			m.log.Error("mail refused permanently", "kind", job.Kind, "message_id", job.Message.ID, "reason", reason)
			return fmt.Errorf("send mail %s: %s: %w", job.Message.ID, reason, asynq.SkipRetry)
		}
		return fmt.Errorf("send mail %s: %s", job.Message.ID, reason)
	}
	if _, err := m.db.ExecContext(ctx, `INSERT INTO mail_delivery (message_id, tenant_id, kind) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		job.Message.ID, job.TenantID, job.Kind); err != nil {
		// The mail is out; failing here would send it again on retry.
		m.log.Error("mail sent but not recorded", "message_id", job.Message.ID, "err", err)
	}
	return nil
}
