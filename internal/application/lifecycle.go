package application

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/lifecycle"
	"kitaportal/internal/webhook"
)

// The lifecycle of a request and of its ranked choices: the statuses, the one table of
// allowed transitions with the event that causes each, and the status sets other code
// asks about. Every status change goes through Transition (a request) or
// TransitionChoice / transitionChoices (its choices), which lock the row, check the
// table and write the status in the caller's transaction; SQL elsewhere never spells a
// status but takes these sets and constants as parameters.

// Status is where a request stands.
type Status string

// Request statuses.
const (
	StatusDraft      Status = "draft"
	StatusSubmitted  Status = "submitted"
	StatusInReview   Status = "in_review"
	StatusOffered    Status = "offered"
	StatusAccepted   Status = "accepted"
	StatusContracted Status = "contracted"
	StatusRefused    Status = "refused"
	StatusWithdrawn  Status = "withdrawn"
	StatusExpired    Status = "expired"
	StatusClosed     Status = "closed"
)

// Statuses are all request statuses, in the order of the flow.
var Statuses = []Status{StatusDraft, StatusSubmitted, StatusInReview, StatusOffered, StatusAccepted, StatusContracted,
	StatusRefused, StatusWithdrawn, StatusExpired, StatusClosed}

// ChoiceStatus is where one ranked choice of a request stands.
type ChoiceStatus string

// Choice statuses.
const (
	ChoiceQueued    ChoiceStatus = "queued" // cascade: the choices ahead have their turn first
	ChoicePending   ChoiceStatus = "pending"
	ChoiceInReview  ChoiceStatus = "in_review"
	ChoiceProposed  ChoiceStatus = "proposed" // a place is proposed: its offer waits (confirmation, release day)
	ChoicePaused    ChoiceStatus = "paused"   // one-offer lock: the child has an open offer elsewhere
	ChoiceRefused   ChoiceStatus = "refused"
	ChoicePassed    ChoiceStatus = "passed" // cascade: the facility passed, or its days ran out
	ChoiceOffered   ChoiceStatus = "offered"
	ChoiceAccepted  ChoiceStatus = "accepted"
	ChoiceDeclined  ChoiceStatus = "declined"
	ChoiceWithdrawn ChoiceStatus = "withdrawn"
	ChoiceEnded     ChoiceStatus = "ended" // the child was placed elsewhere
)

// ChoiceStatuses are all choice statuses.
var ChoiceStatuses = []ChoiceStatus{ChoiceQueued, ChoicePending, ChoiceInReview, ChoiceProposed, ChoicePaused, ChoiceRefused,
	ChoicePassed, ChoiceOffered, ChoiceAccepted, ChoiceDeclined, ChoiceWithdrawn, ChoiceEnded}

// Event is what moves a request or a choice on.
type Event string

// Events of the lifecycle.
const (
	EventSubmit   Event = "submit"   // the family, or staff for them, files the draft
	EventImport   Event = "import"   // a request of a paper waitlist is filed at its date on paper
	EventReview   Event = "review"   // a facility starts working on it
	EventPropose  Event = "propose"  // a facility proposes a place on its choice; the offer follows
	EventRefuse   Event = "refuse"   // a facility refuses its choice; the request when every choice is refused
	EventOffer    Event = "offer"    // a binding offer is made
	EventAccept   Event = "accept"   // the family accepts the offer
	EventDecline  Event = "decline"  // the family declines the offer: the request is back in review
	EventLapse    Event = "lapse"    // the offer ran out unanswered: the request is back in review
	EventContract Event = "contract" // the accepted place became a contract, or the register shows one at this choice
	EventExpire   Event = "expire"   // the request itself ran out
	EventWithdraw Event = "withdraw" // the family takes it back; open choices end with it
	EventClose    Event = "close"    // staff close it (its child's record was merged into another, or the child was placed)
	EventRetract  Event = "retract"  // staff withdrew the offer: the choice is back with the facility
	EventPause    Event = "pause"    // one-offer lock: the child has an open offer elsewhere
	EventResume   Event = "resume"   // one-offer lock: that offer ended without a place
	EventEnd      Event = "end"      // the child was placed elsewhere
	EventForward  Event = "forward"  // cascade: the request reached this choice
	EventPass     Event = "pass"     // cascade: the facility passed, or its days ran out
	EventQueue    Event = "queue"    // cascade: a filed request's later choices wait for their turn
	EventReopen   Event = "reopen"   // the register contract that ended it was cancelled or ended early (contract.reopen_requests)
)

// Events are all events of the lifecycle.
var Events = []Event{EventSubmit, EventImport, EventReview, EventPropose, EventRefuse, EventOffer, EventAccept, EventDecline,
	EventLapse, EventContract, EventExpire, EventWithdraw, EventClose, EventRetract, EventPause, EventResume, EventEnd,
	EventForward, EventPass, EventQueue, EventReopen}

