package application

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// What staff see of requests: per facility in their scope the requests that name it,
// with rank, start, scope and criteria points; case workers and tenant admins see the
// whole city. Whether a facility sees a family's other choices follows the city's rule.
// Every list and record read is audited with the children it showed.

// RequestRow is one (application, choice) pair in a staff list.
type RequestRow struct {
	ApplicationID uuid.UUID    `bun:"application_id" json:"application_id"`
	Reference     string       `bun:"reference" json:"reference"`
	ChildID       uuid.UUID    `bun:"child_id" json:"child_id"`
	FirstName     string       `bun:"first_name" json:"first_name"`
	LastName      string       `bun:"last_name" json:"last_name"`
	BirthDate     date.Date    `bun:"birth_date" json:"birth_date"`
	StartDate     date.Date    `bun:"start_date" json:"start_date"`
	CareHours     int          `bun:"care_hours" json:"care_hours"`
	Rank          int          `bun:"rank" json:"rank"`
	FacilityID    uuid.UUID    `bun:"facility_id" json:"facility_id"`
	Facility      string       `bun:"facility" json:"facility"`
	ChoiceStatus  ChoiceStatus `bun:"choice_status" json:"choice_status"`
	Status        Status       `bun:"status" json:"status"`
	Source        string       `bun:"source" json:"source"`
	SubmittedAt   *time.Time   `bun:"submitted_at" json:"submitted_at"`
	Criteria      Criteria     `bun:"criteria,type:jsonb" json:"-"`
	Points        int          `bun:"-" json:"points"`
	Duplicate     bool         `bun:"duplicate" json:"possible_duplicate"`
	// Claims are the facility criteria claimed for this row's facility, pending ones too.
	Claims []Claim `bun:"-" json:"claims,omitempty"`
}

// Filter narrows and orders a staff list.
type Filter struct {
	Facility  uuid.UUID
	Status    Status // an application status; "" = every filed one
	StartFrom date.Date
	StartTo   date.Date
	CareHours int
	Sort      string // points (default), submitted, start, name
	Limit     int
}

// Sort orders of the staff lists.
var sorts = map[string]string{
	"points":    "", // the city's ranking, in Go after the points are known (ranking.go)
	"submitted": "a.submitted_at, a.id",
	"start":     "a.start_date, a.submitted_at, a.id",
	"name":      "n.last_name, n.first_name, a.id",
}

// MaxRequestRows caps one list (and its CSV); filters narrow further.
const MaxRequestRows = 5000

// ParseFilter reads a list's query; garbage is refused with the field named.
func ParseFilter(get func(string) string) (Filter, error) {
	var f Filter
	var errs apperr.List
	if s := get("facility"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			errs = append(errs, apperr.Invalid("facility", "facility_unknown", nil))
		}
		f.Facility = id
	}
	if s := get("status"); s != "" {
		if st := Status(s); st.In(Filed) {
			f.Status = st
		} else {
			errs = append(errs, apperr.Invalid("status", "status_unknown", nil))
		}
	}
	for _, p := range []struct {
		name string
		dst  *date.Date
	}{{"start_from", &f.StartFrom}, {"start_to", &f.StartTo}} {
		if s := get(p.name); s != "" {
			d, err := date.Parse(s)
			if err != nil {
				errs = append(errs, apperr.Invalid(p.name, "date_invalid", nil))
			}
			*p.dst = d
		}
	}
	if s := get("care_hours"); s != "" {
		n := 0
		for _, r := range s {
			if r < '0' || r > '9' || n > 100 {
				errs = append(errs, apperr.Invalid("care_hours", "care_scope_unknown", map[string]any{"scopes": ""}))
				break
			}
			n = n*10 + int(r-'0')
		}
		f.CareHours = n
	}
	f.Sort = get("sort")
	if _, ok := sorts[f.Sort]; !ok && f.Sort != "" {
		errs = append(errs, apperr.Invalid("sort", "sort_unknown", nil))
	}
	if f.Sort == "" {
		f.Sort = "points"
	}
	return f, errs.Err()
}

