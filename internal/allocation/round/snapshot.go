package round

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/allocation"
	"kitaportal/internal/application"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// Snapshot is what a round froze: everything a run needs, so the same snapshot and seed
// give the same result whatever happened in the city since.
type Snapshot struct {
	From        string      `json:"from"`  // first start month, YYYY-MM-DD
	Until       string      `json:"until"` // first month after the period
	CutOff      time.Time   `json:"cut_off"`
	Seed        int64       `json:"seed"`
	Criteria    []Criterion `json:"criteria"`   // the catalogue as it was
	TieBreaks   []string    `json:"tie_breaks"` // the city's order after points
	LargerScope bool        `json:"larger_scope"`
	Scopes      []int       `json:"scopes"`
	Requests    []Request   `json:"requests"`
	// ConfirmedClaims: a facility criterion counts only where its facility confirmed it
	// (Request.Local) or the register shows a sibling there. Snapshots frozen before
	// facilities confirmed claims lack it, and their facility criteria count at every
	// choice as they did then, so a rerun gives the same result.
	ConfirmedClaims bool `json:"confirmed_claims,omitempty"`
	// Seats per facility id and seat type ("krippe/35"): places of groups whose weekly
	// hours are that scope (up to the next scope), free through every month of the period.
	Seats map[string]map[allocation.SeatType]int `json:"seats"`
}

// Criterion is one criterion of the catalogue at freezing.
type Criterion struct {
	Key    string `json:"key"`
	Points int    `json:"points"`
	Scope  string `json:"scope"`
}

// Request is one request of the round with what decides its priority.
type Request struct {
	ID        string   `json:"id"` // the application id; the market's child id
	Child     string   `json:"child"`
	Family    string   `json:"family"`
	Birth     string   `json:"birth"`
	Start     string   `json:"start"`
	Band      string   `json:"band"`
	Hours     int      `json:"hours"`
	Choices   []string `json:"choices"` // facility ids, best first
	Ranks     []int    `json:"ranks"`   // each choice's rank in the request
	Criteria  []string `json:"criteria,omitempty"`
	SiblingAt []string `json:"sibling_at,omitempty"` // facilities where a sibling holds a contract
	// Local are the facility criteria claimed for one chosen facility that it confirmed:
	// criterion key → facility id.
	Local     map[string]string `json:"local,omitempty"`
	Submitted time.Time         `json:"submitted"`
	Lottery   float64           `json:"lottery"`
}

// SiblingKey is the facility criterion the register confirms by itself: a sibling with a
// contract at that facility counts there even unclaimed. Other facility criteria count
// only where the facility confirmed the family's claim.
const SiblingKey = "sibling"

// Lottery is request id's lottery number under seed, in [0, 1): drawn once per round,
// the same for every run of it.
func Lottery(seed int64, id string) float64 {
	h := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(id))
	return float64(h.Sum64()>>11) / float64(1<<53)
}

