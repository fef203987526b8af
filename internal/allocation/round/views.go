package round

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/allocation"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/provider"
)

// Result is one request's row of a run as the pages show it.
type Result struct {
	ApplicationID  uuid.UUID  `bun:"application_id" json:"application_id"`
	FacilityID     *uuid.UUID `bun:"facility_id" json:"facility_id"`
	EngineFacility *uuid.UUID `bun:"engine_facility" json:"engine_facility"`
	Choice         int        `bun:"choice" json:"choice"`
	Seat           string     `bun:"seat" json:"seat"`
	Why            Why        `bun:"why,type:jsonb" json:"why"`
	ChangedReason  *string    `bun:"changed_reason" json:"changed_reason,omitempty"`
	ChangedAt      *time.Time `bun:"changed_at" json:"changed_at,omitempty"`
	OfferID        *uuid.UUID `bun:"offer_id" json:"offer_id,omitempty"`
	Reference      string     `bun:"reference" json:"reference"`
	FirstName      string     `bun:"first_name" json:"first_name"`
	LastName       string     `bun:"last_name" json:"last_name"`
	ChildID        uuid.UUID  `bun:"child_id" json:"-"`
	// Facility is the name of FacilityID.
	Facility string `bun:"-" json:"facility,omitempty"`
}

// Filters of the results list.
const (
	ShowAll      = ""
	ShowUnplaced = "unplaced"
	ShowChanged  = "changed"
	ShowApart    = "apart"
	ShowNotFirst = "not_first"
)

// PageSize is the results list's page.
const PageSize = 50

// resultRows reads results of a run with the request's reference and the child's
// name; where adds a condition.
func resultRows(ctx context.Context, tx bun.IDB, tenantID, runID uuid.UUID, where string, limit, offset int, args ...any) ([]Result, error) {
	var out []Result
	q := `SELECT r.application_id, r.facility_id, r.engine_facility, r.choice, r.seat, r.why, r.changed_reason, r.changed_at, r.offer_id,
			coalesce(a.reference, '') AS reference, c.first_name, c.last_name, c.id AS child_id
		FROM allocation_result r
		JOIN application a ON a.tenant_id = r.tenant_id AND a.id = r.application_id
		JOIN child c ON c.tenant_id = a.tenant_id AND c.id = a.child_id
		WHERE r.tenant_id = ? AND r.run_id = ?` + where + ` ORDER BY a.reference, r.application_id`
	all := append([]any{tenantID, runID}, args...)
	if limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		all = append(all, limit, offset)
	}
	err := tx.NewRaw(q, all...).Scan(ctx, &out)
	return out, err
}

func filterSQL(show string) string {
	switch show {
	case ShowUnplaced:
		return ` AND r.facility_id IS NULL`
	case ShowChanged:
		return ` AND r.changed_at IS NOT NULL`
	case ShowApart:
		return ` AND (r.why->>'apart')::boolean`
	case ShowNotFirst:
		return ` AND r.choice <> 1`
	}
	return ""
}

// Results is one page of a run's results, filtered, with the facility names.
func (s *Service) Results(ctx context.Context, c auth.Caller, runID uuid.UUID, show string, page int) ([]Result, map[uuid.UUID]string, error) {
	var rows []Result
	var names map[uuid.UUID]string
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		rows, err = resultRows(ctx, tx, c.Tenant.ID, runID, filterSQL(show), PageSize, max(page-1, 0)*PageSize)
		if err != nil {
			return err
		}
		names, err = namesOf(ctx, tx, c.Tenant.ID, rows)
		return err
	})
	return rows, names, err
}

// allResults is every row of a run with the facilities' names.
func (s *Service) allResults(ctx context.Context, c auth.Caller, runID uuid.UUID, show string) ([]Result, map[uuid.UUID]string, error) {
	var rows []Result
	var names map[uuid.UUID]string
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		rows, names, err = resultsAndNames(ctx, tx, c.Tenant.ID, runID, show)
		return err
	})
	return rows, names, err
}