// requestTable is every allowed transition of a request: from → event → to. A status
// without a row is final.
var requestTable = lifecycle.New(Statuses, map[Status]map[Event]Status{
	StatusDraft: {
		EventSubmit: StatusSubmitted, EventImport: StatusSubmitted,
		EventWithdraw: StatusWithdrawn, EventClose: StatusClosed,
	},
	// A contract entered in the register at one of its choices places a request that
	// is still being decided (internal/contract).
	StatusSubmitted: {
		EventReview: StatusInReview, EventOffer: StatusOffered, EventRefuse: StatusRefused, EventExpire: StatusExpired,
		EventWithdraw: StatusWithdrawn, EventClose: StatusClosed, EventContract: StatusContracted,
	},
	StatusInReview: {
		EventOffer: StatusOffered, EventRefuse: StatusRefused, EventExpire: StatusExpired,
		EventWithdraw: StatusWithdrawn, EventClose: StatusClosed, EventContract: StatusContracted,
	},
	StatusOffered: {
		// No withdrawal while an offer is open: the family declines it first (the offer
		// holds a seat the request's end alone would not free).
		EventAccept: StatusAccepted, EventDecline: StatusInReview, EventLapse: StatusInReview, EventRetract: StatusInReview,
		EventClose: StatusClosed,
	},
	StatusAccepted: {
		EventContract: StatusContracted, EventClose: StatusClosed,
	},
	// Closed and contracted are final but for one way back: the register contract that
	// ended the request is gone for its time (ReopenAfterContract).
	StatusContracted: {EventReopen: StatusSubmitted},
	StatusClosed:     {EventReopen: StatusSubmitted},
})

// choiceTable is every allowed transition of a choice. A status without a row is final.
// The offer flow: a place is offered (at once, or proposed while its offer waits), the
// family accepts, declines or lets it lapse, or staff retract it. Around it the city's
// coordination: the one-offer lock pauses and resumes the child's other choices and
// ends them once it is placed; the cascade forwards the request choice by choice.
var choiceTable = lifecycle.New(ChoiceStatuses, map[ChoiceStatus]map[Event]ChoiceStatus{
	ChoiceQueued: {
		EventForward: ChoicePending, EventEnd: ChoiceEnded, EventWithdraw: ChoiceWithdrawn, EventContract: ChoiceAccepted,
	},
	ChoicePending: {
		EventReview: ChoiceInReview, EventPropose: ChoiceProposed, EventOffer: ChoiceOffered, EventRefuse: ChoiceRefused,
		EventPause: ChoicePaused, EventPass: ChoicePassed, EventEnd: ChoiceEnded, EventWithdraw: ChoiceWithdrawn,
		EventQueue: ChoiceQueued, EventContract: ChoiceAccepted,
	},
	ChoiceInReview: {
		EventPropose: ChoiceProposed, EventOffer: ChoiceOffered, EventRefuse: ChoiceRefused,
		EventPause: ChoicePaused, EventPass: ChoicePassed, EventEnd: ChoiceEnded, EventWithdraw: ChoiceWithdrawn,
		EventContract: ChoiceAccepted,
	},
	ChoiceProposed: {
		EventOffer: ChoiceOffered, EventRetract: ChoiceInReview, EventEnd: ChoiceEnded, EventWithdraw: ChoiceWithdrawn,
	},
	ChoicePaused: {
		EventResume: ChoicePending, EventEnd: ChoiceEnded, EventWithdraw: ChoiceWithdrawn, EventContract: ChoiceAccepted,
	},
	ChoiceOffered: {
		EventAccept: ChoiceAccepted, EventDecline: ChoiceDeclined, EventLapse: ChoiceDeclined, EventRetract: ChoiceInReview,
		EventEnd: ChoiceEnded,
	},
	// A reopened request's choices the contract had ended or taken are open again.
	ChoiceEnded:    {EventReopen: ChoicePending},
	ChoiceAccepted: {EventReopen: ChoicePending},
})

// Next is the status event ev moves a request in status from to; ok is false when the
// table does not allow it.
func Next(from Status, ev Event) (to Status, ok bool) { return requestTable.Next(from, ev) }

// NextChoice is the status event ev moves a choice in status from to.
func NextChoice(from ChoiceStatus, ev Event) (to ChoiceStatus, ok bool) {
	return choiceTable.Next(from, ev)
}

// From lists the request statuses event ev may move on, in the order of Statuses.
func From(ev Event) []Status { return requestTable.From(ev) }