// cityWide tells whether the caller sees the whole city's requests and every choice of a
// family: tenant admins, case workers, support (read-only) and the city's back-office
// software (a machine credential with the scope).
func cityWide(ctx context.Context, tx bun.IDB, c auth.Caller) (bool, error) {
	if c.Principal.Kind == auth.KindSupport || c.Principal.Kind == auth.KindMachine {
		return true, nil
	}
	return authz.HoldsAnyRole(ctx, tx, c.Tenant.ID, c.Principal.ID, authz.RoleTenantAdmin, authz.RoleCaseWorker)
}

// Requests lists the filed requests naming a facility in the caller's scope.
func (s *Service) Requests(ctx context.Context, c auth.Caller, f Filter) ([]RequestRow, error) {
	rows := []RequestRow{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if rows, err = requestRows(ctx, tx, c, f); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionRequestsListed, ObjectKind: "facility",
			ObjectID: idOrEmpty(f.Facility), ChildIDs: childIDs(rows), Details: map[string]any{"rows": len(rows)}})
	})
	return rows, database.Classify(err)
}

// Audit actions of the request flows.
const (
	ActionRequestsListed   = "requests.listed"
	ActionRequestsExported = "export.created"
	ActionRequestRead      = "request.read"
	ActionRequestDecided   = "request.decided"
)

// requestRows reads the list: the requests' choices of the facilities in the caller's
// scope (provider), with the children's names and birth dates and whether a possible
// duplicate is open (family).
func requestRows(ctx context.Context, tx bun.IDB, c auth.Caller, f Filter) ([]RequestRow, error) {
	rows := []RequestRow{}
	scoped, err := provider.FacilitiesInScope(ctx, tx, c, 0)
	if err != nil {
		return nil, err
	}
	facility := map[uuid.UUID]string{}
	ids := []uuid.UUID{}
	for _, fa := range scoped {
		if f.Facility == uuid.Nil || fa.ID == f.Facility {
			facility[fa.ID] = fa.Name
			ids = append(ids, fa.ID)
		}
	}
	if len(ids) == 0 {
		return rows, nil
	}
	from := ` FROM application a JOIN application_choice c ON c.tenant_id = a.tenant_id AND c.application_id = a.id`
	where := ` WHERE a.tenant_id = ? AND a.status = ANY(?::text[]) AND c.facility_id = ANY(?::uuid[])`
	args := []any{c.Tenant.ID, pgdialect.Array(Filed), pgdialect.Array(ids)}
	if f.Status != "" {
		where += ` AND a.status = ?`
		args = append(args, f.Status)
	}
	if !f.StartFrom.IsZero() {
		where += ` AND a.start_date >= ?`
		args = append(args, f.StartFrom)
	}
	if !f.StartTo.IsZero() {
		where += ` AND a.start_date <= ?`
		args = append(args, f.StartTo)
	}
	if f.CareHours > 0 {
		where += ` AND a.care_hours = ?`
		args = append(args, f.CareHours)
	}
	var cards map[uuid.UUID]family.ChildCard
	join, joinArgs := "", []any{}
	if f.Sort == "name" {
		// The database orders by name (its collation), so the names of every child the
		// list may show go into the query as a table.
		var kids []uuid.UUID
		if err := tx.NewRaw(`SELECT DISTINCT a.child_id`+from+where, args...).Scan(ctx, &kids); err != nil {
			return nil, err
		}
		if cards, err = family.ChildCards(ctx, tx, c.Tenant.ID, kids); err != nil {
			return nil, err
		}
		var last, first []string
		for _, id := range kids {
			last, first = append(last, cards[id].LastName), append(first, cards[id].FirstName)
		}
		join = ` JOIN unnest(?::uuid[], ?::text[], ?::text[]) AS n(child_id, last_name, first_name) ON n.child_id = a.child_id`
		joinArgs = []any{pgdialect.Array(kids), pgdialect.Array(last), pgdialect.Array(first)}
	}
	order := sorts[f.Sort]
	if order == "" {
		order = "a.submitted_at, a.id" // ranked in Go; full ties keep the filing order
	}
	limit := f.Limit
	if limit <= 0 || limit > MaxRequestRows {
		limit = MaxRequestRows
	}
	q := `SELECT a.id AS application_id, coalesce(a.reference, '') AS reference, a.child_id, a.start_date, a.care_hours, c.rank,
			c.facility_id, c.status AS choice_status, a.status, a.source, a.submitted_at, a.criteria` + from + join + where +
		` ORDER BY ` + order + `, c.rank LIMIT ?`
	args = append(append(joinArgs, args...), limit)
	if err := tx.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	kids := childIDs(rows)
	if cards == nil {
		if cards, err = family.ChildCards(ctx, tx, c.Tenant.ID, kids); err != nil {
			return nil, err
		}
	}
	dup, err := family.WithOpenDuplicate(ctx, tx, c.Tenant.ID, kids)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		r := &rows[i]
		ch := cards[r.ChildID]
		r.FirstName, r.LastName, r.BirthDate = ch.FirstName, ch.LastName, ch.Birth()
		r.Facility, r.Duplicate = facility[r.FacilityID], dup[r.ChildID]
	}
	if err := scoreRows(ctx, tx, c.Tenant, rows); err != nil { // points at each row's facility (claims.go)
		return nil, err
	}
	if f.Sort == "points" {
		sibling, err := siblingsOf(ctx, tx, c.Tenant, rows, cards)
		if err != nil {
			return nil, err
		}
		rankRows(c.Tenant.Rules, rows, rankInputs{sibling: sibling})
	}
	return rows, nil
}

