// Package round runs central allocation rounds (deferred_acceptance cities, Bochum)
// around the pure engine in internal/allocation: a case worker freezes a round's inputs
// as a snapshot, the worker runs it (the main run, what-ifs on changed inputs,
// follow-ups for freed seats), pages show figures, explanations and comparisons, and a
// published run makes its offers through internal/placement. It owns allocation_round,
// allocation_run and allocation_result.
package round

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/allocation"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/placement"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/tenant"
)

// Round statuses.
const (
	RoundOpen      = "open"
	RoundPublished = "published"
	RoundClosed    = "closed"
)

// Run kinds and statuses.
const (
	KindMain     = "main"
	KindWhatIf   = "what_if"
	KindFollowUp = "follow_up"

	RunQueued     = "queued"
	RunRunning    = "running"
	RunDone       = "done"
	RunFailed     = "failed"
	RunPublishing = "publishing"
	RunPublished  = "published"
)

// Tasks of the worker.
const (
	TaskRun     = "allocation:run"
	TaskPublish = "allocation:publish"
	// TaskFollowUpSweep starts the automatic follow-up runs (FollowUpSpec).
	TaskFollowUpSweep = "allocation:follow_up_sweep"
)

// Audit actions.
const (
	ActionCreated   = "round.created"
	ActionRefrozen  = "round.refrozen"
	ActionRunQueued = "round.run_queued"
	ActionChanged   = "round.result_changed"
	ActionPublished = "round.published"
)

// Errors, in the user's words through their codes.
var (
	ErrNotCentral  = apperr.Conflict("round_not_central")
	ErrNotFound    = apperr.NotFound("round_not_found")
	ErrPeriodTaken = apperr.Conflict("round_period_taken")
	ErrBusy        = apperr.Conflict("round_run_busy")
	ErrNotOpen     = apperr.Conflict("round_not_open")
	ErrStale       = apperr.Conflict("round_run_stale")
	ErrNotDone     = apperr.Conflict("round_run_not_done")
	ErrNoSeatLeft  = apperr.Conflict("round_change_no_seat")
)

// Round is a round without its snapshot.
type Round struct {
	bun.BaseModel   `bun:"table:allocation_round"`
	TenantID        uuid.UUID  `bun:"tenant_id" json:"-"`
	ID              uuid.UUID  `bun:"id" json:"id"`
	Name            string     `bun:"name" json:"name"`
	StartFrom       date.Date  `bun:"start_from" json:"start_from"`
	StartUntil      date.Date  `bun:"start_until" json:"start_until"`
	CutOff          time.Time  `bun:"cut_off" json:"cut_off"`
	Seed            int64      `bun:"seed" json:"seed"`
	Status          string     `bun:"status" json:"status"`
	SnapshotVersion int        `bun:"snapshot_version" json:"snapshot_version"`
	Requests        int        `bun:"requests" json:"requests"`
	Facilities      int        `bun:"facilities" json:"facilities"`
	Seats           int        `bun:"seats" json:"seats"`
	FrozenAt        time.Time  `bun:"frozen_at" json:"frozen_at"`
	CreatedBy       uuid.UUID  `bun:"created_by" json:"-"`
	CreatedAt       time.Time  `bun:"created_at" json:"created_at"`
	PublishedRun    *uuid.UUID `bun:"published_run" json:"published_run,omitempty"`
	PublishedAt     *time.Time `bun:"published_at" json:"published_at,omitempty"`
	// snapshot is written once by Create; reads leave it out.
	Snapshot []byte `bun:"snapshot" json:"-"`
	// SeatTable is the snapshot's seats, kept beside it for the round's page.
	SeatTable map[string]map[allocation.SeatType]int `bun:"seat_table,type:jsonb" json:"-"`
}

// CutOffDay is the last day whose requests take part.
func (r *Round) CutOffDay() date.Date { return date.In(r.CutOff.Add(-time.Nanosecond)) }

// Last is the period's last start month.
func (r *Round) Last() date.Date { return r.StartUntil.AddMonths(-1) }

