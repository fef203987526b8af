package offer

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/lifecycle"
	"kitaportal/internal/webhook"
)

// The lifecycle of an offer: its statuses, the one table of allowed transitions with
// the event that causes each, and Transition, the one way an offer's status changes.

// Status is where an offer stands.
type Status string

// Offer statuses. An offer may wait before it goes out to the family: proposed (the
// administration confirms a facility's offer), prepared (released offers.lead_months
// before the start) or reserved (the family reserved a place shown free, the facility
// confirms).
const (
	StatusProposed   Status = "proposed"
	StatusPrepared   Status = "prepared"
	StatusReserved   Status = "reserved"
	StatusOpen       Status = "open"
	StatusAccepted   Status = "accepted"
	StatusDeclined   Status = "declined"
	StatusExpired    Status = "expired"
	StatusWithdrawn  Status = "withdrawn"
	StatusContracted Status = "contracted"
)

// Statuses are all offer statuses, in the order of the flow.
var Statuses = []Status{StatusProposed, StatusPrepared, StatusReserved, StatusOpen, StatusAccepted, StatusDeclined,
	StatusExpired, StatusWithdrawn, StatusContracted}

// Holding are the statuses in which an offer holds its seat: every one that is not
// finished. As text, for SQL parameters (the availability engine counts these).
var Holding = []string{string(StatusProposed), string(StatusPrepared), string(StatusReserved), string(StatusOpen), string(StatusAccepted)}

// Answerable are the statuses in which the family may answer: an open offer, and its
// own reservation (which it may cancel).
var Answerable = []Status{StatusOpen, StatusReserved}

// Finished tells whether an offer in s holds nothing any more.
func (s Status) Finished() bool { return !slices.Contains(Holding, string(s)) }

// Event is what moves an offer on.
type Event string

// Events of the lifecycle.
const (
	EventConfirm  Event = "confirm"  // the administration confirms a proposal; a facility a reservation
	EventRelease  Event = "release"  // a prepared offer goes out on its day
	EventAccept   Event = "accept"   // the family accepts within the deadline
	EventDecline  Event = "decline"  // the family declines (or cancels its reservation)
	EventExpire   Event = "expire"   // the deadline passed unanswered
	EventWithdraw Event = "withdraw" // staff take the offer back, with a reason
	EventContract Event = "contract" // the accepted place became a contract
)

// Events are all events of the lifecycle.
var Events = []Event{EventConfirm, EventRelease, EventAccept, EventDecline, EventExpire, EventWithdraw, EventContract}

// table is every allowed transition: from → event → to. A status without a row is final.
var table = lifecycle.New(Statuses, map[Status]map[Event]Status{
	StatusProposed: {
		EventConfirm: StatusPrepared, EventWithdraw: StatusWithdrawn,
	},
	StatusPrepared: {
		EventRelease: StatusOpen, EventWithdraw: StatusWithdrawn,
	},
	StatusReserved: {
		EventConfirm: StatusAccepted, EventDecline: StatusDeclined, EventExpire: StatusExpired, EventWithdraw: StatusWithdrawn,
	},
	StatusOpen: {
		EventAccept: StatusAccepted, EventDecline: StatusDeclined, EventExpire: StatusExpired, EventWithdraw: StatusWithdrawn,
	},
	StatusAccepted: {
		EventContract: StatusContracted,
	},
})

// Next is the status event ev moves an offer in status from to; ok is false when the
// table does not allow it.
func Next(from Status, ev Event) (to Status, ok bool) { return table.Next(from, ev) }

// From lists the statuses event ev may move on.
func From(ev Event) []Status { return table.From(ev) }

// answered are the statuses that answer an offer: reaching one sets its decided_at (a
// confirmed reservation is accepted too).
var answered = []string{string(StatusAccepted), string(StatusDeclined), string(StatusExpired), string(StatusWithdrawn)}

