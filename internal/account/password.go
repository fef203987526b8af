package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/tenant"
)

// TaskResetRequest looks up the account of a reset request and mails the link. The
// request itself only records this job, so a known and an unknown address cost the
// request exactly the same work: its timing tells nothing.
const TaskResetRequest = "account:reset-request"

type resetJob struct {
	TenantID  uuid.UUID `json:"tenant_id"`
	Kind      string    `json:"kind"`
	Email     string    `json:"email"`
	Lang      string    `json:"lang"`
	IP        string    `json:"ip,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
}

// RequestReset asks for a password-reset link for an account of kind. The answer is the
// same whether or not the address has an account.
func (s *Service) RequestReset(ctx context.Context, c auth.Caller, kind, email string) error {
	email, err := auth.Email("email", email)
	if err != nil {
		return err
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitResetAddr, c.AddrKey()); err != nil {
		return err
	}
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitResetEmail, kind+":"+auth.EmailKey(email)); err != nil {
		return err
	}
	job := resetJob{TenantID: c.Tenant.ID, Kind: kind, Email: email, Lang: c.Lang, RequestID: c.RequestID}
	if c.IP.IsValid() {
		job.IP = c.IP.String()
	}
	return database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return outbox.Add(ctx, tx, outbox.Message{Type: TaskResetRequest, Payload: job, TenantID: &c.Tenant.ID, Queue: "mail", MaxRetry: 5})
	})
}

// ResetJobs runs TaskResetRequest; it needs the tenants to brand the mail.
type ResetJobs struct {
	s        *Service
	registry *tenant.Registry
}

// NewResetJobs returns the job handler.
func NewResetJobs(s *Service, registry *tenant.Registry) *ResetJobs {
	return &ResetJobs{s: s, registry: registry}
}

// Handle issues a reset token and mails it when the address has an active account.
func (j *ResetJobs) Handle(ctx context.Context, task *asynq.Task) error {
	var job resetJob
	if err := json.Unmarshal(task.Payload(), &job); err != nil {
		return fmt.Errorf("reset job: %v: %w", err, asynq.SkipRetry)
	}
	t, err := j.registry.Lookup(ctx, job.TenantID)
	if errors.Is(err, tenant.ErrUnknownTenant) {
		return fmt.Errorf("reset job: unknown tenant: %w", asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	return j.s.issueReset(ctx, t, job)
}

func (s *Service) issueReset(ctx context.Context, t *tenant.Tenant, job resetJob) error {
	now := s.clock.Now()
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := ByEmail(ctx, tx, t.ID, job.Kind, job.Email, true)
		if err != nil || a == nil || a.Status != StatusActive {
			return err
		}
		token, err := IssueToken(ctx, tx, t.ID, a.ID, PurposeReset, nil, now.Add(ResetTTL))
		if err != nil {
			return err
		}
		path := "/password/reset?token="
		if a.Kind == KindStaff {
			path = "/staff/password/reset?token="
		}
		return s.mails.Queue(ctx, tx, t.ID, notify.Mail{Kind: "password_reset", Lang: a.Language, To: a.Email, Brand: s.links.Brand(t),
			Data: notify.MailData{Name: a.Name(), URL: s.links.URL(t, path+token), Hours: int(ResetTTL.Hours())}})
	})
}

// ResetPassword sets a new password with the token of a reset link. Every session and
// token of the account ends; the account holder gets a note by mail.
func (s *Service) ResetPassword(ctx context.Context, c auth.Caller, kind, token, password string) error {
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitTokenAddr, c.AddrKey()); err != nil {
		return err
	}
	t := c.Tenant
	var a *Account
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		tok, err := PeekToken(ctx, tx, t.ID, PurposeReset, token, s.clock.Now(), false)
		if err != nil {
			return err
		}
		a, err = ByID(ctx, tx, t.ID, tok.AccountID, false)
		return err
	})
	if err != nil {
		return err
	}
	if a.Kind != kind || a.Status != StatusActive {
		return ErrTokenInvalid
	}
	if err := auth.CheckPassword("password", password, a.Email, a.FirstName, a.LastName); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		tok, err := UseToken(ctx, tx, t.ID, PurposeReset, token, now)
		if err != nil || tok.AccountID != a.ID {
			return ErrTokenInvalid
		}
		return s.setPassword(ctx, tx, ActorOf(c, a), t, a, hash, uuid.Nil, audit.ActionPasswordReset)
	})
}

// setPassword stores a new password hash, ends every session of the account but keep,
// records action and tells the account holder by mail, all in tx.
func (s *Service) setPassword(ctx context.Context, tx bun.IDB, actor audit.Actor, t *tenant.Tenant, a *Account, hash string, keep uuid.UUID, action string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE account SET password_hash = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		hash, s.clock.Now(), t.ID, a.ID); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := s.sessions.EndAll(ctx, tx, t.ID, a.ID, keep); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, t.ID, actor, audit.Event{Action: action, ObjectKind: "account", ObjectID: a.ID.String()}); err != nil {
		return err
	}
	return s.passwordChangedMail(ctx, tx, t, a)
}

func (s *Service) passwordChangedMail(ctx context.Context, tx bun.IDB, t *tenant.Tenant, a *Account) error {
	path := "/password/forgot"
	if a.Kind == KindStaff {
		path = "/staff/password/forgot"
	}
	return s.mails.Queue(ctx, tx, t.ID, notify.Mail{Kind: "password_changed", Lang: a.Language, To: a.Email, Brand: s.links.Brand(t),
		Data: notify.MailData{Name: a.Name(), URL: s.links.URL(t, path)}})
}

// ChangePassword replaces the signed-in account's password after checking the current
// one. Other sessions and tokens of the account end; this one stays.
func (s *Service) ChangePassword(ctx context.Context, c auth.Caller, current, next string) error {
	p := c.Principal
	t := c.Tenant
	if err := s.limiter.Allow(ctx, c.Scope(), auth.LimitPasswordChange, p.ID.String()); err != nil {
		return err
	}
	a, err := s.current(ctx, c)
	if err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, current, a.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Invalid("current_password", "password_wrong", nil)
	}
	if err := auth.CheckPassword("password", next, a.Email, a.FirstName, a.LastName); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		return s.setPassword(ctx, tx, audit.By(c), t, a, hash, p.SessionID, audit.ActionPasswordChanged)
	})
}

// current reads the signed-in caller's account.
func (s *Service) current(ctx context.Context, c auth.Caller) (*Account, error) {
	p := c.Principal
	if p == nil || (p.Kind != auth.KindParent && p.Kind != auth.KindStaff) {
		return nil, apperr.Forbidden("forbidden")
	}
	var a *Account
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		a, err = ByID(ctx, tx, c.Tenant.ID, p.ID, false)
		return err
	})
	return a, err
}