func childIDs(rows []RequestRow) []uuid.UUID {
	seen := map[uuid.UUID]bool{}
	out := []uuid.UUID{}
	for _, r := range rows {
		if !seen[r.ChildID] {
			seen[r.ChildID] = true
			out = append(out, r.ChildID)
		}
	}
	return out
}

func idOrEmpty(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

// Export is Requests for a CSV download; the export is audited as such.
func (s *Service) Export(ctx context.Context, c auth.Caller, f Filter) ([]RequestRow, error) {
	rows := []RequestRow{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if rows, err = requestRows(ctx, tx, c, f); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionRequestsExported, ObjectKind: "requests",
			ObjectID: idOrEmpty(f.Facility), ChildIDs: childIDs(rows), Details: map[string]any{"rows": len(rows), "format": "csv"}})
	})
	return rows, database.Classify(err)
}

// StaffView is a request as staff in scope see it.
type StaffView struct {
	*Application
	Family      *family.Family     `json:"family"`
	SpecialNeed bool               `json:"special_needs_noted"`
	Consent     *Consent           `json:"walk_in_consent,omitempty"`
	Hidden      int                `json:"other_choices_hidden"` // choices of other facilities not shown
	CanDecide   map[int][]string   `json:"can_decide,omitempty"` // rank → possible actions
	CanOffer    map[int]bool       `json:"can_offer,omitempty"`  // rank → a place may be offered
	Criteria    []tenant.Criterion `json:"-"`

	// CanClaim: criterion → the caller may confirm or reject its claim (claims.go).
	CanClaim map[string]bool    `json:"can_decide_claims,omitempty"`
	claims   []Claim            // every claim, also those for facilities not shown
	inScope  map[uuid.UUID]bool // the facilities in the caller's scope
}

// Consent is the recorded consent to a walk-in registration.
type Consent struct {
	GivenBy    string    `bun:"given_by" json:"given_by"`
	GivenAt    time.Time `bun:"given_at" json:"given_at"`
	Method     string    `bun:"method" json:"method"`
	Note       string    `bun:"note" json:"note,omitempty"`
	RecordedAt time.Time `bun:"recorded_at" json:"recorded_at"`
}

// inScope is the condition "the application was filed and one of its choices names a
// facility of scoped" (the facilities in the caller's scope).
func inScope(scoped []uuid.UUID) (string, []any) {
	return `a.status = ANY(?::text[]) AND EXISTS (SELECT 1 FROM application_choice sc
		WHERE sc.tenant_id = a.tenant_id AND sc.application_id = a.id AND sc.facility_id = ANY(?::uuid[]))`,
		[]any{pgdialect.Array(Filed), pgdialect.Array(scoped)}
}

// Request shows one request to staff in scope (audited as a read of the child's data).
func (s *Service) Request(ctx context.Context, c auth.Caller, id uuid.UUID) (*StaffView, error) {
	var out *StaffView
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = s.staffView(ctx, tx, c, id, false)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionRequestRead, ObjectKind: "application",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{out.ChildID}})
	})
	return out, database.Classify(err)
}