// ChoicesFrom lists the choice statuses event ev may move on.
func ChoicesFrom(ev Event) []ChoiceStatus { return choiceTable.From(ev) }

// The status sets the rest of the code asks about. SQL takes them as parameters
// (pgdialect.Array), never spelled out.
var (
	// Active requests hold the child's place in the queue: one per child and start period
	// (the database's unique index application_one_active lists the same).
	Active = []Status{StatusDraft, StatusSubmitted, StatusInReview, StatusOffered, StatusAccepted}
	// Queued are the filed requests that are still active.
	Queued = []Status{StatusSubmitted, StatusInReview, StatusOffered, StatusAccepted}
	// Filed is every status but draft: the request was handed in, staff see it.
	Filed = []Status{StatusSubmitted, StatusInReview, StatusOffered, StatusAccepted, StatusContracted,
		StatusRefused, StatusWithdrawn, StatusExpired, StatusClosed}
	// Editable requests may still be changed by the family (a submitted one only until
	// processing starts and until the city's cut-off, see editable).
	Editable = []Status{StatusDraft, StatusSubmitted}
	// Withdrawable requests may be taken back: until a place was accepted.
	Withdrawable = From(EventWithdraw)
	// Deciding: while a request is in one of these, facilities decide on its choices.
	Deciding = []Status{StatusSubmitted, StatusInReview}
	// OpenChoices are still in play; they end when their request is withdrawn or closed.
	OpenChoices = ChoicesFrom(EventWithdraw)
	// WorkedChoices are those a facility works on: their request is in review.
	WorkedChoices = []ChoiceStatus{ChoiceInReview, ChoiceProposed}
	// PlacingChoices carry a seat for the child: a place proposed, offered or accepted.
	PlacingChoices = []ChoiceStatus{ChoiceProposed, ChoiceOffered, ChoiceAccepted}
)

// In tells whether s is one of set.
func (s Status) In(set []Status) bool { return slices.Contains(set, s) }

// In tells whether s is one of set.
func (s ChoiceStatus) In(set []ChoiceStatus) bool { return slices.Contains(set, s) }

// ErrTransition answers an event the lifecycle does not allow from the current status.
var ErrTransition = apperr.Conflict("request_transition_not_allowed")

// ErrChoiceTransition answers an event the lifecycle does not allow on a choice.
var ErrChoiceTransition = apperr.Conflict("choice_transition_not_allowed")

func notAllowed[S ~string](e *apperr.Error, from S, ev Event) error {
	return e.Wrap(fmt.Errorf("%s from %s", ev, from))
}

// Transition moves request id on by event ev: it locks the row, checks the table, writes
// the new status (a new version) and one entry of the history with actor and note, in the
// caller's transaction. An event the table does not allow changes nothing and answers
// ErrTransition; an unknown id ErrNotFound.
func Transition(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, ev Event, actor Actor, note string, now time.Time) (from, to Status, err error) {
	from, to, _, err = transition(ctx, tx, tenantID, id, ev, actor, note, now, nil)
	return from, to, err
}

// Filing is what the filing of a request writes beside its status: the moment it counts
// as filed, the ticket that admits a family from outside, and its reference number
// (LEI-2026-000042): the prefix and the next number of the city's sequence
// (kitaportal_next_reference), so concurrent filings never wait on each other for it.
type Filing struct {
	At              time.Time
	Ticket          *uuid.UUID
	ReferencePrefix string
}

// TransitionFiling is Transition for an event that files a request (submit, import): in
// the same statement it writes f and returns the new reference.
func TransitionFiling(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, ev Event, f Filing, actor Actor, note string, now time.Time) (ref string, err error) {
	_, _, ref, err = transition(ctx, tx, tenantID, id, ev, actor, note, now, &f)
	return ref, err
}