// Freeze reads the round's inputs in one consistent view (tx at REPEATABLE READ): the
// submitted requests with a start in [from, until), filed by cutOff, with their open
// choices; the seats of every chosen facility; the siblings' contracts.
func Freeze(ctx context.Context, tx bun.Tx, t *tenant.Tenant, from, until date.Date, cutOff time.Time, seed int64) (*Snapshot, error) {
	r := t.Rules
	s := &Snapshot{From: from.String(), Until: until.String(), CutOff: cutOff, Seed: seed, TieBreaks: r.Criteria.TieBreaks,
		LargerScope: r.Allocation.LargerScope, Scopes: slices.Clone(r.CareScopes), Seats: map[string]map[allocation.SeatType]int{},
		ConfirmedClaims: true}
	for _, c := range r.Criteria.Catalogue {
		s.Criteria = append(s.Criteria, Criterion{Key: c.Key, Points: c.Points, Scope: c.Scope})
	}
	var rows []struct {
		ID        uuid.UUID         `bun:"id"`
		Child     uuid.UUID         `bun:"child_id"`
		Family    uuid.UUID         `bun:"family_id"`
		Birth     date.Date         `bun:"birth"`
		Start     date.Date         `bun:"start_date"`
		Hours     int               `bun:"care_hours"`
		Criteria  map[string]string `bun:"criteria,type:jsonb"`
		Submitted time.Time         `bun:"submitted_at"`
		Choices   []uuid.UUID       `bun:"choices,array"`
		Ranks     []int             `bun:"ranks,array"`
	}
	// The round's reads of requests, children and contracts are listed in tableowner.Reads:
	// a city's whole intake in a few statements instead of one call per request.
	err := tx.NewRaw(`SELECT a.id, a.child_id, c.family_id, coalesce(c.birth_date, c.expected_birth_date) AS birth,
			a.start_date, a.care_hours, a.criteria, a.submitted_at,
			array_agg(ch.facility_id ORDER BY ch.rank) AS choices, array_agg(ch.rank::int ORDER BY ch.rank) AS ranks
		FROM application a
		JOIN child c ON c.tenant_id = a.tenant_id AND c.id = a.child_id
		JOIN application_choice ch ON ch.tenant_id = a.tenant_id AND ch.application_id = a.id AND ch.status = ANY(?::text[])
		WHERE a.tenant_id = ? AND a.status = ANY(?::text[]) AND a.submitted_at <= ? AND a.start_date >= ? AND a.start_date < ?
		GROUP BY a.tenant_id, a.id, c.tenant_id, c.id ORDER BY a.id`,
		pgdialect.Array([]application.ChoiceStatus{application.ChoicePending, application.ChoiceInReview}),
		t.ID, pgdialect.Array(application.Deciding), cutOff, from, until).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("round: freeze requests: %w", err)
	}
	ids := make([]uuid.UUID, len(rows))
	for i, row := range rows {
		ids[i] = row.ID
	}
	confirmed, err := application.ConfirmedClaims(ctx, tx, t, ids)
	if err != nil {
		return nil, fmt.Errorf("round: freeze claims: %w", err)
	}
	cal := r.Calendar()
	chosen := map[uuid.UUID]bool{}
	families := map[uuid.UUID]bool{}
	for _, row := range rows {
		band, ok := cal.BandAt(row.Birth, row.Start)
		if !ok {
			continue // too old or young for every band at its start: no seat can take it
		}
		q := Request{ID: row.ID.String(), Child: row.Child.String(), Family: row.Family.String(), Birth: row.Birth.String(),
			Start: row.Start.String(), Band: band.Key, Hours: row.Hours, Ranks: row.Ranks, Submitted: row.Submitted.UTC(),
			Lottery: Lottery(seed, row.ID.String())}
		for _, f := range row.Choices {
			q.Choices = append(q.Choices, f.String())
			chosen[f] = true
		}
		for key := range row.Criteria {
			q.Criteria = append(q.Criteria, key)
		}
		sort.Strings(q.Criteria)
		for key, f := range confirmed[row.ID] {
			if slices.Contains(row.Choices, f) {
				if q.Local == nil {
					q.Local = map[string]string{}
				}
				q.Local[key] = f.String()
			}
		}
		families[row.Family] = true
		s.Requests = append(s.Requests, q)
	}
	if err := s.freezeSiblings(ctx, tx, t.ID, from, until, families); err != nil {
		return nil, err
	}
	return s, s.freezeSeats(ctx, tx, t.ID, from, until, chosen)
}

// freezeSiblings notes, per request, the facilities where another child of its family
// holds a contract during the period.
func (s *Snapshot) freezeSiblings(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, from, until date.Date, families map[uuid.UUID]bool) error {
	ids := make([]string, 0, len(families))
	for f := range families {
		ids = append(ids, f.String())
	}
	var rows []struct {
		Family   uuid.UUID `bun:"family_id"`
		Child    uuid.UUID `bun:"child_id"`
		Facility uuid.UUID `bun:"facility_id"`
	}
	if err := tx.NewRaw(`SELECT DISTINCT c.family_id, k.child_id, k.facility_id FROM contract k
		JOIN child c ON c.tenant_id = k.tenant_id AND c.id = k.child_id
		WHERE k.tenant_id = ? AND k.status <> 'cancelled' AND k.period && daterange(?, ?, '[)') AND c.family_id = ANY(?::uuid[])`,
		tenantID, from, until, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("round: freeze siblings: %w", err)
	}
	for i := range s.Requests {
		q := &s.Requests[i]
		for _, row := range rows {
			if row.Family.String() == q.Family && row.Child.String() != q.Child && !slices.Contains(q.SiblingAt, row.Facility.String()) {
				q.SiblingAt = append(q.SiblingAt, row.Facility.String())
			}
		}
		sort.Strings(q.SiblingAt)
	}
	return nil
}