func resultsAndNames(ctx context.Context, tx bun.IDB, tenantID, runID uuid.UUID, show string) ([]Result, map[uuid.UUID]string, error) {
	rows, err := resultRows(ctx, tx, tenantID, runID, filterSQL(show), 0, 0)
	if err != nil {
		return nil, nil, err
	}
	names, err := namesOf(ctx, tx, tenantID, rows)
	return rows, names, err
}

// ExportResults is allResults for a CSV download: children's names leave the portal
// in a file, so it is audited as an export.
func (s *Service) ExportResults(ctx context.Context, c auth.Caller, runID uuid.UUID, show string) ([]Result, map[uuid.UUID]string, error) {
	var rows []Result
	var names map[uuid.UUID]string
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if rows, names, err = resultsAndNames(ctx, tx, c.Tenant.ID, runID, show); err != nil {
			return err
		}
		children := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			children[i] = r.ChildID
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: audit.ActionExport, ObjectKind: "allocation_run",
			ObjectID: runID.String(), ChildIDs: children, Details: map[string]any{"rows": len(rows), "show": show, "format": "csv"}})
	})
	return rows, names, err
}

// namesOf names every facility the rows mention (placed, denied, in the figures).
func namesOf(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, rows []Result, more ...string) (map[uuid.UUID]string, error) {
	seen := map[uuid.UUID]bool{}
	add := func(s string) {
		if id, err := uuid.Parse(s); err == nil {
			seen[id] = true
		}
	}
	for _, r := range rows {
		add(r.Why.Placed)
		for _, d := range r.Why.Above {
			add(d.Facility)
		}
		if r.FacilityID != nil {
			seen[*r.FacilityID] = true
		}
		if r.EngineFacility != nil {
			seen[*r.EngineFacility] = true
		}
	}
	for _, m := range more {
		add(m)
	}
	ids := make([]uuid.UUID, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	return provider.FacilityNames(ctx, tx, tenantID, ids)
}

// Detail is one request's result with everything the case worker reads: the
// explanation, the requests named in it, and the choices it could be moved to.
type Detail struct {
	Result
	Names map[uuid.UUID]string
	// Last maps the requests named as "last kept there" and the siblings' requests to
	// their reference.
	Last map[string]string
	// Choices are the request's facilities in its order, for a change.
	Choices []uuid.UUID
}

// ResultOf reads one request's result of a run.
func (s *Service) ResultOf(ctx context.Context, c auth.Caller, runID, appID uuid.UUID) (*Detail, error) {
	var d Detail
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := resultRows(ctx, tx, c.Tenant.ID, runID, ` AND r.application_id = ?`, 0, 0, appID)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return ErrNotFound
		}
		d.Result = rows[0]
		var lastIDs []uuid.UUID
		for _, a := range d.Why.Above {
			if id, err := uuid.Parse(a.Last); err == nil {
				lastIDs = append(lastIDs, id)
			}
		}
		for _, sib := range d.Why.Siblings {
			if id, err := uuid.Parse(sib); err == nil {
				lastIDs = append(lastIDs, id)
			}
		}
		d.Last = map[string]string{}
		if len(lastIDs) > 0 {
			var refs []struct {
				ID        uuid.UUID `bun:"id"`
				Reference string    `bun:"reference"`
			}
			if err := tx.NewRaw(`SELECT id, coalesce(reference, '') AS reference FROM application WHERE tenant_id = ? AND id IN (?)`,
				c.Tenant.ID, bun.In(lastIDs)).Scan(ctx, &refs); err != nil {
				return err
			}
			for _, r := range refs {
				d.Last[r.ID.String()] = r.Reference
			}
		}
		if err := tx.NewRaw(`SELECT facility_id FROM application_choice WHERE tenant_id = ? AND application_id = ? ORDER BY rank`,
			c.Tenant.ID, appID).Scan(ctx, &d.Choices); err != nil {
			return err
		}
		extra := make([]string, len(d.Choices))
		for i, f := range d.Choices {
			extra[i] = f.String()
		}
		d.Names, err = namesOf(ctx, tx, c.Tenant.ID, rows, extra...)
		return err
	})
	return &d, err
}

