// Package retention deletes personal data that has outlived its purpose, per city and
// per the city's periods (tenants/*.yaml, retention:): requests that never got a place,
// some months after their desired start passed; inbox messages, sent mails and their
// receipts; ended sessions. It owns no personal data itself: every row is deleted by the
// package that owns its table (internal/tableowner), in the job's transaction.
//
// A city's job only reports until its tenant admin has looked at the dry run on
// /staff/retention and confirmed it (retention_state.enabled_at): before that the daily
// run counts what it would delete and writes that to the audit log as a dry run. Every
// run, dry or real, writes one audit entry with counts only, never whose data it was.
package retention

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/notify"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/tenant"
)

// Audit actions of the job.
const (
	ActionRun     = "retention.run"     // rows deleted, with the counts per category
	ActionDryRun  = "retention.dry_run" // the job is not enabled yet: what it would have deleted
	ActionEnabled = "retention.enabled" // the tenant admin confirmed the dry run
)

// Categories, in the order pages list them. The names are stable: the audit entries and
// the API use them.
const (
	Requests  = "unplaced_requests"
	Offers    = "ended_offers" // the declined, expired or withdrawn offers of those requests
	Inbox     = "inbox_messages"
	Receipts  = "mail_receipts"
	OutboxRow = "sent_outbox_rows"
	Sessions  = "ended_sessions"
)

// Categories are all categories in display order.
var Categories = []string{Requests, Offers, Inbox, Receipts, OutboxRow, Sessions}

// batch is how many requests one transaction deletes: short transactions, short locks.
const batch = 500

// ErrNotEnabled: a real run was asked for a city whose admin has not confirmed the dry run.
var ErrNotEnabled = errors.New("retention: not enabled for this city")

// Counts are rows per category.
type Counts map[string]int

// Total is the sum over all categories.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Line is one category of a report, for pages.
type Line struct {
	Category string
	Count    int
}

// Lines lists the counts in display order.
func (c Counts) Lines() []Line {
	out := make([]Line, 0, len(Categories))
	for _, k := range Categories {
		out = append(out, Line{k, c[k]})
	}
	return out
}

// Cutoffs are the moments before which each category is due, from a city's periods at
// one instant; a zero cutoff means the category is not swept.
type Cutoffs struct {
	RequestStart date.Date // requests whose desired start lies before this day
	Mail         time.Time
	Sessions     time.Time
}

// CutoffsAt derives the cutoffs of the periods p at now.
func CutoffsAt(p tenant.Retention, now time.Time) Cutoffs {
	var c Cutoffs
	if p.UnplacedRequestMonths > 0 {
		c.RequestStart = date.In(now).AddMonths(-p.UnplacedRequestMonths)
	}
	if p.MailDays > 0 {
		c.Mail = now.AddDate(0, 0, -p.MailDays)
	}
	if p.SessionDays > 0 {
		c.Sessions = now.AddDate(0, 0, -p.SessionDays)
	}
	return c
}

// Report is what the next run would do in a city.
type Report struct {
	Periods   tenant.Retention
	Cutoffs   Cutoffs
	Counts    Counts
	EnabledAt *time.Time // nil: the job only reports until the admin confirms
	LastRunAt *time.Time
}

// Service runs the retention job and its dry run.
type Service struct {
	db    bun.IDB
	clock clock.Clock
}

// NewService returns the retention service.
func NewService(db bun.IDB, clk clock.Clock) *Service { return &Service{db: db, clock: clk} }

// DryRun counts, per category, what a run now would delete in the city.
func (s *Service) DryRun(ctx context.Context, t *tenant.Tenant) (Report, error) {
	now := s.clock.Now()
	r := Report{Periods: t.Rules.Retention, Cutoffs: CutoffsAt(t.Rules.Retention, now)}
	err := database.InTenantSnapshot(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		st, err := loadState(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		r.EnabledAt, r.LastRunAt = st.EnabledAt, st.LastRunAt
		r.Counts, err = count(ctx, tx, t.ID, r.Cutoffs)
		return err
	})
	if err != nil {
		return Report{}, fmt.Errorf("retention: dry run %s: %w", t.Slug, err)
	}
	return r, nil
}

