package availability

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/database"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// minMonths is the least number of months kept: two Kita years ahead.
const minMonths = 24

// Window is the span of months whose availability is kept: from the current month for
// at least two years, and as far as the tenant lets parents register ahead.
type Window struct {
	First  date.Date // first day of the first month
	Months int
}

// WindowFor is the window a tenant needs on day today.
func WindowFor(r *tenant.Rules, today date.Date) Window {
	return Window{First: today.FirstOfMonth(), Months: max(minMonths, r.Registration.MaxLeadMonths+1)}
}

// End is the first day after the window.
func (w Window) End() date.Date { return w.First.AddMonths(w.Months) }

// Last is the first day of the window's last month.
func (w Window) Last() date.Date { return w.First.AddMonths(w.Months - 1) }

// Contains tells whether the month of d lies in the window.
func (w Window) Contains(d date.Date) bool {
	return !d.Before(w.First) && d.Before(w.End())
}

// MonthList lists the first days of the window's months.
func (w Window) MonthList() []date.Date {
	out := make([]date.Date, w.Months)
	for i := range out {
		out[i] = w.First.AddMonths(i)
	}
	return out
}

// Refresh recomputes the availability of facilityIDs from their current groups,
// contracts and offers, inside tx. Every write path that changes capacity, contracts or
// offers calls it in the same transaction, after its own writes, so the next search sees
// the change — and sees nothing if the transaction rolls back:
//
//	err := database.InTenantTx(ctx, db, t.ID, func(ctx context.Context, tx bun.Tx) error {
//		if err := insertContract(ctx, tx, c); err != nil {
//			return err
//		}
//		return availability.Refresh(ctx, tx, t, date.Today(clock), c.FacilityID)
//	})
//
// tx must be READ COMMITTED (the default): Refresh locks the facilities first, so two
// transactions changing the same facility take turns and the second computes with the
// first one's committed rows. A running Rebuild of the tenant makes Refresh wait until it
// has committed. today only matters for a tenant whose availability was never built.
func Refresh(ctx context.Context, tx bun.Tx, t *tenant.Tenant, today date.Date, facilityIDs ...uuid.UUID) error {
	if len(facilityIDs) == 0 {
		return nil
	}
	w, err := sharedWindow(ctx, tx, t, today)
	if err != nil {
		return fmt.Errorf("availability: refresh: %w", err)
	}
	ids := uuidStrings(facilityIDs)
	slices.Sort(ids) // one lock order for everyone: no deadlocks between refreshes
	ids = slices.Compact(ids)
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM facility WHERE tenant_id = ? AND id IN (?) ORDER BY id FOR NO KEY UPDATE`,
		t.ID, bun.In(ids)); err != nil {
		return fmt.Errorf("availability: lock facilities: %w", err)
	}
	cells, err := compute(ctx, tx.Tx, t, w, ids)
	if err != nil {
		return fmt.Errorf("availability: refresh: %w", err)
	}
	if _, err := tx.Tx.ExecContext(ctx, `DELETE FROM availability WHERE tenant_id = $1 AND facility_id = ANY($2::uuid[])`, t.ID, ids); err != nil {
		return fmt.Errorf("availability: refresh: delete: %w", err)
	}
	if err := insertCells(ctx, tx.Tx, t.ID, cells); err != nil {
		return fmt.Errorf("availability: refresh: %w", err)
	}
	if err := writeOffered(ctx, tx.Tx, t.ID, ids, cells); err != nil {
		return fmt.Errorf("availability: refresh: %w", err)
	}
	return nil
}

// Built describes a full rebuild.
type Built struct {
	Window     Window
	Facilities int
	Cells      int
	Took       time.Duration
}

// Rebuild recomputes the availability of every facility of t for the window starting in
// today's month, inside tx, and records the window and rules version it used. It is the
// recovery path and what runs when the month or the tenant's rules change; incremental
// changes go through Refresh.
func Rebuild(ctx context.Context, tx bun.Tx, t *tenant.Tenant, today date.Date) (Built, error) {
	start := time.Now()
	w := WindowFor(t.Rules, today)
	// Taking the state row first makes concurrent refreshes wait for this rebuild, and
	// this rebuild wait for refreshes that are still running.
	if _, err := tx.Tx.ExecContext(ctx, `
		INSERT INTO availability_state (tenant_id, first_month, months, rules_version, built_at)
		VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (tenant_id) DO UPDATE SET first_month = EXCLUDED.first_month, months = EXCLUDED.months,
			rules_version = EXCLUDED.rules_version, built_at = EXCLUDED.built_at`,
		t.ID, w.First, w.Months, t.RulesVersion); err != nil {
		return Built{}, fmt.Errorf("availability: rebuild %s: state: %w", t.Slug, err)
	}
	cells, err := compute(ctx, tx.Tx, t, w, nil)
	if err != nil {
		return Built{}, fmt.Errorf("availability: rebuild %s: %w", t.Slug, err)
	}
	if _, err := tx.Tx.ExecContext(ctx, `DELETE FROM availability WHERE tenant_id = $1`, t.ID); err != nil {
		return Built{}, fmt.Errorf("availability: rebuild %s: delete: %w", t.Slug, err)
	}
	if err := insertCells(ctx, tx.Tx, t.ID, cells); err != nil {
		return Built{}, fmt.Errorf("availability: rebuild %s: %w", t.Slug, err)
	}
	var all []string
	if err := tx.NewSelect().Table("facility").Column("id").Where("tenant_id = ?", t.ID).Scan(ctx, &all); err != nil {
		return Built{}, fmt.Errorf("availability: rebuild %s: facilities: %w", t.Slug, err)
	}
	if err := writeOffered(ctx, tx.Tx, t.ID, all, cells); err != nil {
		return Built{}, fmt.Errorf("availability: rebuild %s: %w", t.Slug, err)
	}
	facilities := map[uuid.UUID]bool{}
	for _, c := range cells {
		facilities[c.facility] = true
	}
	return Built{Window: w, Facilities: len(facilities), Cells: len(cells), Took: time.Since(start)}, nil
}

// State is what the stored availability of a tenant was computed for.
type State struct {
	Window       Window
	RulesVersion int
	BuiltAt      time.Time
}

// StateOf returns the stored state of tenantID; ok is false when it was never built.
func StateOf(ctx context.Context, db bun.IDB, tenantID uuid.UUID) (State, bool, error) {
	var s State
	err := db.QueryRowContext(ctx, `SELECT first_month, months, rules_version, built_at FROM availability_state WHERE tenant_id = ?`,
		tenantID).Scan(&s.Window.First, &s.Window.Months, &s.RulesVersion, &s.BuiltAt)
	if errors.Is(err, sql.ErrNoRows) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("availability: state: %w", err)
	}
	return s, true, nil
}

// Current tells whether the stored state fits tenant t on day today: the same window and
// the rules version in force.
func (s State) Current(t *tenant.Tenant, today date.Date) bool {
	return s.Window == WindowFor(t.Rules, today) && s.RulesVersion == t.RulesVersion
}

// sharedWindow returns the tenant's stored window, holding its state row FOR SHARE until
// tx ends. A tenant never built gets the window of today.
func sharedWindow(ctx context.Context, tx bun.Tx, t *tenant.Tenant, today date.Date) (Window, error) {
	for attempt := 0; attempt < 2; attempt++ {
		var w Window
		err := tx.Tx.QueryRowContext(ctx, `SELECT first_month, months FROM availability_state WHERE tenant_id = $1 FOR SHARE`,
			t.ID).Scan(&w.First, &w.Months)
		if err == nil {
			return w, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Window{}, err
		}
		w = WindowFor(t.Rules, today)
		if _, err := tx.Tx.ExecContext(ctx, `
			INSERT INTO availability_state (tenant_id, first_month, months, rules_version)
			VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO NOTHING`, t.ID, w.First, w.Months, t.RulesVersion); err != nil {
			return Window{}, err
		}
	}
	return Window{}, errors.New("state row vanished")
}

// facilityCell is a cell of a facility, as stored.
type facilityCell struct {
	facility uuid.UUID
	Cell
}

// Loading: groups with their capacity, then everyone holding a place. With a list of
// facilities (Refresh) the queries join it, so each facility is an index lookup; without
// (Rebuild) they read the whole tenant in one pass.
const (
	onlyFacilities = `JOIN unnest($4::uuid[]) AS picked(id) ON picked.id = %s`

	groupsSQL = `
SELECT g.facility_id, g.id, g.age_band, g.care_hours, gc.valid_from, gc.valid_until, gc.places
FROM facility_group g
JOIN group_capacity gc ON gc.tenant_id = g.tenant_id AND gc.group_id = g.id
%s
WHERE g.tenant_id = $1 AND gc.period && daterange($2::date, $3::date)
ORDER BY g.facility_id, g.id, gc.valid_from`

	// Contracts that overlap the window (cancelled ones never held a place), and open or
	// accepted offers that start before its end; an offer holds its place until it
	// becomes a contract, is declined or expires.
	holdersSQL = `
SELECT c.facility_id, coalesce(ch.birth_date, ch.expected_birth_date), c.start_date, c.end_date, c.care_hours, coalesce(g.age_band, ''), false
FROM contract c
%s
JOIN child ch ON ch.tenant_id = c.tenant_id AND ch.id = c.child_id
LEFT JOIN facility_group g ON g.tenant_id = c.tenant_id AND g.id = c.group_id
WHERE c.tenant_id = $1 AND c.status <> 'cancelled' AND c.period && daterange($2::date, $3::date)
UNION ALL
SELECT o.facility_id, coalesce(ch.birth_date, ch.expected_birth_date), o.start_date, NULL, o.care_hours, coalesce(g.age_band, ''), true
FROM offer o
%s
JOIN child ch ON ch.tenant_id = o.tenant_id AND ch.id = o.child_id
LEFT JOIN facility_group g ON g.tenant_id = o.tenant_id AND g.id = o.group_id
WHERE o.tenant_id = $1 AND o.status = ANY(%s::text[]) AND o.start_date < $3::date`
)

// querier is what compute needs of a transaction; real bind parameters ($n), not bun's
// text interpolation, so arrays travel in binary and statements are prepared once.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// compute loads the inputs of the given facilities (all when ids is nil) and computes
// their cells for window w.
func compute(ctx context.Context, q querier, t *tenant.Tenant, w Window, ids []string) ([]facilityCell, error) {
	in, err := load(ctx, q, t.ID, w.First, w.End(), ids)
	if err != nil {
		return nil, err
	}
	cal, scopes, months := t.Rules.Calendar(), t.Rules.CareScopes, w.MonthList()
	var out []facilityCell
	for _, f := range in.order {
		for _, c := range Compute(cal, scopes, months, in.Groups[f], in.Holders[f]) {
			out = append(out, facilityCell{facility: f, Cell: c})
		}
	}
	return out, nil
}

// load reads the groups with their capacity and the holders of the given facilities
// (all when ids is nil) over [first, end).
func load(ctx context.Context, q querier, tenantID uuid.UUID, first, end date.Date, ids []string) (*Inputs, error) {
	args := []any{tenantID, first, end}
	join := func(col string) string { return "" }
	if ids != nil {
		args = append(args, ids)
		join = func(col string) string { return fmt.Sprintf(onlyFacilities, col) }
	}

	groups := map[uuid.UUID][]Group{}
	var order []uuid.UUID
	rows, err := q.QueryContext(ctx, fmt.Sprintf(groupsSQL, join("g.facility_id")), args...)
	if err != nil {
		return nil, fmt.Errorf("load groups: %w", err)
	}
	var lastGroup uuid.UUID
	for rows.Next() {
		var (
			facility, group uuid.UUID
			g               Group
			c               Capacity
		)
		if err := rows.Scan(&facility, &group, &g.Band, &g.CareHours, &c.From, &c.Until, &c.Places); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load groups: %w", err)
		}
		fg := groups[facility]
		if fg == nil {
			order = append(order, facility)
		}
		if group != lastGroup || len(fg) == 0 {
			fg = append(fg, g)
			lastGroup = group
		}
		fg[len(fg)-1].Capacity = append(fg[len(fg)-1].Capacity, c)
		groups[facility] = fg
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load groups: %w", err)
	}

	holders := map[uuid.UUID][]Holder{}
	// The offer statuses that hold a place come last: $4 or, with a list of facilities, $5.
	holdArgs := append(slices.Clip(args), offer.Holding)
	rows, err = q.QueryContext(ctx, fmt.Sprintf(holdersSQL, join("c.facility_id"), join("o.facility_id"), fmt.Sprintf("$%d", len(holdArgs))), holdArgs...)
	if err != nil {
		return nil, fmt.Errorf("load contracts and offers: %w", err)
	}
	for rows.Next() {
		var (
			facility uuid.UUID
			h        Holder
		)
		if err := rows.Scan(&facility, &h.Birth, &h.From, &h.Until, &h.CareHours, &h.GroupBand, &h.Offer); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load contracts and offers: %w", err)
		}
		holders[facility] = append(holders[facility], h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load contracts and offers: %w", err)
	}

	return &Inputs{Groups: groups, Holders: holders, order: order}, nil
}

// insertBatch rows per statement: a few megabytes of parameters.
const insertBatch = 20000

// insertCells writes cells with one INSERT … SELECT FROM unnest(arrays) per batch.
func insertCells(ctx context.Context, q querier, tenantID uuid.UUID, cells []facilityCell) error {
	for start := 0; start < len(cells); start += insertBatch {
		batch := cells[start:min(start+insertBatch, len(cells))]
		var (
			facilities = make([]string, len(batch))
			bands      = make([]string, len(batch))
			hours      = make([]int32, len(batch))
			months     = make([]string, len(batch))
			capacities = make([]int32, len(batch))
			free       = make([]int32, len(batch))
		)
		for i, c := range batch {
			facilities[i], bands[i], hours[i] = c.facility.String(), c.Band, int32(c.CareHours)
			months[i], capacities[i], free[i] = c.Month.String(), int32(c.Capacity), int32(c.Free)
		}
		_, err := q.ExecContext(ctx, `
			INSERT INTO availability (tenant_id, facility_id, age_band, care_hours, month, capacity, free)
			SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::int[], $5::date[], $6::int[], $7::int[])`,
			tenantID, facilities, bands, hours, months, capacities, free)
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	return nil
}

// Offered is what a facility offers according to its cells: every band it has figures
// for ("krippe") and, for each band, every care scope it has places for in some month
// ("krippe/45"). The search keeps it on the facility row (care_offered).
func Offered(cells []Cell) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, c := range cells {
		add(c.Band)
		if c.Capacity > 0 {
			add(c.Band + "/" + strconv.Itoa(c.CareHours))
		}
	}
	slices.Sort(out)
	return out
}

// writeOffered stores Offered on the rows of the facilities ids (changed rows only);
// facilities without cells offer nothing.
func writeOffered(ctx context.Context, q querier, tenantID uuid.UUID, ids []string, cells []facilityCell) error {
	byFacility := map[string][]Cell{}
	for _, c := range cells {
		byFacility[c.facility.String()] = append(byFacility[c.facility.String()], c.Cell)
	}
	offered := make([]string, len(ids))
	for i, id := range ids {
		offered[i] = strings.Join(Offered(byFacility[id]), ",")
	}
	_, err := q.ExecContext(ctx, `
		UPDATE facility f SET care_offered = string_to_array(x.offered, ',')
		FROM unnest($2::uuid[], $3::text[]) AS x(id, offered)
		WHERE f.tenant_id = $1 AND f.id = x.id AND f.care_offered IS DISTINCT FROM string_to_array(x.offered, ',')`,
		tenantID, ids, offered)
	if err != nil {
		return fmt.Errorf("write care_offered: %w", err)
	}
	return nil
}

// ForFacility returns the stored cells of one facility for the months from from to to
// (both first days, inclusive), ordered by month, then by the tenant's band order, then
// scope. Run it inside the tenant's transaction.
func ForFacility(ctx context.Context, tx bun.Tx, t *tenant.Tenant, facilityID uuid.UUID, from, to date.Date) ([]Cell, error) {
	rows, err := tx.Tx.QueryContext(ctx, `
		SELECT age_band, care_hours, month, capacity, free FROM availability
		WHERE tenant_id = $1 AND facility_id = $2 AND month BETWEEN $3 AND $4`, t.ID, facilityID, from, to)
	if err != nil {
		return nil, fmt.Errorf("availability: read: %w", err)
	}
	defer rows.Close()
	var cells []Cell
	for rows.Next() {
		var c Cell
		if err := rows.Scan(&c.Band, &c.CareHours, &c.Month, &c.Capacity, &c.Free); err != nil {
			return nil, fmt.Errorf("availability: read: %w", err)
		}
		cells = append(cells, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("availability: read: %w", err)
	}
	rank := map[string]int{}
	for i, b := range t.Rules.AgeBands {
		rank[b.Key] = i + 1
	}
	slices.SortFunc(cells, func(a, b Cell) int {
		if c := a.Month.Compare(b.Month); c != 0 {
			return c
		}
		if a.Band != b.Band {
			if ra, rb := rank[a.Band], rank[b.Band]; ra != rb {
				return ra - rb
			}
			if a.Band < b.Band {
				return -1
			}
			return 1
		}
		return a.CareHours - b.CareHours
	})
	return cells, nil
}

func uuidStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// Lookup returns the free places of the given facilities for one band, scope and month,
// as the search reads them; facilities without figures are absent from the map. Run it
// inside the tenant's transaction.
func Lookup(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, facilityIDs []uuid.UUID, band string, scope int, month date.Date) (map[uuid.UUID]int, error) {
	rows, err := tx.Tx.QueryContext(ctx, `
		SELECT facility_id, free FROM availability
		WHERE tenant_id = $1 AND facility_id = ANY($2::uuid[]) AND age_band = $3 AND care_hours = $4 AND month = $5`,
		database.Prepared, tenantID, uuidStrings(facilityIDs), band, scope, month.FirstOfMonth())
	if err != nil {
		return nil, fmt.Errorf("availability: lookup: %w", err)
	}
	defer rows.Close()
	out := map[uuid.UUID]int{}
	for rows.Next() {
		var id uuid.UUID
		var free int
		if err := rows.Scan(&id, &free); err != nil {
			return nil, fmt.Errorf("availability: lookup: %w", err)
		}
		out[id] = free
	}
	return out, rows.Err()
}
