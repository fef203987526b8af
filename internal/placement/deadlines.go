package placement

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/availability"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/tenant"
)

// The deadlines of the flow: a prepared offer goes out on its release day, reminders go
// out reminder_days before the deadline, an unanswered offer expires at it, a cascade
// facility's turn ends after its days. Each is a job through the outbox (recorded with
// the change that causes it, so it survives Redis being down then and a worker restart),
// unique per offer, kind and moment; and a sweep every minute does whatever is due, so
// a job lost or early changes nothing. Every step checks under the row locks that it is
// still due: running one twice, or together with the family's answer, does it once.

// Task types.
const (
	TaskRelease = "offer:release"
	TaskRemind  = "offer:remind"
	TaskExpire  = "offer:expire"
	TaskSweep   = "offer:sweep"
	// SweepSpec is the sweep's schedule.
	SweepSpec = "@every 1m"
)

// duePayload names the offer a deadline job is about.
type duePayload struct {
	TenantID uuid.UUID `json:"tenant_id"`
	OfferID  uuid.UUID `json:"offer_id"`
	Days     int       `json:"days,omitempty"`
}

// jobNamespace makes the ids of deadline jobs: one per offer, kind and moment.
var jobNamespace = uuid.MustParse("6f7c0c2e-8a55-4d8e-9a43-2f1f3c0b5d11")

// schedule records the deadline job kind for offer id at moment at.
func schedule(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, kind string, days int, at time.Time) error {
	key := id.String() + "|" + kind + "|" + strconv.Itoa(days) + "|" + at.UTC().Format(time.RFC3339)
	return outbox.Add(ctx, tx, outbox.Message{Type: kind, TenantID: &tenantID, Payload: duePayload{TenantID: tenantID, OfferID: id, Days: days},
		ProcessAt: at, TaskID: uuid.NewSHA1(jobNamespace, []byte(key))})
}

// scheduleDeadline records the expiry and reminder jobs of an offer that went out.
func scheduleDeadline(ctx context.Context, tx bun.IDB, t *tenant.Tenant, o *offer.Offer) error {
	if o.ExpiresAt == nil {
		return nil
	}
	for _, d := range t.Rules.Offers.ReminderDays {
		at := o.ExpiresAt.AddDate(0, 0, -d)
		if err := schedule(ctx, tx, t.ID, o.ID, TaskRemind, d, at); err != nil {
			return err
		}
	}
	return schedule(ctx, tx, t.ID, o.ID, TaskExpire, 0, *o.ExpiresAt)
}

// Release sends a prepared offer out when its release day came.
func (s *Service) Release(ctx context.Context, t *tenant.Tenant, id uuid.UUID) error {
	now := s.clock.Now()
	return s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		o, p, err := s.lockByID(ctx, tx, t, id)
		if err != nil || o.Status != offer.StatusPrepared || o.OpensAt == nil || now.Before(*o.OpensAt) {
			return err
		}
		return s.open(ctx, tx, t, o, p, now)
	})
}

// open sends a confirmed or released offer out: open, with its deadline from now.
func (s *Service) open(ctx context.Context, tx bun.Tx, t *tenant.Tenant, o *offer.Offer, p *application.Placing, now time.Time) error {
	if _, _, err := offer.Transition(ctx, tx, t.ID, o.ID, offer.EventRelease, offer.Actor{Kind: "system"}, "", now); err != nil {
		return err
	}
	deadline := Deadline(t, now)
	if err := offer.SetDeadline(ctx, tx, t.ID, o.ID, deadline); err != nil {
		return err
	}
	o.Status, o.ExpiresAt = offer.StatusOpen, &deadline
	if err := application.OfferOpened(ctx, tx, t.ID, p, application.Actor{Kind: "system"}, p.FacilityName+": open", now); err != nil {
		return err
	}
	return s.wentOut(ctx, tx, t, o, p, now)
}

// Remind sends the reminders of an open offer that are due, each once.
func (s *Service) Remind(ctx context.Context, t *tenant.Tenant, id uuid.UUID) error {
	now := s.clock.Now()
	return s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		o, p, err := s.lockByID(ctx, tx, t, id)
		if err != nil || o.Status != offer.StatusOpen || o.ExpiresAt == nil || !now.Before(*o.ExpiresAt) {
			return err
		}
		// The reminder nearest the deadline that is due says it all; the earlier ones are
		// marked sent with it.
		days := slices.Clone(t.Rules.Offers.ReminderDays)
		slices.Sort(days)
		send := false
		for _, d := range days {
			if now.Before(o.ExpiresAt.AddDate(0, 0, -d)) {
				continue
			}
			first, err := offer.MarkReminded(ctx, tx, t.ID, o.ID, d)
			if err != nil {
				return err
			}
			send = send || (first && !slices.Contains(o.RemindedDays, d))
			o.RemindedDays = append(o.RemindedDays, d)
		}
		if !send {
			return nil
		}
		return s.tell(ctx, tx, t, p, o, NoticeReminder, "")
	})
}