// Run is one run of a round.
type Run struct {
	bun.BaseModel   `bun:"table:allocation_run"`
	TenantID        uuid.UUID           `bun:"tenant_id" json:"-"`
	ID              uuid.UUID           `bun:"id" json:"id"`
	RoundID         uuid.UUID           `bun:"round_id" json:"round_id"`
	Kind            string              `bun:"kind" json:"kind"`
	Label           string              `bun:"label" json:"label"`
	Changes         Changes             `bun:"changes,type:jsonb" json:"changes"`
	SnapshotVersion int                 `bun:"snapshot_version" json:"snapshot_version"`
	Status          string              `bun:"status" json:"status"`
	Phase           string              `bun:"phase" json:"phase"`
	Figures         Figures             `bun:"figures,type:jsonb" json:"figures"`
	Error           string              `bun:"error" json:"error,omitempty"`
	Refused         []placement.Refusal `bun:"refused,type:jsonb" json:"refused,omitempty"`
	// AutoPublish: started by the follow-up sweep, published when done.
	AutoPublish bool       `bun:"auto_publish" json:"auto_publish"`
	CreatedBy   uuid.UUID  `bun:"created_by" json:"-"` // uuid.Nil: the system
	CreatedAt   time.Time  `bun:"created_at" json:"created_at"`
	StartedAt   *time.Time `bun:"started_at" json:"started_at,omitempty"`
	FinishedAt  *time.Time `bun:"finished_at" json:"finished_at,omitempty"`
	PublishedAt *time.Time `bun:"published_at" json:"published_at,omitempty"`
}

// Busy tells whether the worker has the run (the page reloads itself).
func (r *Run) Busy() bool {
	return r.Status == RunQueued || r.Status == RunRunning || r.Status == RunPublishing
}

// Figures are a finished run's numbers.
type Figures struct {
	Requests    int `json:"requests"`
	Placed      int `json:"placed"`
	FirstChoice int `json:"first_choice"`
	Unplaced    int `json:"unplaced"`
	Apart       int `json:"apart"`
	Seats       int `json:"seats"`
	SeatsLeft   int `json:"seats_left"`
	Changed     int `json:"changed"`
	// Left are the seats left empty per facility id and seat type (only those > 0).
	Left map[string]map[string]int `json:"left,omitempty"`
	// Milliseconds of each phase.
	LoadMS  int64 `json:"load_ms"`
	MatchMS int64 `json:"match_ms"`
	SaveMS  int64 `json:"save_ms"`
}

// Share is part of the run's requests in whole percent, for the pages.
func (f Figures) Share(part int) int {
	if f.Requests == 0 {
		return 0
	}
	return part * 100 / f.Requests
}

// Service is the rounds of the case workers.
type Service struct {
	db     *bun.DB
	clock  clock.Clock
	places *placement.Service
}

// NewService returns the service; places makes a published round's offers.
func NewService(db *bun.DB, c clock.Clock, places *placement.Service) *Service {
	return &Service{db: db, clock: c, places: places}
}

func (s *Service) inTx(ctx context.Context, tenantID uuid.UUID, fn func(ctx context.Context, tx bun.Tx) error) error {
	return database.Classify(database.InTenantTx(ctx, s.db, tenantID, fn))
}

// NewRound is what the form asks: a name, the start months [From, Until) and the day
// requests must have been filed by (the end of it in Germany).
type NewRound struct {
	Name   string
	From   date.Date
	Until  date.Date
	CutOff date.Date
}

// MaxPeriodMonths bounds a round's period.
const MaxPeriodMonths = 12

// Create freezes a new round. Refused: a city in another mode, a period overlapping an
// open round, a period in the past or of more than a Kita year.
func (s *Service) Create(ctx context.Context, c auth.Caller, in NewRound) (*Round, error) {
	t := c.Tenant
	if t.Rules.Allocation.Mode != tenant.ModeDeferredAcceptance {
		return nil, ErrNotCentral
	}
	name, err := auth.FreeText("name", in.Name, 1, 120)
	if err != nil {
		return nil, err
	}
	today := date.In(s.clock.Now())
	var problems apperr.List
	switch {
	case in.From.IsZero():
		problems = append(problems, apperr.Invalid("from", "round_from_required", nil))
	case in.From.Before(today.FirstOfMonth()):
		problems = append(problems, apperr.Invalid("from", "round_from_past", nil))
	}
	switch {
	case in.Until.IsZero() || !in.Until.After(in.From):
		problems = append(problems, apperr.Invalid("until", "round_until_before_from", nil))
	case in.From.MonthsUntil(in.Until) > MaxPeriodMonths:
		problems = append(problems, apperr.Invalid("until", "round_period_too_long", map[string]any{"max": MaxPeriodMonths}))
	}
	if in.CutOff.IsZero() {
		in.CutOff = today
	}
	if len(problems) > 0 {
		return nil, problems
	}
	from, until := in.From.FirstOfMonth(), in.Until.FirstOfMonth()
	next := in.CutOff.AddDays(1).Time()
	cutOff := time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, clock.Berlin) // the end of the day in Germany
	seed := newSeed()
	snap, err := freeze(ctx, s.db, t, from, until, cutOff, seed)
	if err != nil {
		return nil, err
	}
	blob, err := snap.Encode()
	if err != nil {
		return nil, err
	}
	r := &Round{TenantID: t.ID, ID: uuid.Must(uuid.NewV7()), Name: name, StartFrom: from, StartUntil: until, CutOff: cutOff,
		Seed: seed, Status: RoundOpen, SnapshotVersion: 1, Requests: len(snap.Requests), Facilities: len(snap.Seats),
		Seats: snap.SeatCount(), FrozenAt: s.clock.Now(), CreatedBy: c.Principal.ID, CreatedAt: s.clock.Now(), Snapshot: blob,
		SeatTable: snap.Seats}
	err = s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionCreated, ObjectKind: "allocation_round", ObjectID: r.ID.String(),
			Details: map[string]any{"name": name, "from": from.String(), "until": until.String(), "requests": r.Requests, "seats": r.Seats, "seed": seed}})
	})
	r.Snapshot, r.SeatTable = nil, nil
	if database.IsExclusionViolation(err, "allocation_round_one_per_period") {
		return nil, ErrPeriodTaken
	}
	return r, err
}

