package application

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// The request's side of the offer flow (internal/placement drives it): what an offer
// made, opened, answered or contracted does to its choice and request, the one-offer
// lock over the child's other choices, and the cascade that hands a request from one
// choice to the next. Every function runs in the caller's transaction, after the
// caller locked the request with LoadPlacing.

// Placing is one choice of a request as the offer flow needs it.
type Placing struct {
	ApplicationID uuid.UUID
	FamilyID      uuid.UUID
	ChildID       uuid.UUID
	Child         ChildSummary
	Reference     string
	Status        Status
	Start         date.Date
	CareHours     int
	Points        int
	SubmittedAt   *time.Time
	Rank          int
	FacilityID    uuid.UUID
	FacilityName  string
	Choice        ChoiceStatus
	TurnUntil     *time.Time
	// Application is the whole request, for notices.
	Application *Application
}

// LoadPlacing reads choice rank of request id and locks the request: everything the
// offer flow does to one request happens one after the other.
func LoadPlacing(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID, rank int) (*Placing, error) {
	a, familyID, err := load(ctx, tx, t, id, true, "")
	if err != nil {
		return nil, err
	}
	p := &Placing{ApplicationID: a.ID, FamilyID: familyID, ChildID: a.ChildID, Child: a.Child, Reference: a.Reference,
		Status: a.Status, Start: a.StartDate, CareHours: a.CareHours, Points: a.Points, SubmittedAt: a.SubmittedAt, Rank: rank,
		Application: a}
	for _, ch := range a.Choices {
		if ch.Rank == rank {
			p.FacilityID, p.FacilityName, p.Choice, p.Points = ch.Facility.ID, ch.Facility.Name, ch.Status, ch.Points
		}
	}
	if p.FacilityID == uuid.Nil {
		return nil, ErrNotFound
	}
	err = tx.QueryRowContext(ctx, `SELECT turn_until FROM application_choice WHERE tenant_id = ? AND application_id = ? AND rank = ?`,
		t.ID, id, rank).Scan(&p.TurnUntil)
	if err != nil {
		return nil, fmt.Errorf("placing: %w", err)
	}
	return p, nil
}

// Reload reads the request of p again after the flow changed it (for the family's notice).
func Reload(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID) (*Application, error) {
	return reload(ctx, tx, t, id)
}

// OfferMade moves choice and request on when an offer is made for the choice. A waiting
// offer (the administration confirms it, or it goes out on its release day) leaves the
// choice proposed and the request in review; an open one offers both. A cascade turn
// ends with it: the offer's deadline runs now.
func OfferMade(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, p *Placing, waiting bool, actor Actor, note string, now time.Time) error {
	ev := EventOffer
	if waiting {
		ev = EventPropose
	}
	if !(waiting && p.Choice == ChoiceProposed) {
		if _, _, err := TransitionChoice(ctx, tx, tenantID, p.ApplicationID, p.Rank, ev, note, now); err != nil {
			return err
		}
	}
	if err := endTurn(ctx, tx, tenantID, p.ApplicationID, p.Rank); err != nil {
		return err
	}
	then := EventOffer
	if waiting {
		then = EventReview
	}
	return follow(ctx, tx, tenantID, p.ApplicationID, p.Status, then, actor, note, now)
}

// OfferOpened moves a proposed choice to offered when its waiting offer goes out.
func OfferOpened(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, p *Placing, actor Actor, note string, now time.Time) error {
	if _, _, err := TransitionChoice(ctx, tx, tenantID, p.ApplicationID, p.Rank, EventOffer, note, now); err != nil {
		return err
	}
	return follow(ctx, tx, tenantID, p.ApplicationID, p.Status, EventOffer, actor, note, now)
}