// count is the dry run of every category.
func count(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, c Cutoffs) (Counts, error) {
	out := Counts{}
	if !c.RequestStart.IsZero() {
		ids, err := dueRequests(ctx, tx, tenantID, c.RequestStart)
		if err != nil {
			return nil, err
		}
		out[Requests] = len(ids)
		if out[Offers], err = offer.CountEndedOnRequests(ctx, tx, tenantID, ids); err != nil {
			return nil, err
		}
	}
	if !c.Mail.IsZero() {
		var err error
		if out[Inbox], out[Receipts], err = notify.CountMailBefore(ctx, tx, tenantID, c.Mail); err != nil {
			return nil, err
		}
		if out[OutboxRow], err = outbox.CountRelayedBefore(ctx, tx, tenantID, c.Mail); err != nil {
			return nil, err
		}
	}
	if !c.Sessions.IsZero() {
		var err error
		if out[Sessions], err = auth.CountEndedBefore(ctx, tx, tenantID, c.Sessions); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dueRequests are the unplaced requests started before cutoff that hold no offer which
// must stay (one holding a seat or under contract).
func dueRequests(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, cutoff date.Date) ([]uuid.UUID, error) {
	ids, err := application.UnplacedStartedBefore(ctx, tx, tenantID, cutoff, 0)
	if err != nil || len(ids) == 0 {
		return ids, err
	}
	var kept []uuid.UUID
	for chunk := range slices.Chunk(ids, 5000) {
		k, err := offer.RequestsKept(ctx, tx, tenantID, chunk)
		if err != nil {
			return nil, err
		}
		kept = append(kept, k...)
	}
	if len(kept) == 0 {
		return ids, nil
	}
	skip := make(map[uuid.UUID]bool, len(kept))
	for _, id := range kept {
		skip[id] = true
	}
	return slices.DeleteFunc(ids, func(id uuid.UUID) bool { return skip[id] }), nil
}

// Result is what one run of the job did in a city.
type Result struct {
	DryRun bool   // not enabled: Counts is what a run would have deleted
	Counts Counts // rows deleted (or that would have been)
}

// RunTenant is the daily job in one city: before the admin confirmed the dry run it only
// counts; then it deletes, a batch of requests per transaction. Either way it writes one
// audit entry with the counts (also when it fails half-way: what was deleted by then).
func (s *Service) RunTenant(ctx context.Context, t *tenant.Tenant) (Result, error) {
	now := s.clock.Now()
	cut := CutoffsAt(t.Rules.Retention, now)
	var st state
	if err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) (err error) {
		st, err = loadState(ctx, tx, t.ID)
		return err
	}); err != nil {
		return Result{}, fmt.Errorf("retention: %s: %w", t.Slug, err)
	}
	if st.EnabledAt == nil {
		r, err := s.DryRun(ctx, t)
		if err != nil {
			return Result{}, err
		}
		res := Result{DryRun: true, Counts: r.Counts}
		return res, s.finish(ctx, t, now, res, nil)
	}
	res := Result{Counts: Counts{}}
	runErr := s.delete(ctx, t, cut, res.Counts)
	if err := s.finish(ctx, t, now, res, runErr); err != nil {
		return res, errors.Join(runErr, err)
	}
	if runErr != nil {
		return res, fmt.Errorf("retention: %s: %w", t.Slug, runErr)
	}
	return res, nil
}

// delete removes what is due, adding what went to counts as it goes.
func (s *Service) delete(ctx context.Context, t *tenant.Tenant, c Cutoffs, counts Counts) error {
	if !c.RequestStart.IsZero() {
		var ids []uuid.UUID
		if err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) (err error) {
			ids, err = dueRequests(ctx, tx, t.ID, c.RequestStart)
			return err
		}); err != nil {
			return err
		}
		for chunk := range slices.Chunk(ids, batch) {
			var offers, requests int64
			if err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
				// Checked again under this transaction: an offer made since the listing keeps its request.
				kept, err := offer.RequestsKept(ctx, tx, t.ID, chunk)
				if err != nil {
					return err
				}
				chunk = slices.DeleteFunc(slices.Clone(chunk), func(id uuid.UUID) bool { return slices.Contains(kept, id) })
				if offers, err = offer.DeleteEndedOnRequests(ctx, tx, t.ID, chunk); err != nil {
					return err
				}
				requests, err = application.DeleteUnplaced(ctx, tx, t.ID, chunk, c.RequestStart)
				return err
			}); err != nil {
				return err
			}
			counts[Offers] += int(offers)
			counts[Requests] += int(requests)
		}
	}
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if !c.Mail.IsZero() {
			inbox, receipts, err := notify.DeleteMailBefore(ctx, tx, t.ID, c.Mail)
			if err != nil {
				return err
			}
			rows, err := outbox.DeleteRelayedBefore(ctx, tx, t.ID, c.Mail)
			if err != nil {
				return err
			}
			counts[Inbox], counts[Receipts], counts[OutboxRow] = int(inbox), int(receipts), int(rows)
		}
		if !c.Sessions.IsZero() {
			n, err := auth.DeleteEndedBefore(ctx, tx, t.ID, c.Sessions)
			if err != nil {
				return err
			}
			counts[Sessions] = int(n)
		}
		return nil
	})
}

// finish writes the run's audit entry (counts only) and its time.
func (s *Service) finish(ctx context.Context, t *tenant.Tenant, now time.Time, res Result, runErr error) error {
	action := ActionRun
	if res.DryRun {
		action = ActionDryRun
	}
	details := map[string]any{}
	for _, k := range Categories {
		details[k] = res.Counts[k]
	}
	if runErr != nil {
		details["failed"] = true
	}
	return database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := setLastRun(ctx, tx, t.ID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.ID, audit.Actor{Kind: "system", Label: "retention"},
			audit.Event{Action: action, ObjectKind: "tenant", ObjectID: t.ID.String(), Details: details})
	})
}

// Enable is the tenant admin confirming the dry run: from the next daily run on the job
// deletes. Confirming again changes nothing.
func (s *Service) Enable(ctx context.Context, c auth.Caller) (Report, error) {
	t := c.Tenant
	now := s.clock.Now()
	r, err := s.DryRun(ctx, t)
	if err != nil || r.EnabledAt != nil {
		return r, err
	}
	actor := audit.By(c)
	err = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		first, err := enable(ctx, tx, t.ID, actor.ID, now)
		if err != nil || !first {
			return err
		}
		details := map[string]any{}
		for _, k := range Categories {
			details[k] = r.Counts[k]
		}
		return audit.Record(ctx, tx, t.ID, actor, audit.Event{Action: ActionEnabled, ObjectKind: "tenant", ObjectID: t.ID.String(), Details: details})
	})
	if err != nil {
		return Report{}, fmt.Errorf("retention: enable: %w", err)
	}
	r.EnabledAt = &now
	return r, nil
}