func (s *Service) staffView(ctx context.Context, tx bun.IDB, c auth.Caller, id uuid.UUID, lock bool) (*StaffView, error) {
	scoped, err := provider.ScopeFacilityIDs(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	cond, args := inScope(scoped)
	a, familyID, err := load(ctx, tx, c.Tenant, id, lock, cond, args...)
	if err != nil {
		return nil, err
	}
	out := &StaffView{Application: a, Criteria: c.Tenant.Rules.Criteria.Catalogue}
	if out.Family, err = family.Load(ctx, tx, c.Tenant, familyID); err != nil {
		return nil, err
	}
	// Health details stay in the child's record for those who need them; the request
	// only says that there are some.
	for i := range out.Family.Children {
		if out.Family.Children[i].ID == a.ChildID {
			out.SpecialNeed = out.Family.Children[i].SpecialNeeds != ""
		}
		out.Family.Children[i].SpecialNeeds = ""
	}
	var consent Consent
	if err := tx.NewRaw(`SELECT given_by, given_at, method, note, recorded_at FROM application_consent WHERE tenant_id = ? AND application_id = ?`,
		c.Tenant.ID, id).Scan(ctx, &consent); err == nil {
		out.Consent = &consent
	}
	wide, err := cityWide(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	visible := choicesInScope(a, scoped)
	if !wide && !c.Tenant.Rules.Allocation.FacilitiesSeeOtherChoices {
		kept := a.Choices[:0]
		for _, ch := range a.Choices {
			if visible[ch.Rank] {
				kept = append(kept, ch)
			} else {
				out.Hidden++
			}
		}
		a.Choices = kept
		a.Tagespflege = nil
	}
	s.viewClaims(out, c, scoped, !wide && !c.Tenant.Rules.Allocation.FacilitiesSeeOtherChoices)
	out.CanDecide = map[int][]string{}
	if c.Tenant.Rules.Allocation.Mode != tenant.ModeDeferredAcceptance && c.Principal.Kind == auth.KindStaff &&
		s.authz.Allowed(c.Principal, c.Tenant.ID.String(), "requests.decide") {
		for _, ch := range a.Choices {
			if visible[ch.Rank] {
				if acts := nextChoiceActions(c.Tenant.Rules.Allocation.Mode, a.Status, ch.Status); len(acts) > 0 {
					out.CanDecide[ch.Rank] = acts
				}
			}
		}
	}
	out.CanOffer = map[int]bool{}
	if c.Tenant.Rules.Allocation.Mode != tenant.ModeDeferredAcceptance && c.Principal.Kind == auth.KindStaff &&
		(a.Status.In(Deciding) || a.Status == StatusOffered) && s.authz.Allowed(c.Principal, c.Tenant.ID.String(), "offers.make") {
		for _, ch := range a.Choices {
			if _, ok := NextChoice(ch.Status, EventOffer); ok && visible[ch.Rank] {
				out.CanOffer[ch.Rank] = true
			}
		}
	}
	return out, nil
}

// choicesInScope is the set of ranks of a whose facility is one of scoped.
func choicesInScope(a *Application, scoped []uuid.UUID) map[int]bool {
	out := map[int]bool{}
	for _, ch := range a.Choices {
		if slices.Contains(scoped, ch.Facility.ID) {
			out[ch.Rank] = true
		}
	}
	return out
}

// Decisions a facility takes on a choice in decentral mode.
const (
	DecideReview  = "review"
	DecideRefuse  = "refuse"
	DecidePropose = "propose"
	DecidePass    = "pass" // cascade: hand the request to the next choice
)

// decisions are what a facility may decide on its choice, in the order offered, and the
// event of each.
var decisions = []struct {
	action string
	event  Event
}{{DecideReview, EventReview}, {DecidePropose, EventPropose}, {DecideRefuse, EventRefuse}, {DecidePass, EventPass}}

// nextChoiceActions lists what may happen to a choice: the decisions the lifecycle
// allows from its status (a pending one may be reviewed, proposed or refused; one in
// review proposed or refused; in a cascade city passed on). Nothing once the
// application left the facilities' hands.
func nextChoiceActions(mode string, appStatus Status, choiceStatus ChoiceStatus) []string {
	if !appStatus.In(Deciding) {
		return nil
	}
	var out []string
	for _, d := range decisions {
		if d.event == EventPass && mode != tenant.ModeCascade {
			continue
		}
		if _, ok := NextChoice(choiceStatus, d.event); ok {
			out = append(out, d.action)
		}
	}
	return out
}

// Decide records a facility's decision on its choice of a request (decentral cities):
// in review, refused with a reason, or a place proposed (the offer follows). The
// application's status follows its choices; the family is told.
func (s *Service) Decide(ctx context.Context, c auth.Caller, id uuid.UUID, rank int, action, note string) (*StaffView, error) {
	note, err := auth.FreeText("note", note, 0, 1000)
	if err != nil {
		return nil, err
	}
	if action == DecideRefuse && note == "" {
		return nil, apperr.Invalid("note", "refusal_reason_required", nil)
	}
	now := s.now()
	var out *StaffView
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		v, err := s.staffView(ctx, tx, c, id, true)
		if err != nil {
			return err
		}
		if c.Tenant.Rules.Allocation.Mode == tenant.ModeDeferredAcceptance {
			return apperr.Conflict("allocation_mode_central")
		}
		allowed := v.CanDecide[rank]
		if len(allowed) == 0 {
			return apperr.Conflict("choice_not_decidable")
		}
		if !contains(allowed, action) {
			return apperr.Invalid("action", "decision_unknown", nil)
		}
		var ev Event
		for _, d := range decisions {
			if d.action == action {
				ev = d.event
			}
		}
		var facility string
		for _, ch := range v.Choices {
			if ch.Rank == rank {
				facility = ch.Facility.Name
			}
		}
		actor := Actor{Kind: "staff", ID: c.Principal.ID}
		to, err := s.decide(ctx, tx, c.Tenant, v, rank, facility, ev, actor, note, now)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionRequestDecided, ObjectKind: "application",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{v.ChildID}, Details: map[string]any{"rank": rank, "decision": action}}); err != nil {
			return err
		}
		if out, err = s.staffView(ctx, tx, c, id, false); err != nil {
			return err
		}
		return s.tellFamily(ctx, tx, c.Tenant, out.Family.ID, out.Application, NoticeStatus, statusExtra(string(to), facility, note))
	})
	return out, database.Classify(err)
}