// ExpireDue expires every offer of t whose deadline passed, up to limit, in one
// transaction with one refresh of the facilities' availability; it answers how many
// expired.
func (s *Service) ExpireDue(ctx context.Context, t *tenant.Tenant, ids []uuid.UUID) (int, error) {
	now := s.clock.Now()
	n := 0
	err := s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		n = 0
		var facilities []uuid.UUID
		for _, id := range ids {
			o, p, err := s.lockByID(ctx, tx, t, id)
			if err == offer.ErrNotFound || err == application.ErrNotFound {
				continue
			}
			if err != nil {
				return err
			}
			if _, ok := offer.Next(o.Status, offer.EventExpire); !ok || o.ExpiresAt == nil || now.Before(*o.ExpiresAt) {
				continue
			}
			if err := s.finish(ctx, tx, t, o, p, offer.EventExpire, application.EventLapse, offer.Actor{Kind: "system"}, "", now); err != nil {
				return err
			}
			facilities = append(facilities, o.FacilityID)
			n++
		}
		return availability.Refresh(ctx, tx, t, date.In(now), facilities...)
	})
	return n, err
}

// lockByID locks offer id and its request.
func (s *Service) lockByID(ctx context.Context, tx bun.Tx, t *tenant.Tenant, id uuid.UUID) (*offer.Offer, *application.Placing, error) {
	o, err := offer.Get(ctx, tx, t.ID, id, false)
	if err != nil {
		return nil, nil, err
	}
	return lockOffer(ctx, tx, t, o)
}

// PassDue ends the cascade turns of t that ran out, forwarding each request.
func (s *Service) PassDue(ctx context.Context, t *tenant.Tenant, limit int) (int, error) {
	now := s.clock.Now()
	var turns []application.Turn
	if err := s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		turns, err = application.TurnsDue(ctx, tx, t.ID, now, limit)
		return err
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, turn := range turns {
		err := s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
			p, err := application.LoadPlacing(ctx, tx, t, turn.ApplicationID, turn.Rank)
			if err != nil {
				return err
			}
			if p.TurnUntil == nil || now.Before(*p.TurnUntil) {
				return nil // answered meanwhile
			}
			if _, ok := application.NextChoice(p.Choice, application.EventPass); !ok {
				return nil
			}
			next, err := application.Pass(ctx, tx, t, p, application.Actor{Kind: "system"}, "days ran out", now)
			if err != nil {
				return err
			}
			n++
			return s.tellForwarded(ctx, tx, t, p, next)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// SweepTenant does what is due in t at the current moment: releases, reminders,
// expiries (in batches of batch), cascade turns. It answers how many offers expired.
func (s *Service) SweepTenant(ctx context.Context, t *tenant.Tenant, batch int) (expired int, err error) {
	for {
		var due offer.Due
		if err := s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
			due, err = offer.DueAt(ctx, tx, t.ID, s.clock.Now(), t.Rules.Offers.ReminderDays, batch)
			return err
		}); err != nil {
			return expired, err
		}
		for _, id := range due.Releasing {
			if err := s.Release(ctx, t, id); err != nil {
				return expired, err
			}
		}
		for _, id := range due.Reminding {
			if err := s.Remind(ctx, t, id); err != nil {
				return expired, err
			}
		}
		n, err := s.ExpireDue(ctx, t, due.Expiring)
		expired += n
		if err != nil {
			return expired, err
		}
		// Releasing may make more due; a full batch may have more behind it.
		if len(due.Expiring) < batch && len(due.Releasing) < batch && len(due.Reminding) < batch {
			break
		}
		if n == 0 && len(due.Releasing) == 0 && len(due.Reminding) == 0 {
			break
		}
	}
	if _, err := s.PassDue(ctx, t, batch); err != nil {
		return expired, err
	}
	return expired, nil
}

// Jobs are the worker's handlers of the deadline jobs.
type Jobs struct {
	svc     *Service
	tenants *tenant.Registry
	log     *slog.Logger
}

// NewJobs returns the handlers.
func NewJobs(s *Service, tenants *tenant.Registry, log *slog.Logger) *Jobs {
	return &Jobs{svc: s, tenants: tenants, log: log}
}

// HandleDue runs one deadline job (release, remind, expire) of one offer.
func (j *Jobs) HandleDue(ctx context.Context, task *asynq.Task) error {
	var p duePayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil {
		return fmt.Errorf("%s: %w: %w", task.Type(), err, asynq.SkipRetry)
	}
	t, err := j.tenants.Lookup(ctx, p.TenantID)
	if err != nil {
		return err
	}
	switch task.Type() {
	case TaskRelease:
		return j.svc.Release(ctx, t, p.OfferID)
	case TaskRemind:
		return j.svc.Remind(ctx, t, p.OfferID)
	case TaskExpire:
		_, err := j.svc.ExpireDue(ctx, t, []uuid.UUID{p.OfferID})
		return err
	}
	return fmt.Errorf("%s: unknown: %w", task.Type(), asynq.SkipRetry)
}

// HandleSweep does what is due in every city (with the rules as they are now).
func (j *Jobs) HandleSweep(ctx context.Context, _ *asynq.Task) error {
	if err := j.tenants.Reload(ctx); err != nil {
		return err
	}
	for _, t := range j.tenants.All() {
		if _, err := j.svc.SweepTenant(ctx, t, 200); err != nil {
			j.log.Error("offer sweep", "tenant", t.Slug, "err", err)
		}
	}
	return nil
}
