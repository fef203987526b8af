// Package billing keeps each city's Stripe subscription in step with Stripe: webhooks are
// verified by signature and applied exactly once, whatever Stripe redelivers.
package billing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/tenant"
)

// Service applies Stripe events.
type Service struct {
	db  bun.IDB
	log *slog.Logger
}

// NewService returns the billing service.
func NewService(db bun.IDB, log *slog.Logger) *Service { return &Service{db: db, log: log} }

// ErrUnknownTenant: no tenant has that slug.
var ErrUnknownTenant = apperr.NotFound("unknown_tenant")

// Link records which Stripe customer pays for the tenant with slug (done at onboarding).
func (s *Service) Link(ctx context.Context, slug, customerID string) error {
	tenantID, found, err := tenant.NewStore(s.db).IDOf(ctx, slug)
	if err != nil {
		return fmt.Errorf("link billing account: %w", err)
	}
	if !found {
		return ErrUnknownTenant
	}
	if _, err := s.db.ExecContext(ctx, `
		INSERT INTO billing_account (tenant_id, stripe_customer_id) VALUES (?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET stripe_customer_id = EXCLUDED.stripe_customer_id, updated_at = now()`,
		tenantID, customerID); err != nil {
		return fmt.Errorf("link billing account: %w", err)
	}
	return nil
}

// Outcome says what Apply did with an event.
type Outcome string

const (
	Applied   Outcome = "applied"   // changed a billing account
	Duplicate Outcome = "duplicate" // seen before: nothing done
	Ignored   Outcome = "ignored"   // recorded, but not a type we act on or no account matches
)

// Apply records the event and, for subscription events, updates the matching account —
// all in one transaction, so an event is applied exactly once.
func (s *Service) Apply(ctx context.Context, ev stripe.Event) (Outcome, error) {
	outcome := Ignored
	err := database.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO stripe_event (id, type) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, ev.ID, string(ev.Type))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			outcome = Duplicate
			return nil
		}
		switch ev.Type {
		case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
			"customer.subscription.paused", "customer.subscription.resumed":
		default:
			return nil
		}
		var sub stripe.Subscription
		if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &sub) != nil || sub.Customer == nil {
			return errors.New("subscription event without a subscription")
		}
		var periodEnd *time.Time
		if sub.CurrentPeriodEnd > 0 {
			t := time.Unix(sub.CurrentPeriodEnd, 0)
			periodEnd = &t
		}
		var tenantID *string
		err = tx.QueryRowContext(ctx, `
			UPDATE billing_account SET stripe_subscription_id = ?, subscription_status = ?,
			       current_period_end = ?, updated_at = now()
			WHERE stripe_customer_id = ?
			RETURNING tenant_id`, sub.ID, string(sub.Status), periodEnd, sub.Customer.ID).Scan(&tenantID)
		if errors.Is(err, sql.ErrNoRows) {
			s.log.Warn("stripe event for a customer no tenant is linked to", "event", ev.ID, "type", ev.Type)
			return nil
		}
		if err != nil {
			return err
		}
		outcome = Applied
		_, err = tx.ExecContext(ctx, `UPDATE stripe_event SET tenant_id = ? WHERE id = ?`, tenantID, ev.ID)
		return err
	})
	return outcome, err
}
