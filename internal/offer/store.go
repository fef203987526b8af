package offer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/webhook"
)

// Offer is one seat promised to one choice of a request.
type Offer struct {
	ID            uuid.UUID  `bun:"id" json:"id"`
	ApplicationID uuid.UUID  `bun:"application_id" json:"application_id"`
	ChoiceRank    int        `bun:"choice_rank" json:"choice_rank"`
	ChildID       uuid.UUID  `bun:"child_id" json:"child_id"`
	FacilityID    uuid.UUID  `bun:"facility_id" json:"facility_id"`
	GroupID       *uuid.UUID `bun:"group_id" json:"group_id,omitempty"`
	CareHours     int        `bun:"care_hours" json:"care_hours"`
	Start         date.Date  `bun:"start_date" json:"start_date"`
	Status        Status     `bun:"status" json:"status"`
	OpensAt       *time.Time `bun:"opens_at" json:"opens_at,omitempty"`
	ExpiresAt     *time.Time `bun:"expires_at" json:"expires_at,omitempty"`
	DecidedAt     *time.Time `bun:"decided_at" json:"decided_at,omitempty"`
	Exclusive     bool       `bun:"exclusive" json:"-"`
	RemindedDays  []int      `bun:"reminded_days,array" json:"-"`
	MadeBy        *uuid.UUID `bun:"made_by" json:"-"`
	Reason        string     `bun:"reason" json:"reason,omitempty"`
	ContractID    *uuid.UUID `bun:"contract_id" json:"contract_id,omitempty"`
	CreatedAt     time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at" json:"updated_at"`
}

const columns = `id, application_id, choice_rank, child_id, facility_id, group_id, care_hours, start_date, status, opens_at,
	expires_at, decided_at, exclusive, reminded_days, made_by, reason, contract_id, created_at, updated_at`

// Errors of making an offer that the database's unique indexes answer.
var (
	// ErrChoiceOffered: the choice holds an unfinished offer already (a double click).
	ErrChoiceOffered = apperr.Conflict("offer_exists")
	// ErrChildHolds: in a one-offer city the child holds an unfinished offer elsewhere.
	ErrChildHolds = apperr.Conflict("offer_child_has_offer")
)