// Change is a case worker's change of one result before publishing: another of the
// request's choices (a seat of its fitting types must be left there) or none, always
// with a reason; audited. It answers the justified envy the run's changes introduce.
func (s *Service) Change(ctx context.Context, c auth.Caller, runID, appID uuid.UUID, facility uuid.UUID, reason string) ([]allocation.Envy, error) {
	t := c.Tenant
	reason, err := auth.FreeText("reason", reason, 1, 500)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var run Run
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
		snap, m, err := s.market(ctx, tx, t.ID, &r, &run)
		if err != nil {
			return err
		}
		var q *Request
		for i := range snap.Requests {
			if snap.Requests[i].ID == appID.String() {
				q = &snap.Requests[i]
			}
		}
		if q == nil {
			return ErrNotFound
		}
		var cur Result
		if err := tx.NewRaw(`SELECT application_id, facility_id, choice, seat, why FROM allocation_result
			WHERE tenant_id = ? AND run_id = ? AND application_id = ? FOR UPDATE`, t.ID, runID, appID).Scan(ctx, &cur); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		w := cur.Why
		w.Placed, w.Choice, w.Rank, w.Seat = "", 0, 0, ""
		if facility != uuid.Nil {
			k := -1
			for i, f := range q.Choices {
				if f == facility.String() {
					k = i
				}
			}
			if k < 0 {
				return apperr.Invalid("facility_id", "round_change_not_a_choice", nil)
			}
			seat, err := freeSeat(ctx, tx, t.ID, runID, appID, m, q, facility.String())
			if err != nil {
				return err
			}
			w.Placed, w.Choice, w.Rank, w.Seat = facility.String(), k+1, q.Ranks[k], string(seat)
		}
		b, _ := json.Marshal(w)
		var fac any
		if w.Placed != "" {
			fac = w.Placed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE allocation_result SET facility_id = ?, choice = ?, seat = ?, why = ?::jsonb,
			changed_reason = ?, changed_by = ?, changed_at = ? WHERE tenant_id = ? AND run_id = ? AND application_id = ?`,
			fac, w.Choice, w.Seat, string(b), reason, c.Principal.ID, s.clock.Now(), t.ID, runID, appID); err != nil {
			return err
		}
		if err := refigure(ctx, tx, t.ID, runID, m, run.Figures); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionChanged, ObjectKind: "allocation_run", ObjectID: runID.String(),
			Details: map[string]any{"application_id": appID, "from": cur.FacilityID, "to": fac, "reason": reason}})
	})
	if err != nil {
		return nil, err
	}
	return s.EnvyIntroduced(ctx, c, runID)
}

// market is the run's market, from its round's snapshot and its changes.
func (s *Service) market(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, r *Round, run *Run) (*Snapshot, *allocation.Market, error) {
	var blob []byte
	if err := tx.QueryRowContext(ctx, `SELECT snapshot FROM allocation_round WHERE tenant_id = ? AND id = ?`, tenantID, r.ID).Scan(&blob); err != nil {
		return nil, nil, err
	}
	snap, err := Decode(blob)
	if err != nil {
		return nil, nil, err
	}
	if run.Kind == KindFollowUp {
		if tx, ok := tx.(bun.Tx); ok {
			if err := followUp(ctx, tx, tenantID, r.ID, snap); err != nil {
				return nil, nil, err
			}
		}
	}
	return snap, snap.Market(run.Changes), nil
}

// freeSeat is the first of the request's seat types with a seat left at facility f in
// the run, not counting the request itself.
func freeSeat(ctx context.Context, tx bun.IDB, tenantID, runID, appID uuid.UUID, m *allocation.Market, q *Request, f string) (allocation.SeatType, error) {
	var held []struct {
		Seat string `bun:"seat"`
		N    int    `bun:"n"`
	}
	if err := tx.NewRaw(`SELECT seat, count(*) AS n FROM allocation_result WHERE tenant_id = ? AND run_id = ? AND facility_id = ?
		AND application_id <> ? GROUP BY seat`, tenantID, runID, f, appID).Scan(ctx, &held); err != nil {
		return "", err
	}
	taken := map[string]int{}
	for _, h := range held {
		taken[h.Seat] = h.N
	}
	var seats map[allocation.SeatType]int
	for _, fac := range m.Facilities {
		if fac.ID == f {
			seats = fac.Seats
		}
	}
	for _, c := range m.Children {
		if c.ID != q.ID {
			continue
		}
		for _, t := range append([]allocation.SeatType{c.Type()}, c.Larger...) {
			if seats[t] > taken[string(t)] {
				return t, nil
			}
		}
	}
	return "", ErrNoSeatLeft
}

// refigure counts the run's figures again after a change.
func refigure(ctx context.Context, tx bun.IDB, tenantID, runID uuid.UUID, m *allocation.Market, old Figures) error {
	var rows []struct {
		Why     Why  `bun:"why,type:jsonb"`
		Changed bool `bun:"changed"`
	}
	if err := tx.NewRaw(`SELECT why, changed_at IS NOT NULL AS changed FROM allocation_result WHERE tenant_id = ? AND run_id = ?`,
		tenantID, runID).Scan(ctx, &rows); err != nil {
		return err
	}
	whys := make([]Why, len(rows))
	changed := 0
	for i, r := range rows {
		whys[i] = r.Why
		if r.Changed {
			changed++
		}
	}
	f := figures(m, whys)
	f.Changed, f.LoadMS, f.MatchMS, f.SaveMS = changed, old.LoadMS, old.MatchMS, old.SaveMS
	_, err := tx.ExecContext(ctx, `UPDATE allocation_run SET figures = ? WHERE tenant_id = ? AND id = ?`, f, tenantID, runID)
	return err
}

// EnvyIntroduced is the justified envy of the run's current results that the engine's
// own results did not have: what the case workers' changes cost in fairness.
func (s *Service) EnvyIntroduced(ctx context.Context, c auth.Caller, runID uuid.UUID) ([]allocation.Envy, error) {
	t := c.Tenant
	var out []allocation.Envy
	err := s.inTx(ctx, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var run Run
		if err := getRun(ctx, tx, t.ID, runID, &run, false); err != nil {
			return err
		}
		var r Round
		if err := tx.NewSelect().Model(&r).ExcludeColumn("snapshot").Where("tenant_id = ? AND id = ?", t.ID, run.RoundID).Scan(ctx); err != nil {
			return err
		}
		var changed bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM allocation_result WHERE tenant_id = ? AND run_id = ? AND changed_at IS NOT NULL)`,
			t.ID, runID).Scan(&changed); err != nil || !changed {
			return err
		}
		_, m, err := s.market(ctx, tx, t.ID, &r, &run)
		if err != nil {
			return err
		}
		var rows []struct {
			App        string  `bun:"application_id"`
			Now        *string `bun:"facility_id"`
			Seat       string  `bun:"seat"`
			Engine     *string `bun:"engine_facility"`
			EngineSeat string  `bun:"engine_seat"`
		}
		if err := tx.NewRaw(`SELECT application_id, facility_id, seat, engine_facility, engine_seat
			FROM allocation_result WHERE tenant_id = ? AND run_id = ?`, t.ID, runID).Scan(ctx, &rows); err != nil {
			return err
		}
		now, engine := map[string]allocation.Placement{}, map[string]allocation.Placement{}
		for _, row := range rows {
			if row.Now != nil {
				now[row.App] = allocation.Placement{Facility: *row.Now, Seat: allocation.SeatType(row.Seat)}
			}
			if row.Engine != nil {
				engine[row.App] = allocation.Placement{Facility: *row.Engine, Seat: allocation.SeatType(row.EngineSeat)}
			}
		}
		before := map[allocation.Envy]bool{}
		for _, e := range allocation.EnvyOf(m, engine) {
			before[e] = true
		}
		for _, e := range allocation.EnvyOf(m, now) {
			if !before[e] {
				out = append(out, e)
			}
		}
		return nil
	})
	sort.Slice(out, func(a, b int) bool { return out[a].Child < out[b].Child })
	return out, err
}