// transition is one statement (one round trip on the filing path): the table's pairs for
// ev are its parameters, the UPDATE locks the row and moves it only from a status the
// table lists, and the current status comes back either way.
func transition(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, ev Event, actor Actor, note string, now time.Time, f *Filing) (from, to Status, ref string, err error) {
	fromSet, toSet := requestTable.Pairs(ev)
	filing, returning, reference := "", "", "NULL"
	args := []any{tenantID, id, now, pgdialect.Array(fromSet), pgdialect.Array(toSet), uuid.Must(uuid.NewV7()), actor.Kind, actorRef(actor), note}
	if f != nil {
		filing = `, submitted_at = ?9, ticket_id = ?10, reference = ?11 || (SELECT CASE WHEN n < 1000000 THEN lpad(n::text, 6, '0') ELSE n::text END
				FROM (SELECT kitaportal_next_reference() AS n) seq)`
		returning, reference = `, a.reference`, `(SELECT reference FROM u)`
		args = append(args, f.At, f.Ticket, f.ReferencePrefix)
	}
	var current, moved, newRef sql.NullString
	err = tx.QueryRowContext(ctx, `WITH cur AS (
			SELECT status FROM application WHERE tenant_id = ?0 AND id = ?1 FOR UPDATE),
		u AS (
			UPDATE application a SET status = m.to_status, version = a.version + 1, updated_at = ?2`+filing+`
			FROM unnest(?3::text[], ?4::text[]) AS m(from_status, to_status)
			WHERE a.tenant_id = ?0 AND a.id = ?1 AND a.status = m.from_status
			RETURNING a.id, m.from_status, m.to_status`+returning+`),
		e AS (
			INSERT INTO application_event (tenant_id, id, application_id, at, actor_kind, actor_id, from_status, to_status, note)
			SELECT ?0, ?5, u.id, ?2, ?6, ?7, u.from_status, u.to_status, ?8 FROM u)
		SELECT (SELECT status FROM cur), (SELECT to_status FROM u), `+reference,
		args...).Scan(&current, &moved, &newRef)
	if err != nil {
		return "", "", "", fmt.Errorf("transition %s: %w", ev, err)
	}
	if !current.Valid {
		return "", "", "", ErrNotFound
	}
	from = Status(current.String)
	if !moved.Valid {
		return from, from, "", notAllowed(ErrTransition, from, ev)
	}
	if err := webhook.Emit(ctx, tx, tenantID, requestEvent(id, from, Status(moved.String), newRef.String, now)); err != nil {
		return "", "", "", err
	}
	return from, Status(moved.String), newRef.String, nil
}

// TransitionChoice moves choice rank of request id on by event ev: it locks the choice,
// checks the table and writes the new status with note (the reason of the decision). The
// request's history entry is the caller's: it records the choice together with what
// became of the request (Transition, or record when the request stays as it is).
func TransitionChoice(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, rank int, ev Event, note string, now time.Time) (from, to ChoiceStatus, err error) {
	err = tx.QueryRowContext(ctx, `SELECT status FROM application_choice WHERE tenant_id = ? AND application_id = ? AND rank = ? FOR UPDATE`,
		tenantID, id, rank).Scan(&from)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("choice transition: %w", err)
	}
	to, ok := NextChoice(from, ev)
	if !ok {
		return from, from, notAllowed(ErrChoiceTransition, from, ev)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE application_choice SET status = ?, note = ?, updated_at = ?
		WHERE tenant_id = ? AND application_id = ? AND rank = ?`, to, note, now, tenantID, id, rank); err != nil {
		return from, to, fmt.Errorf("choice transition %s: %w", ev, err)
	}
	return from, to, nil
}

// transitionChoices moves every choice of request id that event ev may move, in one
// statement: the table's pairs for ev are its parameters; choices the table does not let
// ev move stay as they are (a request's end does not undo a refusal).
func transitionChoices(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, ev Event, now time.Time) error {
	_, err := transitionChoicesWhere(ctx, tx, tenantID, ev, nil, now, `c.application_id = ?`, id)
	return err
}

// transitionChoicesWhere moves by ev every choice of tenantID matching cond (SQL on the
// choice c, with args) that the table lets ev move, writing note when given and ending
// a cascade turn; it answers the requests touched, in id order.
func transitionChoicesWhere(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ev Event, note *string, now time.Time, cond string, args ...any) ([]uuid.UUID, error) {
	from, to := choiceTable.Pairs(ev)
	if len(from) == 0 {
		return nil, nil
	}
	var touched []uuid.UUID
	err := tx.NewRaw(`WITH moved AS (
			UPDATE application_choice c SET status = m.to_status, note = coalesce(?::text, c.note), updated_at = ?,
				turn_until = CASE WHEN ?::boolean THEN NULL ELSE c.turn_until END
			FROM unnest(?::text[], ?::text[]) AS m(from_status, to_status)
			WHERE c.tenant_id = ? AND c.status = m.from_status AND `+cond+`
			RETURNING c.application_id)
		SELECT DISTINCT application_id FROM moved ORDER BY application_id`,
		append([]any{note, now, ev != EventQueue, pgdialect.Array(from), pgdialect.Array(to), tenantID}, args...)...).Scan(ctx, &touched)
	if err != nil {
		return nil, fmt.Errorf("choices %s: %w", ev, err)
	}
	return touched, nil
}

// record writes an entry of request id's history that changes no status (a family's
// change of a submitted request, a facility's decision the request's status does not
// follow).
func record(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, a Actor, status Status, note string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO application_event (tenant_id, id, application_id, at, actor_kind, actor_id, from_status, to_status, note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, uuid.Must(uuid.NewV7()), id, now, a.Kind, actorRef(a), status, status, note)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}