// Insert writes o (its id, status and times set by the caller) with the first entry of
// its history (from and to its first status: it was made).
func Insert(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, o *Offer, actor Actor, note string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO offer (tenant_id, id, application_id, choice_rank, child_id, facility_id, group_id,
		care_hours, start_date, status, opens_at, expires_at, exclusive, made_by, reason, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tenantID, o.ID, o.ApplicationID, o.ChoiceRank, o.ChildID, o.FacilityID, o.GroupID, o.CareHours, o.Start, o.Status,
		o.OpensAt, o.ExpiresAt, o.Exclusive, o.MadeBy, o.Reason, o.CreatedAt, o.CreatedAt)
	switch {
	case database.IsUniqueViolation(err, "offer_one_per_choice"):
		return ErrChoiceOffered
	case database.IsUniqueViolation(err, "offer_one_per_child"):
		return ErrChildHolds
	case err != nil:
		return fmt.Errorf("offer: insert: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO offer_event (tenant_id, id, offer_id, at, actor_kind, actor_id, from_status, to_status, note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, uuid.Must(uuid.NewV7()), o.ID, o.CreatedAt, actor.Kind, o.MadeBy, o.Status, o.Status, note)
	if err != nil {
		return fmt.Errorf("offer: history: %w", err)
	}
	return webhook.Emit(ctx, tx, tenantID, offerEvent(o.ID, "", o.Status, map[string]any{"application_id": o.ApplicationID,
		"facility_id": o.FacilityID, "start_date": o.Start.String(), "expires_at": o.ExpiresAt}, o.CreatedAt))
}

// Get reads offer id, locked for update when lock is set.
func Get(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, lock bool) (*Offer, error) {
	q := `SELECT ` + columns + ` FROM offer WHERE tenant_id = ? AND id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var o Offer
	err := tx.NewRaw(q, tenantID, id).Scan(ctx, &o)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("offer: get: %w", err)
	}
	return &o, nil
}

// Of reads the offers of the children (a family's), newest first; statuses narrows them
// when given.
func Of(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID, statuses []Status) ([]Offer, error) {
	return list(ctx, tx, `tenant_id = ? AND child_id = ANY(?::uuid[])`, []any{tenantID, pgdialect.Array(childIDs)}, statuses)
}

// AtFacilities reads the offers of the facilities, newest first; statuses narrows them.
func AtFacilities(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, facilityIDs []uuid.UUID, statuses []Status) ([]Offer, error) {
	return list(ctx, tx, `tenant_id = ? AND facility_id = ANY(?::uuid[])`, []any{tenantID, pgdialect.Array(facilityIDs)}, statuses)
}

// OfRequest reads the offers made on the request's choices, newest first.
func OfRequest(ctx context.Context, tx bun.IDB, tenantID, applicationID uuid.UUID) ([]Offer, error) {
	return list(ctx, tx, `tenant_id = ? AND application_id = ?`, []any{tenantID, applicationID}, nil)
}

func list(ctx context.Context, tx bun.IDB, where string, args []any, statuses []Status) ([]Offer, error) {
	if len(statuses) > 0 {
		where += ` AND status = ANY(?::text[])`
		args = append(args, pgdialect.Array(statuses))
	}
	out := []Offer{}
	if err := tx.NewRaw(`SELECT `+columns+` FROM offer WHERE `+where+` ORDER BY created_at DESC, id LIMIT 500`, args...).
		Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("offer: list: %w", err)
	}
	return out, nil
}

// HoldingOfChild lists the child's unfinished offers but except's, locked: accepting one place
// withdraws the others.
func HoldingOfChild(ctx context.Context, tx bun.IDB, tenantID, childID, except uuid.UUID) ([]Offer, error) {
	out := []Offer{}
	err := tx.NewRaw(`SELECT `+columns+` FROM offer WHERE tenant_id = ? AND child_id = ? AND id <> ? AND status = ANY(?::text[])
		ORDER BY id FOR UPDATE`, tenantID, childID, except, pgdialect.Array(Holding)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("offer: holding of child: %w", err)
	}
	return out, nil
}

// SetDeadline gives an offer that goes out now its deadline.
func SetDeadline(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, expiresAt time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE offer SET expires_at = ? WHERE tenant_id = ? AND id = ?`, expiresAt, tenantID, id); err != nil {
		return fmt.Errorf("offer: deadline: %w", err)
	}
	return nil
}

// MarkReminded records that the reminder days before the deadline went out; it answers
// false when it had been recorded already (a second delivery of the same job sends
// nothing).
func MarkReminded(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, days int) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE offer SET reminded_days = array_append(reminded_days, ?)
		WHERE tenant_id = ? AND id = ? AND status = ? AND NOT (? = ANY(reminded_days))`, days, tenantID, id, StatusOpen, days)
	if err != nil {
		return false, fmt.Errorf("offer: reminded: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetContract links an accepted offer to the contract it became.
func SetContract(ctx context.Context, tx bun.IDB, tenantID, id, contractID uuid.UUID) error {
	if _, err := tx.ExecContext(ctx, `UPDATE offer SET contract_id = ? WHERE tenant_id = ? AND id = ?`, contractID, tenantID, id); err != nil {
		return fmt.Errorf("offer: contract: %w", err)
	}
	return nil
}

// Due are the offers the scheduler acts on at a moment: deadlines passed, release days
// reached, reminders due.
type Due struct {
	Expiring  []uuid.UUID
	Releasing []uuid.UUID
	Reminding []uuid.UUID
}

// DueAt lists up to limit offers of each kind due at now. reminderDays are the city's
// reminder days before the deadline.
func DueAt(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, now time.Time, reminderDays []int, limit int) (Due, error) {
	var d Due
	// Everything listed is due; grouped by facility, a batch refreshes few facilities'
	// availability (10,000 deadlines in one minute at 200 facilities: 200 refreshes, not
	// one per offer).
	if err := tx.NewRaw(`SELECT id FROM offer WHERE tenant_id = ? AND status = ANY(?::text[]) AND expires_at <= ? ORDER BY facility_id, expires_at LIMIT ?`,
		tenantID, pgdialect.Array(From(EventExpire)), now, limit).Scan(ctx, &d.Expiring); err != nil {
		return d, fmt.Errorf("offer: due: %w", err)
	}
	if err := tx.NewRaw(`SELECT id FROM offer WHERE tenant_id = ? AND status = ? AND opens_at <= ? ORDER BY opens_at LIMIT ?`,
		tenantID, StatusPrepared, now, limit).Scan(ctx, &d.Releasing); err != nil {
		return d, fmt.Errorf("offer: due: %w", err)
	}
	if len(reminderDays) > 0 {
		if err := tx.NewRaw(`SELECT id FROM offer o WHERE tenant_id = ? AND status = ? AND expires_at > ?
			AND EXISTS (SELECT 1 FROM unnest(?::int[]) AS r(days)
				WHERE o.expires_at - make_interval(days => r.days) <= ? AND NOT (r.days = ANY(o.reminded_days)))
			ORDER BY expires_at LIMIT ?`,
			tenantID, StatusOpen, now, pgdialect.Array(reminderDays), now, limit).Scan(ctx, &d.Reminding); err != nil {
			return d, fmt.Errorf("offer: due: %w", err)
		}
	}
	return d, nil
}

// SetOpensAt sets the release moment of a confirmed offer that waits for its day.
func SetOpensAt(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE offer SET opens_at = ? WHERE tenant_id = ? AND id = ?`, at, tenantID, id); err != nil {
		return fmt.Errorf("offer: opens at: %w", err)
	}
	return nil
}