// Outcome is what a family reads of a published round about its request.
type Outcome struct {
	Round    string
	Why      Why
	Names    map[uuid.UUID]string
	Changed  bool
	Offered  bool
	FollowUp bool
}

// OutcomeFor is the family's view of request appID in the newest published run that
// has it; nil when no published round had it. Only the request's own family sees it.
func (s *Service) OutcomeFor(ctx context.Context, c auth.Caller, appID uuid.UUID) (*Outcome, error) {
	if c.Principal == nil || c.Principal.Kind != auth.KindParent {
		return nil, apperr.Forbidden("forbidden")
	}
	var out *Outcome
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		f, err := family.HouseholdOf(ctx, tx, c.Tenant, c.Principal.ID, false)
		if err != nil {
			return err
		}
		if f == nil {
			return ErrNotFound
		}
		// Only a request of the caller's own household has an outcome page.
		mine, err := tx.NewRaw(`SELECT 1 FROM application a JOIN child c ON c.tenant_id = a.tenant_id AND c.id = a.child_id
			WHERE a.tenant_id = ? AND a.id = ? AND c.family_id = ?`, c.Tenant.ID, appID, f.ID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := mine.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		var row struct {
			Name    string     `bun:"name"`
			Kind    string     `bun:"kind"`
			Why     Why        `bun:"why,type:jsonb"`
			Changed bool       `bun:"changed"`
			Offer   *uuid.UUID `bun:"offer_id"`
		}
		err = tx.NewRaw(`SELECT d.name, n.kind, r.why, r.changed_at IS NOT NULL AS changed, r.offer_id
			FROM allocation_result r
			JOIN allocation_run n ON n.tenant_id = r.tenant_id AND n.id = r.run_id AND n.status = ?
			JOIN allocation_round d ON d.tenant_id = n.tenant_id AND d.id = n.round_id
			JOIN application a ON a.tenant_id = r.tenant_id AND a.id = r.application_id
			JOIN child c ON c.tenant_id = a.tenant_id AND c.id = a.child_id AND c.family_id = ?
			WHERE r.tenant_id = ? AND r.application_id = ? ORDER BY n.published_at DESC LIMIT 1`,
			RunPublished, f.ID, c.Tenant.ID, appID).Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		names, err := namesOf(ctx, tx, c.Tenant.ID, []Result{{Why: row.Why}})
		if err != nil {
			return err
		}
		out = &Outcome{Round: row.Name, Why: row.Why, Names: names, Changed: row.Changed, Offered: row.Offer != nil, FollowUp: row.Kind == KindFollowUp}
		return nil
	})
	return out, err
}

