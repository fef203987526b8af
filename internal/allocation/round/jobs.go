package round

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/allocation"
	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/placement"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/tenant"
)

// Jobs runs and publishes rounds in the worker.
type Jobs struct {
	s       *Service
	tenants *tenant.Registry
	log     *slog.Logger
}

// NewJobs returns the handlers of TaskRun and TaskPublish.
func NewJobs(s *Service, tenants *tenant.Registry, log *slog.Logger) *Jobs {
	return &Jobs{s: s, tenants: tenants, log: log}
}

func (j *Jobs) decode(ctx context.Context, t *asynq.Task) (*tenant.Tenant, task, error) {
	var p task
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return nil, p, fmt.Errorf("%s: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	tn, err := j.tenants.Lookup(ctx, p.TenantID)
	if errors.Is(err, tenant.ErrUnknownTenant) {
		return nil, p, fmt.Errorf("%s: unknown tenant: %w", t.Type(), asynq.SkipRetry)
	}
	return tn, p, err
}

// HandleRun is the asynq handler of TaskRun.
func (j *Jobs) HandleRun(ctx context.Context, t *asynq.Task) error {
	tn, p, err := j.decode(ctx, t)
	if err != nil {
		return err
	}
	return j.Run(ctx, tn, p.RunID)
}

// HandlePublish is the asynq handler of TaskPublish.
func (j *Jobs) HandlePublish(ctx context.Context, t *asynq.Task) error {
	tn, p, err := j.decode(ctx, t)
	if err != nil {
		return err
	}
	return j.Publish(ctx, tn, p.RunID, p.By)
}

// Run does run id: load the snapshot (a follow-up: less the seats and requests its
// round's offers took), apply the run's changes, match, explain, and store the result
// rows and figures in one transaction that first checks the snapshot is still the one
// the run was queued on. A run found finished (an earlier delivery) is left alone.
func (j *Jobs) Run(ctx context.Context, t *tenant.Tenant, id uuid.UUID) error {
	began := j.s.clock.Now()
	var run Run
	var blob []byte
	err := j.s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := getRun(ctx, tx, t.ID, id, &run, true); err != nil {
			return err
		}
		if run.Status != RunQueued && run.Status != RunRunning {
			return nil
		}
		var version int
		if err := tx.QueryRowContext(ctx, `SELECT snapshot, snapshot_version FROM allocation_round WHERE tenant_id = ? AND id = ?`,
			t.ID, run.RoundID).Scan(&blob, &version); err != nil {
			return err
		}
		if version != run.SnapshotVersion {
			blob = nil
			return j.fail(ctx, tx, t.ID, id, ErrStale.Code)
		}
		_, err := tx.ExecContext(ctx, `UPDATE allocation_run SET status = ?, phase = 'loading', started_at = ? WHERE tenant_id = ? AND id = ?`,
			RunRunning, began, t.ID, id)
		return err
	})
	if errors.Is(err, ErrNotFound) || (err == nil && blob == nil) {
		return nil
	}
	if err != nil {
		return err
	}
	snap, err := Decode(blob)
	if err != nil {
		return j.failNow(ctx, t.ID, id, "round_snapshot_unreadable")
	}
	blob = nil
	if run.Kind == KindFollowUp {
		if err := j.s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
			return followUp(ctx, tx, t.ID, run.RoundID, snap)
		}); err != nil {
			return err
		}
	}
	m := snap.Market(run.Changes)
	if err := m.Validate(); err != nil {
		j.log.Error("allocation run: invalid market", "tenant", t.Slug, "run", id, "err", err)
		return j.failNow(ctx, t.ID, id, "round_market_invalid")
	}
	loaded := j.s.clock.Now()
	j.phase(ctx, t.ID, id, "matching")
	res := allocation.Run(m)
	whys := snap.explain(m, res)
	matched := j.s.clock.Now()
	j.phase(ctx, t.ID, id, "saving")
	list := make([]Why, 0, len(whys))
	for _, w := range whys {
		list = append(list, w)
	}
	fig := figures(m, list)
	fig.LoadMS, fig.MatchMS = loaded.Sub(began).Milliseconds(), matched.Sub(loaded).Milliseconds()
	err = j.s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var version int
		if err := tx.QueryRowContext(ctx, `SELECT snapshot_version FROM allocation_round WHERE tenant_id = ? AND id = ? FOR SHARE`,
			t.ID, run.RoundID).Scan(&version); err != nil {
			return err
		}
		if version != run.SnapshotVersion {
			return j.fail(ctx, tx, t.ID, id, ErrStale.Code) // refrozen under the run: nothing of it is kept
		}
		if err := saveResults(ctx, tx, t.ID, id, whys); err != nil {
			return err
		}
		fig.SaveMS = j.s.clock.Now().Sub(matched).Milliseconds()
		status := RunDone
		if run.AutoPublish && fig.Placed > 0 {
			// The sweep's follow-up: its offers go out without waiting for anyone.
			status = RunPublishing
			tid := t.ID
			if err := outbox.Add(ctx, tx, outbox.Message{Type: TaskPublish, Payload: task{TenantID: tid, RunID: id},
				TenantID: &tid, Queue: "low", MaxRetry: 3}); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE allocation_run SET status = ?, phase = '', figures = ?, finished_at = ? WHERE tenant_id = ? AND id = ?`,
			status, fig, j.s.clock.Now(), t.ID, id)
		return err
	})
	if err == nil {
		j.log.Info("allocation run done", "tenant", t.Slug, "run", id, "requests", fig.Requests, "placed", fig.Placed,
			"load_ms", fig.LoadMS, "match_ms", fig.MatchMS, "save_ms", fig.SaveMS)
	}
	return err
}

// phase shows the page where the run is; a failure to say so does not stop the run.
func (j *Jobs) phase(ctx context.Context, tenantID, id uuid.UUID, phase string) {
	if err := j.s.inTx(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE allocation_run SET phase = ? WHERE tenant_id = ? AND id = ?`, phase, tenantID, id)
		return err
	}); err != nil {
		j.log.Warn("allocation run: phase", "run", id, "err", err)
	}
}