// OfferEnded moves the choice on when its offer was answered: accept, decline, lapse
// (expired unanswered) or retract (staff withdrew it). The request follows: accepted
// with its choice; back in review when no other choice still holds a place.
func OfferEnded(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, p *Placing, ev Event, actor Actor, note string, now time.Time) error {
	if _, _, err := TransitionChoice(ctx, tx, tenantID, p.ApplicationID, p.Rank, ev, note, now); err != nil {
		return err
	}
	if ev != EventAccept {
		var placing int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM application_choice WHERE tenant_id = ? AND application_id = ?
			AND status = ANY(?::text[])`, tenantID, p.ApplicationID, pgdialect.Array([]ChoiceStatus{ChoiceOffered, ChoiceAccepted})).
			Scan(&placing); err != nil {
			return fmt.Errorf("offer ended: %w", err)
		}
		if placing > 0 {
			return record(ctx, tx, tenantID, p.ApplicationID, actor, p.Status, note, now)
		}
	}
	return follow(ctx, tx, tenantID, p.ApplicationID, p.Status, ev, actor, note, now)
}

// Contracted closes the flow of an accepted request: its place became a contract.
func Contracted(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, actor Actor, note string, now time.Time) error {
	_, _, err := Transition(ctx, tx, tenantID, id, EventContract, actor, note, now)
	return err
}

// follow moves the request by ev when its lifecycle allows that from current, and
// otherwise only records note in its history (a second offer on a request already
// offered; a choice proposed on a request in review).
func follow(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, current Status, ev Event, actor Actor, note string, now time.Time) error {
	if _, ok := Next(current, ev); ok {
		_, _, err := Transition(ctx, tx, tenantID, id, ev, actor, note, now)
		return err
	}
	return record(ctx, tx, tenantID, id, actor, current, note, now)
}

// PauseOthers pauses the child's other open choices (one-offer lock: while it has an
// open offer, its other requests wait). Each request touched records why.
func PauseOthers(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, p *Placing, note string, now time.Time) error {
	return moveOthers(ctx, tx, tenantID, p, EventPause, Actor{Kind: "system"}, note, now)
}

// ResumeOthers resumes the child's paused choices: its offer ended without a place.
func ResumeOthers(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, p *Placing, note string, now time.Time) error {
	return moveOthers(ctx, tx, tenantID, p, EventResume, Actor{Kind: "system"}, note, now)
}

// EndOthers ends every other open choice of the child (it was placed, reason note), and
// closes the child's other requests that have nothing left in play.
func EndOthers(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, p *Placing, actor Actor, note string, now time.Time) error {
	if err := moveOthers(ctx, tx, tenantID, p, EventEnd, actor, note, now); err != nil {
		return err
	}
	var ids []uuid.UUID
	if err := tx.NewRaw(`SELECT a.id FROM application a WHERE a.tenant_id = ? AND a.child_id = ? AND a.id <> ?
		AND a.status = ANY(?::text[]) AND NOT EXISTS (SELECT 1 FROM application_choice c
			WHERE c.tenant_id = a.tenant_id AND c.application_id = a.id AND c.status = ANY(?::text[]))
		ORDER BY a.id FOR UPDATE OF a`,
		tenantID, p.ChildID, p.ApplicationID, pgdialect.Array(Queued), pgdialect.Array(append(OpenChoices, PlacingChoices...))).
		Scan(ctx, &ids); err != nil {
		return fmt.Errorf("end others: %w", err)
	}
	for _, id := range ids {
		if _, _, err := Transition(ctx, tx, tenantID, id, EventClose, actor, note, now); err != nil {
			return err
		}
	}
	return nil
}

// moveOthers moves by ev every choice of the child's active requests but p's own that
// the lifecycle lets ev move, in one statement, and records note on each request touched.
func moveOthers(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, p *Placing, ev Event, actor Actor, note string, now time.Time) error {
	touched, err := transitionChoicesWhere(ctx, tx, tenantID, ev, &note, now, `NOT (c.application_id = ? AND c.rank = ?)
		AND c.application_id IN (SELECT id FROM application WHERE tenant_id = ? AND child_id = ? AND status = ANY(?::text[]))`,
		p.ApplicationID, p.Rank, tenantID, p.ChildID, pgdialect.Array(Queued))
	if err != nil {
		return err
	}
	for _, id := range touched {
		var status Status
		if err := tx.QueryRowContext(ctx, `SELECT status FROM application WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(&status); err != nil {
			return fmt.Errorf("choices %s: %w", ev, err)
		}
		if err := record(ctx, tx, tenantID, id, actor, status, note, now); err != nil {
			return err
		}
	}
	return nil
}

// The cascade (Lüneburg): a filed request goes to its first choice only; that facility
// has the city's days to offer or pass; passing, refusing, a declined offer or silence
// hands it to the next choice in the parents' order.

// startCascade queues every choice but the first and starts the first one's turn.
func startCascade(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID, now time.Time) error {
	if t.Rules.Allocation.Mode != tenant.ModeCascade {
		return nil
	}
	if _, err := transitionChoicesWhere(ctx, tx, t.ID, EventQueue, nil, now, `c.application_id = ? AND c.rank > 1`, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE application_choice SET turn_until = ? WHERE tenant_id = ? AND application_id = ? AND rank = 1`,
		TurnEnd(t, now), t.ID, id)
	if err != nil {
		return fmt.Errorf("cascade: start: %w", err)
	}
	return nil
}

// TurnEnd is when a facility's turn that starts at now ends: after the city's cascade
// days, at the end of that day in Germany.
func TurnEnd(t *tenant.Tenant, now time.Time) time.Time {
	d := date.In(now).AddDays(t.Rules.Allocation.CascadeDays + 1).Time()
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, clock.Berlin) // midnight in Germany, not in UTC
}

// RestartTurn gives choice rank a new turn from now: its facility took its offer back,
// so it has the city's days again to offer or pass.
func RestartTurn(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID, rank int, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE application_choice SET turn_until = ? WHERE tenant_id = ? AND application_id = ? AND rank = ?`,
		TurnEnd(t, now), t.ID, id, rank)
	if err != nil {
		return fmt.Errorf("restart turn: %w", err)
	}
	return nil
}

func endTurn(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, rank int) error {
	_, err := tx.ExecContext(ctx, `UPDATE application_choice SET turn_until = NULL WHERE tenant_id = ? AND application_id = ? AND rank = ?`,
		tenantID, id, rank)
	if err != nil {
		return fmt.Errorf("end turn: %w", err)
	}
	return nil
}