// Actor is who moves an offer on.
type Actor struct {
	Kind string // parent, staff, system
	ID   uuid.UUID
}

// Errors of a transition.
var (
	ErrNotFound      = apperr.NotFound("not_found")
	ErrTransition    = apperr.Conflict("offer_transition_not_allowed")
	ErrReasonMissing = apperr.Invalid("reason", "offer_withdraw_reason_required", nil)
)

// Transition moves offer id on by event ev in the caller's transaction: it locks the row,
// checks the table, writes the new status (and when the offer was answered) and one entry
// of its history with actor and note. A withdrawal needs a reason (the note). An event
// the table does not allow changes nothing and answers ErrTransition.
//
// One statement: the table's pairs for ev are its parameters, the UPDATE moves the row
// only from a status the table lists, and the current status comes back either way.
func Transition(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, ev Event, actor Actor, note string, now time.Time) (from, to Status, err error) {
	note = strings.TrimSpace(note)
	if ev == EventWithdraw && note == "" {
		return "", "", ErrReasonMissing
	}
	fromSet, toSet := table.Pairs(ev)
	var actorID *uuid.UUID
	if actor.ID != uuid.Nil {
		actorID = &actor.ID
	}
	var current, moved sql.NullString
	err = tx.QueryRowContext(ctx, `WITH cur AS (
			SELECT status FROM offer WHERE tenant_id = ?0 AND id = ?1 FOR UPDATE),
		u AS (
			UPDATE offer o SET status = m.to_status, updated_at = ?2, decided_at = CASE WHEN m.to_status = ANY(?9::text[]) THEN ?2 ELSE o.decided_at END
			FROM unnest(?3::text[], ?4::text[]) AS m(from_status, to_status)
			WHERE o.tenant_id = ?0 AND o.id = ?1 AND o.status = m.from_status
			RETURNING o.id, m.from_status, m.to_status),
		e AS (
			INSERT INTO offer_event (tenant_id, id, offer_id, at, actor_kind, actor_id, from_status, to_status, note)
			SELECT ?0, ?5, u.id, ?2, ?6, ?7, u.from_status, u.to_status, ?8 FROM u)
		SELECT (SELECT status FROM cur), (SELECT to_status FROM u)`,
		tenantID, id, now, pgdialect.Array(fromSet), pgdialect.Array(toSet), uuid.Must(uuid.NewV7()), actor.Kind, actorID, note, pgdialect.Array(answered)).
		Scan(&current, &moved)
	if err != nil {
		return "", "", fmt.Errorf("offer: %s: %w", ev, err)
	}
	if !current.Valid {
		return "", "", ErrNotFound
	}
	from = Status(current.String)
	if !moved.Valid {
		return from, from, ErrTransition.Wrap(fmt.Errorf("%s from %s", ev, from))
	}
	if err := webhook.Emit(ctx, tx, tenantID, offerEvent(id, from, Status(moved.String), nil, now)); err != nil {
		return "", "", err
	}
	return from, Status(moved.String), nil
}

// HistoryEntry is one status change of an offer.
type HistoryEntry struct {
	At        time.Time  `bun:"at" json:"at"`
	ActorKind string     `bun:"actor_kind" json:"actor"`
	ActorID   *uuid.UUID `bun:"actor_id" json:"-"`
	From      Status     `bun:"from_status" json:"from_status"`
	To        Status     `bun:"to_status" json:"to_status"`
	Note      string     `bun:"note" json:"note,omitempty"`
}

// History is offer id's status changes, oldest first.
func History(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) ([]HistoryEntry, error) {
	out := []HistoryEntry{}
	if err := tx.NewRaw(`SELECT at, actor_kind, actor_id, from_status, to_status, note FROM offer_event
		WHERE tenant_id = ? AND offer_id = ? ORDER BY at, id`, tenantID, id).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("offer: history: %w", err)
	}
	return out, nil
}