func (j *Jobs) fail(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, code string) error {
	_, err := tx.ExecContext(ctx, `UPDATE allocation_run SET status = ?, phase = '', error = ?, finished_at = ? WHERE tenant_id = ? AND id = ?`,
		RunFailed, code, j.s.clock.Now(), tenantID, id)
	return err
}

func (j *Jobs) failNow(ctx context.Context, tenantID, id uuid.UUID, code string) error {
	return j.s.inTx(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error { return j.fail(ctx, tx, tenantID, id, code) })
}

// saveBatch bounds the rows of one insert statement.
const saveBatch = 20_000

// saveResults writes one row per request, in batches of arrays unnested by the server.
func saveResults(ctx context.Context, tx bun.Tx, tenantID, runID uuid.UUID, whys map[string]Why) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM allocation_result WHERE tenant_id = ? AND run_id = ?`, tenantID, runID); err != nil {
		return err
	}
	ids := make([]string, 0, len(whys))
	for id := range whys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for from := 0; from < len(ids); from += saveBatch {
		part := ids[from:min(from+saveBatch, len(ids))]
		facilities, choices, seats, why := make([]string, len(part)), make([]int, len(part)), make([]string, len(part)), make([]string, len(part))
		for i, id := range part {
			w := whys[id]
			b, err := json.Marshal(w)
			if err != nil {
				return err
			}
			facilities[i], choices[i], seats[i], why[i] = w.Placed, w.Choice, w.Seat, string(b)
		}
		// Through the driver with bound parameters, not bun's formatting: the arrays
		// travel as binary parameters instead of a query text of many megabytes.
		if _, err := tx.Tx.ExecContext(ctx, `INSERT INTO allocation_result (tenant_id, run_id, application_id, facility_id, engine_facility, choice, seat, engine_seat, why)
			SELECT $1, $2, u.a::uuid, nullif(u.f, '')::uuid, nullif(u.f, '')::uuid, u.c, u.s, u.s, u.w::jsonb
			FROM unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::text[]) AS u(a, f, c, s, w)`,
			tenantID, runID, part, facilities, choices, seats, why); err != nil {
			return fmt.Errorf("round: save results: %w", err)
		}
	}
	return nil
}

// figures counts a run's outcome and the seats it leaves empty.
func figures(m *allocation.Market, whys []Why) Figures {
	f := Figures{Requests: len(whys), Left: map[string]map[string]int{}}
	held := map[string]map[string]int{}
	for _, w := range whys {
		switch {
		case w.Placed == "":
			f.Unplaced++
		default:
			f.Placed++
			if w.Choice == 1 {
				f.FirstChoice++
			}
			if held[w.Placed] == nil {
				held[w.Placed] = map[string]int{}
			}
			held[w.Placed][w.Seat]++
		}
		if w.Apart {
			f.Apart++
		}
	}
	for _, fac := range m.Facilities {
		for t, n := range fac.Seats {
			f.Seats += n
			if left := n - held[fac.ID][string(t)]; left > 0 {
				if f.Left[fac.ID] == nil {
					f.Left[fac.ID] = map[string]int{}
				}
				f.Left[fac.ID][string(t)] = left
				f.SeatsLeft += left
			}
		}
	}
	return f
}

// followUp narrows the snapshot to what a follow-up run can still give: the requests
// that got no offer from the round and still wait, and the seats less those the
// round's offers still hold (open, accepted or contracted; a declined or expired offer
// gives its seat back, and its request is out of the round).
func followUp(ctx context.Context, tx bun.Tx, tenantID, roundID uuid.UUID, s *Snapshot) error {
	var rows []struct {
		Application uuid.UUID `bun:"application_id"`
		Facility    uuid.UUID `bun:"facility_id"`
		Seat        string    `bun:"seat"`
		Holding     bool      `bun:"holding"`
	}
	if err := tx.NewRaw(`SELECT r.application_id, r.facility_id, r.seat,
			o.status IN ('proposed', 'prepared', 'reserved', 'open', 'accepted', 'contracted') AS holding
		FROM allocation_result r
		JOIN allocation_run n ON n.tenant_id = r.tenant_id AND n.id = r.run_id
		JOIN offer o ON o.tenant_id = r.tenant_id AND o.id = r.offer_id
		WHERE r.tenant_id = ? AND n.round_id = ? AND n.status = ?`, tenantID, roundID, RunPublished).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("round: follow-up offers: %w", err)
	}
	offered := map[string]bool{}
	for _, r := range rows {
		offered[r.Application.String()] = true
		if r.Holding {
			byType := s.Seats[r.Facility.String()]
			t := allocation.SeatType(r.Seat)
			if byType != nil && byType[t] > 0 {
				byType[t]--
			}
		}
	}
	ids := make([]string, 0, len(s.Requests))
	for _, q := range s.Requests {
		ids = append(ids, q.ID)
	}
	var waiting []uuid.UUID
	if err := tx.NewRaw(`SELECT id FROM application WHERE tenant_id = ? AND id = ANY(?::uuid[]) AND status = ANY(?::text[])`,
		tenantID, pgdialect.Array(ids), pgdialect.Array(application.Deciding)).Scan(ctx, &waiting); err != nil {
		return fmt.Errorf("round: follow-up requests: %w", err)
	}
	still := map[string]bool{}
	for _, id := range waiting {
		still[id.String()] = true
	}
	s.Requests = slices.DeleteFunc(s.Requests, func(q Request) bool { return offered[q.ID] || !still[q.ID] })
	return nil
}

// errRefused rolls a publish back when an award cannot be made.
var errRefused = errors.New("round: publish refused")

// Publish makes the offers of run id in one transaction. When any request cannot get
// its seat (withdrawn, placed elsewhere, the seat gone), nothing is published: the run
// goes back to done with the refusals listed, and the case worker refreezes or changes.
func (j *Jobs) Publish(ctx context.Context, t *tenant.Tenant, id, by uuid.UUID) error {
	now := j.s.clock.Now()
	var refused []placement.Refusal
	var run Run
	err := j.s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := getRun(ctx, tx, t.ID, id, &run, false); err != nil {
			return err
		}
		var r Round
		if err := lockRound(ctx, tx, t.ID, run.RoundID, &r); err != nil {
			return err
		}
		if err := getRun(ctx, tx, t.ID, id, &run, true); err != nil {
			return err
		}
		if run.Status != RunPublishing {
			return nil // published or refused by an earlier delivery
		}
		var awards []struct {
			Application uuid.UUID `bun:"application_id"`
			Rank        int       `bun:"rank"`
		}
		if err := tx.NewRaw(`SELECT application_id, (why->>'rank')::int AS rank FROM allocation_result
			WHERE tenant_id = ? AND run_id = ? AND facility_id IS NOT NULL ORDER BY application_id`, t.ID, id).Scan(ctx, &awards); err != nil {
			return err
		}
		list := make([]placement.Award, len(awards))
		for i, a := range awards {
			list[i] = placement.Award{ApplicationID: a.Application, Rank: a.Rank}
		}
		offers, ref, err := j.s.places.Award(ctx, tx, t, by, list, now)
		if err != nil {
			return err
		}
		if len(ref) > 0 {
			refused = ref
			return errRefused
		}
		apps, offerIDs := make([]string, 0, len(offers)), make([]string, 0, len(offers))
		for a, o := range offers {
			apps, offerIDs = append(apps, a.String()), append(offerIDs, o.String())
		}
		if _, err := tx.ExecContext(ctx, `UPDATE allocation_result r SET offer_id = u.o FROM unnest(?::uuid[], ?::uuid[]) AS u(a, o)
			WHERE r.tenant_id = ? AND r.run_id = ? AND r.application_id = u.a`, pgdialect.Array(apps), pgdialect.Array(offerIDs), t.ID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE allocation_run SET status = ?, published_at = ? WHERE tenant_id = ? AND id = ?`,
			RunPublished, now, t.ID, id); err != nil {
			return err
		}
		if r.Status == RoundOpen {
			if _, err := tx.ExecContext(ctx, `UPDATE allocation_round SET status = ?, published_run = ?, published_at = ? WHERE tenant_id = ? AND id = ?`,
				RoundPublished, id, now, t.ID, r.ID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, t.ID, actorOf(by), audit.Event{Action: ActionPublished,
			ObjectKind: "allocation_run", ObjectID: id.String(), Details: map[string]any{"round": r.ID, "kind": run.Kind, "offers": len(offers)}})
	})
	if errors.Is(err, errRefused) {
		return j.s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
			b, _ := json.Marshal(refused)
			_, err := tx.ExecContext(ctx, `UPDATE allocation_run SET status = ?, refused = ?::jsonb, error = 'round_publish_refused'
				WHERE tenant_id = ? AND id = ? AND status = ?`, RunDone, string(b), t.ID, id, RunPublishing)
			return err
		})
	}
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return database.Classify(err)
}