// Forward hands a cascade request to its next queued choice and starts that one's turn;
// it answers the rank reached, or 0 when no choice is left (the request stays with the
// youth welfare office, in review).
func Forward(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID, actor Actor, now time.Time) (int, error) {
	var rank int
	err := tx.QueryRowContext(ctx, `SELECT rank FROM application_choice WHERE tenant_id = ? AND application_id = ? AND status = ?
		ORDER BY rank LIMIT 1`, t.ID, id, ChoiceQueued).Scan(&rank)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("forward: %w", err)
	}
	if _, _, err := TransitionChoice(ctx, tx, t.ID, id, rank, EventForward, "", now); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE application_choice SET turn_until = ? WHERE tenant_id = ? AND application_id = ? AND rank = ?`,
		TurnEnd(t, now), t.ID, id, rank); err != nil {
		return 0, fmt.Errorf("forward: %w", err)
	}
	return rank, nil
}

// Pass ends choice p's turn (the facility passed, note says why, or its days ran out)
// and forwards the request; it answers the rank reached (0: none left).
func Pass(ctx context.Context, tx bun.IDB, t *tenant.Tenant, p *Placing, actor Actor, note string, now time.Time) (int, error) {
	if _, _, err := TransitionChoice(ctx, tx, t.ID, p.ApplicationID, p.Rank, EventPass, note, now); err != nil {
		return 0, err
	}
	if err := endTurn(ctx, tx, t.ID, p.ApplicationID, p.Rank); err != nil {
		return 0, err
	}
	next, err := Forward(ctx, tx, t, p.ApplicationID, actor, now)
	if err != nil {
		return 0, err
	}
	status := p.Status
	if status == StatusSubmitted {
		// A request the cascade works on is in review from its first pass on.
		if _, status, err = Transition(ctx, tx, t.ID, p.ApplicationID, EventReview, actor, note, now); err != nil {
			return 0, err
		}
	}
	return next, record(ctx, tx, t.ID, p.ApplicationID, actor, status, passNote(p.FacilityName, note, next), now)
}

func passNote(facility, note string, next int) string {
	s := facility + ": passed"
	if note != "" {
		s += " (" + note + ")"
	}
	if next > 0 {
		return fmt.Sprintf("%s; forwarded to choice %d", s, next)
	}
	return s + "; no choice left"
}

// Turn is a cascade choice whose facility's days ran out.
type Turn struct {
	ApplicationID uuid.UUID `bun:"application_id"`
	Rank          int       `bun:"rank"`
}

// TurnsDue lists up to limit cascade turns that ended before now, oldest first.
func TurnsDue(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, now time.Time, limit int) ([]Turn, error) {
	var out []Turn
	err := tx.NewRaw(`SELECT application_id, rank FROM application_choice WHERE tenant_id = ? AND turn_until IS NOT NULL
		AND turn_until <= ? AND status = ANY(?::text[]) ORDER BY turn_until LIMIT ?`,
		tenantID, now, pgdialect.Array(ChoicesFrom(EventPass)), limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("turns due: %w", err)
	}
	return out, nil
}

// Ahead counts the requests ahead of p at p's facility in the city's order (more
// points there, then filed earlier) that still wait for a place there by p's start: a
// facility that passes over them says why.
func Ahead(ctx context.Context, tx bun.IDB, t *tenant.Tenant, p *Placing) (int, error) {
	var rows []struct {
		ID          uuid.UUID         `bun:"id"`
		Criteria    map[string]string `bun:"criteria,type:jsonb"`
		SubmittedAt time.Time         `bun:"submitted_at"`
	}
	err := tx.NewRaw(`SELECT a.id, a.criteria, a.submitted_at FROM application_choice c JOIN application a
		ON a.tenant_id = c.tenant_id AND a.id = c.application_id
		WHERE c.tenant_id = ? AND c.facility_id = ? AND c.status = ANY(?::text[]) AND a.status = ANY(?::text[])
		AND a.id <> ? AND a.start_date <= ? AND a.submitted_at IS NOT NULL`,
		t.ID, p.FacilityID, pgdialect.Array([]ChoiceStatus{ChoicePending, ChoiceInReview}), pgdialect.Array(Deciding),
		p.ApplicationID, p.Start).Scan(ctx, &rows)
	if err != nil {
		return 0, fmt.Errorf("ahead: %w", err)
	}
	ids := make([]uuid.UUID, 0, len(rows))
	for _, r := range rows {
		if hasFacilityClaim(t.Rules, r.Criteria) {
			ids = append(ids, r.ID)
		}
	}
	decided, err := decisionsFor(ctx, tx, t.ID, ids)
	if err != nil {
		return 0, fmt.Errorf("ahead: %w", err)
	}
	n := 0
	for _, r := range rows {
		pts := PointsAt(t.Rules, r.Criteria, p.FacilityID, decided[r.ID]) // as p.Points: what counts at this facility
		if pts > p.Points || (pts == p.Points && p.SubmittedAt != nil && r.SubmittedAt.Before(*p.SubmittedAt)) {
			n++
		}
	}
	return n, nil
}