// facilityNames names facilities of the caller's city.
func (s *Service) facilityNames(ctx context.Context, c auth.Caller, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	var out map[uuid.UUID]string
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = provider.FacilityNames(ctx, tx, c.Tenant.ID, ids)
		return err
	})
	return out, err
}

// FacilitySeats is one facility of a round's snapshot with its seats by type.
type FacilitySeats struct {
	ID    uuid.UUID
	Name  string
	Seats map[allocation.SeatType]int
	Total int
}

// Facilities lists the facilities a round's requests chose, by name, with the seats it
// froze (the what-if form's choices).
func (s *Service) Facilities(ctx context.Context, c auth.Caller, roundID uuid.UUID) ([]FacilitySeats, error) {
	var out []FacilitySeats
	err := s.inTx(ctx, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var raw []byte
		if err := tx.QueryRowContext(ctx, `SELECT seat_table FROM allocation_round WHERE tenant_id = ? AND id = ?`, c.Tenant.ID, roundID).Scan(&raw); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		var seats map[string]map[allocation.SeatType]int
		if err := json.Unmarshal(raw, &seats); err != nil {
			return err
		}
		ids := make([]uuid.UUID, 0, len(seats))
		for f := range seats {
			if id, err := uuid.Parse(f); err == nil {
				ids = append(ids, id)
			}
		}
		names, err := provider.FacilityNames(ctx, tx, c.Tenant.ID, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			fs := FacilitySeats{ID: id, Name: names[id], Seats: seats[id.String()]}
			for _, n := range fs.Seats {
				fs.Total += n
			}
			out = append(out, fs)
		}
		sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
		return nil
	})
	return out, err
}

// FacilityName names facility id (as an explanation stores it).
func (d *Detail) FacilityName(id string) string {
	u, _ := uuid.Parse(id)
	return d.Names[u]
}

// EngineName names the facility the engine gave, before any change; "" for none.
func (d *Detail) EngineName() string {
	if d.EngineFacility == nil {
		return ""
	}
	return d.Names[*d.EngineFacility]
}