func newSeed() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on a working system
	}
	return int64(binary.BigEndian.Uint64(b[:]) >> 1)
}

// freeze reads a snapshot in a transaction of its own at REPEATABLE READ.
func freeze(ctx context.Context, db *bun.DB, t *tenant.Tenant, from, until date.Date, cutOff time.Time, seed int64) (*Snapshot, error) {
	var snap *Snapshot
	err := database.InTenantSnapshot(ctx, db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		snap, err = Freeze(ctx, tx, t, from, until, cutOff, seed)
		return err
	})
	return snap, database.Classify(err)
}

// Refreeze takes the inputs afresh (requests filed or withdrawn since, seats changed):
// the round's runs so far can no longer be published. Not while a run is busy.
func (s *Service) Refreeze(ctx context.Context, c auth.Caller, id uuid.UUID) (*Round, error) {
	t := c.Tenant
	r, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if r.Status != RoundOpen {
		return nil, ErrNotOpen
	}
	snap, err := freeze(ctx, s.db, t, r.StartFrom, r.StartUntil, r.CutOff, r.Seed)
	if err != nil {
		return nil, err
	}
	blob, err := snap.Encode()
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := lockRound(ctx, tx, t.ID, id, r); err != nil {
			return err
		}
		if r.Status != RoundOpen {
			return ErrNotOpen
		}
		busy, err := runBusy(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		if busy {
			return ErrBusy
		}
		seatTable, err := json.Marshal(snap.Seats)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE allocation_round SET snapshot = ?, seat_table = ?, snapshot_version = snapshot_version + 1,
			requests = ?, facilities = ?, seats = ?, frozen_at = ? WHERE tenant_id = ? AND id = ?`,
			blob, string(seatTable), len(snap.Requests), len(snap.Seats), snap.SeatCount(), s.clock.Now(), t.ID, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionRefrozen, ObjectKind: "allocation_round", ObjectID: id.String(),
			Details: map[string]any{"requests": len(snap.Requests), "seats": snap.SeatCount()}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, c, id)
}

func lockRound(ctx context.Context, tx bun.Tx, tenantID, id uuid.UUID, into *Round) error {
	err := tx.NewSelect().Model(into).ExcludeColumn("snapshot", "seat_table").Where("tenant_id = ? AND id = ?", tenantID, id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func runBusy(ctx context.Context, tx bun.IDB, tenantID, roundID uuid.UUID) (bool, error) {
	return tx.NewSelect().Table("allocation_run").Where("tenant_id = ? AND round_id = ? AND status IN (?)", tenantID, roundID,
		bun.In([]string{RunQueued, RunRunning, RunPublishing})).Exists(ctx)
}

// StartRun queues a run of the round: the main run, a what-if with changes, or a
// follow-up for the seats a published round got back. One run of a round at a time.
func (s *Service) StartRun(ctx context.Context, c auth.Caller, roundID uuid.UUID, kind, label string, ch Changes) (*Run, error) {
	label, err := auth.FreeText("label", label, 0, 200)
	if err != nil {
		return nil, err
	}
	run := &Run{TenantID: c.Tenant.ID, ID: uuid.Must(uuid.NewV7()), RoundID: roundID, Kind: kind, Label: label, Changes: ch,
		Status: RunQueued, CreatedBy: c.Principal.ID, CreatedAt: s.clock.Now(), Refused: []placement.Refusal{}}
	err = s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return s.queueRun(ctx, tx, run, audit.By(c))
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

// queueRun inserts run into its round (which must allow its kind) and hands it to
// the worker, in the caller's transaction.
func (s *Service) queueRun(ctx context.Context, tx bun.Tx, run *Run, by audit.Actor) error {
	var r Round
	if err := lockRound(ctx, tx, run.TenantID, run.RoundID, &r); err != nil {
		return err
	}
	switch {
	case run.Kind == KindFollowUp && r.Status != RoundPublished:
		return ErrNotOpen
	case run.Kind != KindFollowUp && r.Status != RoundOpen:
		return ErrNotOpen
	}
	run.SnapshotVersion = r.SnapshotVersion
	if _, err := tx.NewInsert().Model(run).Exec(ctx); err != nil {
		if database.IsUniqueViolation(err, "allocation_run_one_at_a_time") {
			return ErrBusy
		}
		return err
	}
	tid := run.TenantID
	if err := outbox.Add(ctx, tx, outbox.Message{Type: TaskRun, Payload: task{TenantID: tid, RunID: run.ID}, TenantID: &tid,
		Queue: "low", MaxRetry: 3}); err != nil {
		return err
	}
	return audit.Record(ctx, tx, tid, by, audit.Event{Action: ActionRunQueued, ObjectKind: "allocation_run", ObjectID: run.ID.String(),
		Details: map[string]any{"round": run.RoundID, "kind": run.Kind, "label": run.Label, "changes": run.Changes, "auto_publish": run.AutoPublish}})
}

// task is the payload of TaskRun and TaskPublish.
type task struct {
	TenantID uuid.UUID `json:"tenant_id"`
	RunID    uuid.UUID `json:"run_id"`
	By       uuid.UUID `json:"by,omitempty"`
}

// Get reads one round of the caller's city.
func (s *Service) Get(ctx context.Context, c auth.Caller, id uuid.UUID) (*Round, error) {
	var r Round
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Model(&r).ExcludeColumn("snapshot", "seat_table").Where("tenant_id = ? AND id = ?", c.Tenant.ID, id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	return &r, err
}

// Rounds lists the city's rounds, newest first.
func (s *Service) Rounds(ctx context.Context, c auth.Caller) ([]Round, error) {
	var out []Round
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&out).ExcludeColumn("snapshot", "seat_table").Where("tenant_id = ?", c.Tenant.ID).Order("created_at DESC").Scan(ctx)
	})
	return out, err
}

// Runs lists a round's runs, newest first.
func (s *Service) Runs(ctx context.Context, c auth.Caller, roundID uuid.UUID) ([]Run, error) {
	var out []Run
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&out).Where("tenant_id = ? AND round_id = ?", c.Tenant.ID, roundID).Order("created_at DESC").Scan(ctx)
	})
	return out, err
}

// GetRun reads one run of the caller's city.
func (s *Service) GetRun(ctx context.Context, c auth.Caller, id uuid.UUID) (*Run, error) {
	var r Run
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return getRun(ctx, tx, c.Tenant.ID, id, &r, false)
	})
	return &r, err
}

func getRun(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, into *Run, lock bool) error {
	q := tx.NewSelect().Model(into).Where("tenant_id = ? AND id = ?", tenantID, id)
	if lock {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// Publish hands a finished run to the worker, which makes its offers in one
// transaction: all of them, or none and the refused requests listed on the run.
func (s *Service) Publish(ctx context.Context, c auth.Caller, runID uuid.UUID) (*Run, error) {
	t := c.Tenant
	var run Run
	err := s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := getRun(ctx, tx, t.ID, runID, &run, false); err != nil {
			return err
		}
		var r Round
		if err := lockRound(ctx, tx, t.ID, run.RoundID, &r); err != nil {
			return err
		}
		if err := getRun(ctx, tx, t.ID, runID, &run, true); err != nil {
			return err
		}
		if err := publishable(&r, &run); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE allocation_run SET status = ?, refused = '[]' WHERE tenant_id = ? AND id = ?`,
			RunPublishing, t.ID, runID); err != nil {
			if database.IsUniqueViolation(err, "allocation_run_one_at_a_time") {
				return ErrBusy
			}
			return err
		}
		tid := t.ID
		return outbox.Add(ctx, tx, outbox.Message{Type: TaskPublish, Payload: task{TenantID: tid, RunID: runID, By: c.Principal.ID},
			TenantID: &tid, Queue: "low", MaxRetry: 3})
	})
	if err != nil {
		return nil, err
	}
	run.Status = RunPublishing
	return &run, nil
}

// publishable: a finished run of the snapshot in force, of an open round (a follow-up:
// of a published one).
func publishable(r *Round, run *Run) error {
	switch {
	case run.Status != RunDone:
		return ErrNotDone
	case run.SnapshotVersion != r.SnapshotVersion:
		return ErrStale
	case run.Kind == KindFollowUp && r.Status != RoundPublished:
		return ErrNotOpen
	case run.Kind != KindFollowUp && r.Status != RoundOpen:
		return ErrNotOpen
	}
	return nil
}