// decide moves choice rank of request v by ev and the request with it. In a cascade city
// a refusal or a pass hands the request to the next choice.
func (s *Service) decide(ctx context.Context, tx bun.IDB, t *tenant.Tenant, v *StaffView, rank int, facility string, ev Event, actor Actor,
	note string, now time.Time) (ChoiceStatus, error) {
	if ev == EventPass {
		_, err := Pass(ctx, tx, t, &Placing{ApplicationID: v.ID, Status: v.Status, Rank: rank, FacilityName: facility}, actor, note, now)
		return ChoicePassed, err
	}
	_, to, err := TransitionChoice(ctx, tx, t.ID, v.ID, rank, ev, note, now)
	if err != nil {
		return "", err
	}
	// One history entry records the decision with what became of the request.
	eventNote := strings.TrimSpace(facility + ": " + string(to) + " " + note)
	follow, err := derivedEvent(ctx, tx, t.ID, v.ID, v.Status)
	if err != nil {
		return "", err
	}
	if follow != "" {
		_, _, err = Transition(ctx, tx, t.ID, v.ID, follow, actor, eventNote, now)
	} else {
		err = record(ctx, tx, t.ID, v.ID, actor, v.Status, eventNote, now)
	}
	if err != nil {
		return "", err
	}
	if ev == EventRefuse && t.Rules.Allocation.Mode == tenant.ModeCascade {
		if err := endTurn(ctx, tx, t.ID, v.ID, rank); err != nil {
			return "", err
		}
		_, err = Forward(ctx, tx, t, v.ID, actor, now)
	}
	return to, err
}

// derivedEvent is what a change of a choice does to its request: refuse it when every
// choice is refused, put it in review once a facility works on it, else nothing ("").
func derivedEvent(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, current Status) (Event, error) {
	var total, refused, working int
	if err := tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = ?),
		count(*) FILTER (WHERE status = ANY(?::text[]))
		FROM application_choice WHERE tenant_id = ? AND application_id = ?`,
		ChoiceRefused, pgdialect.Array(WorkedChoices), tenantID, id).Scan(&total, &refused, &working); err != nil {
		return "", err
	}
	switch {
	case total > 0 && refused == total:
		return EventRefuse, nil
	case working > 0 && current == StatusSubmitted:
		return EventReview, nil
	}
	return "", nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