// actorOf is who publishes: a case worker, or the system (uuid.Nil) for the sweep's
// follow-up runs.
func actorOf(by uuid.UUID) audit.Actor {
	if by == uuid.Nil {
		return audit.Actor{Kind: "system"}
	}
	return audit.Actor{Kind: "staff", ID: by}
}

// FollowUpSpec is how often the follow-up sweep looks for freed seats.
const FollowUpSpec = "@every 5m"

// HandleFollowUpSweep is the asynq handler of TaskFollowUpSweep: in every city whose
// rules say allocation.auto_follow_up, a published round whose offers were declined,
// expired or withdrawn since its last run gets a follow-up run that publishes itself.
func (j *Jobs) HandleFollowUpSweep(ctx context.Context, _ *asynq.Task) error {
	if err := j.tenants.Reload(ctx); err != nil {
		return err
	}
	for _, t := range j.tenants.All() {
		if t.Rules.Allocation.Mode != tenant.ModeDeferredAcceptance || !t.Rules.Allocation.AutoFollowUp {
			continue
		}
		if _, err := j.FollowUpSweep(ctx, t); err != nil {
			j.log.Error("allocation follow-up sweep", "tenant", t.Slug, "err", err)
		}
	}
	return nil
}

// FollowUpSweep queues the follow-up runs of t's published rounds with freed seats and
// returns how many.
func (j *Jobs) FollowUpSweep(ctx context.Context, t *tenant.Tenant) (int, error) {
	var rounds []uuid.UUID
	err := j.s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT d.id FROM allocation_round d
			WHERE d.tenant_id = ? AND d.status = ?
			  AND NOT EXISTS (SELECT 1 FROM allocation_run b WHERE b.tenant_id = d.tenant_id AND b.round_id = d.id AND b.status IN (?, ?, ?))
			  AND EXISTS (SELECT 1 FROM allocation_result r
				JOIN allocation_run n ON n.tenant_id = r.tenant_id AND n.id = r.run_id AND n.round_id = d.id AND n.status = ?
				JOIN offer o ON o.tenant_id = r.tenant_id AND o.id = r.offer_id AND o.status IN ('declined', 'expired', 'withdrawn')
				WHERE r.tenant_id = d.tenant_id
				  AND o.updated_at > (SELECT max(l.created_at) FROM allocation_run l WHERE l.tenant_id = d.tenant_id AND l.round_id = d.id))
			ORDER BY d.id`, t.ID, RoundPublished, RunQueued, RunRunning, RunPublishing, RunPublished).Scan(ctx, &rounds)
	})
	if err != nil {
		return 0, err
	}
	started := 0
	for _, id := range rounds {
		run := &Run{TenantID: t.ID, ID: uuid.Must(uuid.NewV7()), RoundID: id, Kind: KindFollowUp, AutoPublish: true,
			Status: RunQueued, CreatedAt: j.s.clock.Now(), Refused: []placement.Refusal{}}
		err := j.s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
			return j.s.queueRun(ctx, tx, run, audit.Actor{Kind: "system"})
		})
		switch {
		case errors.Is(err, ErrBusy), errors.Is(err, ErrNotOpen):
			// a case worker was quicker; the next sweep looks again
		case err != nil:
			return started, err
		default:
			started++
		}
	}
	return started, nil
}