// freezeSeats turns the availability engine's free places into seat types. The engine
// answers "how many more children of at least h hours fit", counting a place of a
// 45-hour group for a 25-hour child too; a round needs each place once, so the places
// of scope h are those usable at h but not at the next larger scope. The seats of a
// type are the fewest free in any month of the period, so no month is overbooked.
func (s *Snapshot) freezeSeats(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, from, until date.Date, chosen map[uuid.UUID]bool) error {
	ids := make([]string, 0, len(chosen))
	for f := range chosen {
		ids = append(ids, f.String())
	}
	var rows []struct {
		Facility uuid.UUID `bun:"facility_id"`
		Band     string    `bun:"age_band"`
		Hours    int       `bun:"care_hours"`
		Month    date.Date `bun:"month"`
		Free     int       `bun:"free"`
	}
	if err := tx.NewRaw(`SELECT facility_id, age_band, care_hours, month, free FROM availability
		WHERE tenant_id = ? AND month >= ? AND month < ? AND facility_id = ANY(?::uuid[])`,
		tenantID, from, until, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("round: freeze seats: %w", err)
	}
	type cell struct {
		facility, band string
		month          date.Date
	}
	free := map[cell]map[int]int{}
	for _, row := range rows {
		k := cell{row.Facility.String(), row.Band, row.Month}
		if free[k] == nil {
			free[k] = map[int]int{}
		}
		free[k][row.Hours] = row.Free
	}
	for k, byScope := range free {
		if s.Seats[k.facility] == nil {
			s.Seats[k.facility] = map[allocation.SeatType]int{}
		}
		for i, h := range s.Scopes {
			n := exactSeats(s.Scopes, byScope, i)
			t := allocation.TypeOf(k.band, h)
			if old, seen := s.Seats[k.facility][t]; !seen || n < old {
				s.Seats[k.facility][t] = n
			}
		}
	}
	// Facilities that were chosen but have no figures get no seats (and say so).
	for f := range chosen {
		if s.Seats[f.String()] == nil {
			s.Seats[f.String()] = map[allocation.SeatType]int{}
		}
	}
	return nil
}

// exactSeats is the places of scope scopes[i] alone from the engine's "at least" counts:
// the count at scopes[i] less the count at the next scope, none negative.
func exactSeats(scopes []int, atLeast map[int]int, i int) int {
	// The counts only fall with the scope; clamp so an over-capacity month reads as 0.
	upTo := func(j int) int {
		n := max(atLeast[scopes[0]], 0)
		for _, h := range scopes[1 : j+1] {
			n = min(n, max(atLeast[h], 0))
		}
		return n
	}
	if i+1 < len(scopes) {
		return upTo(i) - upTo(i+1)
	}
	return upTo(i)
}

// Changes are what a what-if run changes in the snapshot's inputs.
type Changes struct {
	// Seats adds (or with a negative number takes away) seats of a type at a facility:
	// more places in a Kita, a new group.
	Seats []SeatChange `json:"seats,omitempty"`
	// Points gives criteria other points.
	Points map[string]int `json:"points,omitempty"`
}

// SeatChange is one line of Changes.Seats.
type SeatChange struct {
	Facility string              `json:"facility"`
	Type     allocation.SeatType `json:"type"`
	Delta    int                 `json:"delta"`
}

// Empty tells whether ch changes nothing.
func (ch Changes) Empty() bool { return len(ch.Seats) == 0 && len(ch.Points) == 0 }

// Market is the engine's input from the snapshot with ch applied: priorities from the
// frozen catalogue, siblings of one family applying together, the city's tie-breaks
// as one strict order (Tiebreak is the request's place in it).
func (s *Snapshot) Market(ch Changes) *allocation.Market {
	seats := map[string]map[allocation.SeatType]int{}
	for f, byType := range s.Seats {
		seats[f] = map[allocation.SeatType]int{}
		for t, n := range byType {
			seats[f][t] = n
		}
	}
	for _, c := range ch.Seats {
		if seats[c.Facility] == nil {
			seats[c.Facility] = map[allocation.SeatType]int{}
		}
		seats[c.Facility][c.Type] = max(0, seats[c.Facility][c.Type]+c.Delta)
	}
	m := &allocation.Market{}
	ids := make([]string, 0, len(seats))
	for f := range seats {
		ids = append(ids, f)
	}
	sort.Strings(ids)
	for _, f := range ids {
		m.Facilities = append(m.Facilities, allocation.Facility{ID: f, Seats: seats[f]})
	}
	points := s.points(ch)
	order := s.order()
	firstOfFamily := map[string]string{}
	for _, i := range order.byID {
		q := &s.Requests[i]
		c := allocation.Child{ID: q.ID, Band: q.Band, Hours: q.Hours, Prefs: q.Choices, Tiebreak: float64(order.place[i])}
		c.Points, c.Local = s.priority(q, points)
		if s.LargerScope {
			for _, h := range s.Scopes {
				if h > q.Hours {
					c.Larger = append(c.Larger, allocation.TypeOf(q.Band, h))
				}
			}
		}
		if first, ok := firstOfFamily[q.Family]; ok {
			c.TwinOf = &first
		} else {
			firstOfFamily[q.Family] = q.ID
		}
		m.Children = append(m.Children, c)
	}
	return m
}

func (s *Snapshot) points(ch Changes) map[string]Criterion {
	out := map[string]Criterion{}
	for _, c := range s.Criteria {
		if p, ok := ch.Points[c.Key]; ok {
			c.Points = p
		}
		out[c.Key] = c
	}
	return out
}

// priority is a request's points from global criteria and its bonus per facility from
// facility criteria: each where its facility confirmed the family's claim, a sibling
// also where the register shows one (once per facility either way). A claim not
// confirmed counts nowhere. (Snapshots without ConfirmedClaims: the facility criteria
// but the sibling at every choice, as they were frozen.)
func (s *Snapshot) priority(q *Request, catalogue map[string]Criterion) (int, map[string]int) {
	points := 0
	var local map[string]int
	add := func(f string, n int) {
		if local == nil {
			local = map[string]int{}
		}
		local[f] += n
	}
	for _, key := range q.Criteria {
		c, ok := catalogue[key]
		switch {
		case !ok:
		case c.Scope != "facility":
			points += c.Points
		case key == SiblingKey || s.ConfirmedClaims:
		default:
			for _, f := range q.Choices {
				add(f, c.Points)
			}
		}
	}
	for key, f := range q.Local {
		c, ok := catalogue[key]
		if !ok || c.Scope != "facility" || !slices.Contains(q.Choices, f) || (key == SiblingKey && slices.Contains(q.SiblingAt, f)) {
			continue // a sibling the register shows counts below
		}
		add(f, c.Points)
	}
	if c, ok := catalogue[SiblingKey]; ok && c.Scope == "facility" {
		for _, f := range q.SiblingAt {
			if slices.Contains(q.Choices, f) {
				add(f, c.Points)
			}
		}
	}
	return points, local
}

// ordering is the city's tie-break order over the requests.
type ordering struct {
	byID  []int // request indexes by id
	place []int // per request index: its place in the tie-break order
}

func (s *Snapshot) order() ordering {
	n := len(s.Requests)
	o := ordering{byID: make([]int, n), place: make([]int, n)}
	for i := range o.byID {
		o.byID[i] = i
	}
	sort.Slice(o.byID, func(a, b int) bool { return s.Requests[o.byID[a]].ID < s.Requests[o.byID[b]].ID })
	family := map[string]int{}
	for _, q := range s.Requests {
		family[q.Family]++
	}
	sibling := make([]bool, n) // once per request, not once per comparison
	for i := range s.Requests {
		sibling[i] = s.hasSibling(&s.Requests[i], family)
	}
	byTie := slices.Clone(o.byID)
	sort.SliceStable(byTie, func(a, b int) bool {
		i, j := byTie[a], byTie[b]
		_, less := s.tieBreakOf(&s.Requests[i], &s.Requests[j], sibling[i], sibling[j])
		return less
	})
	for place, i := range byTie {
		o.place[i] = place
	}
	return o
}

// tieBreak compares two requests by the city's tie-breaks after points: which one
// decides, and whether a comes first; "" when none does (the ids then decide).
func (s *Snapshot) tieBreak(a, b *Request, family map[string]int) (string, bool) {
	return s.tieBreakOf(a, b, s.hasSibling(a, family), s.hasSibling(b, family))
}

// tieBreakOf is tieBreak with whether each has a sibling already known.
func (s *Snapshot) tieBreakOf(a, b *Request, sa, sb bool) (string, bool) {
	for _, key := range s.TieBreaks {
		switch key {
		case tenant.TieBreakSiblings:
			if sa != sb {
				return key, sa
			}
		case tenant.TieBreakBirthDate: // the older child first: it needs the place sooner
			if a.Birth != b.Birth {
				return key, a.Birth < b.Birth
			}
		case tenant.TieBreakApplicationDate:
			if !a.Submitted.Equal(b.Submitted) {
				return key, a.Submitted.Before(b.Submitted)
			}
		case tenant.TieBreakLottery:
			if a.Lottery != b.Lottery {
				return key, a.Lottery < b.Lottery
			}
		}
	}
	return "", a.ID < b.ID
}

// hasSibling: the family applies with several children, one already has a contract, or
// a facility confirmed the sibling claimed there (before ConfirmedClaims: claimed).
func (s *Snapshot) hasSibling(q *Request, family map[string]int) bool {
	if family[q.Family] > 1 || len(q.SiblingAt) > 0 {
		return true
	}
	if s.ConfirmedClaims {
		return q.Local[SiblingKey] != ""
	}
	return slices.Contains(q.Criteria, SiblingKey)
}

// Encode is the snapshot as stored: gzip-compressed JSON.
func (s *Snapshot) Encode() ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(s); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decode reads a stored snapshot.
func Decode(b []byte) (*Snapshot, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("round: snapshot: %w", err)
	}
	var s Snapshot
	if err := json.NewDecoder(io.Reader(zr)).Decode(&s); err != nil {
		return nil, fmt.Errorf("round: snapshot: %w", err)
	}
	return &s, nil
}

// SeatCount is the number of seats of the snapshot.
func (s *Snapshot) SeatCount() int {
	n := 0
	for _, byType := range s.Seats {
		for _, k := range byType {
			n += k
		}
	}
	return n
}
