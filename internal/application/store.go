package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/care"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
	"kitaportal/internal/ticket"
)

// The SQL of applications. Functions take the tenant transaction they run in.

type appRow struct {
	ID          uuid.UUID       `bun:"id"`
	ChildID     uuid.UUID       `bun:"child_id"`
	Reference   *string         `bun:"reference"`
	Status      Status          `bun:"status"`
	StartDate   date.Date       `bun:"start_date"`
	CareHours   int             `bun:"care_hours"`
	Criteria    json.RawMessage `bun:"criteria,type:jsonb"`
	Source      string          `bun:"source"`
	SubmittedAt *time.Time      `bun:"submitted_at"`
	DeclaredAt  *time.Time      `bun:"declared_at"`
	TicketID    *uuid.UUID      `bun:"ticket_id"`
	Version     int             `bun:"version"`
	CreatedAt   time.Time       `bun:"created_at"`
	UpdatedAt   time.Time       `bun:"updated_at"`
	Choices     json.RawMessage `bun:"choices_json,type:jsonb"`
	History     json.RawMessage `bun:"history_json,type:jsonb"`
	Claims      json.RawMessage `bun:"claims_json,type:jsonb"`
}

// appColumns reads an application with its ranked choices and its history in one round
// trip (the choices and events as JSON arrays); complete adds the child and the
// facilities' names.
const appColumns = `a.id, a.child_id, a.reference, a.status, a.start_date, a.care_hours, a.criteria, a.source,
	a.submitted_at, a.declared_at, a.ticket_id, a.version, a.created_at, a.updated_at,
	coalesce((SELECT jsonb_agg(jsonb_build_object('rank', c.rank, 'id', c.facility_id, 'status', c.status, 'note', c.note,
		'updated_at', c.updated_at, 'turn_until', c.turn_until) ORDER BY c.rank)
		FROM application_choice c WHERE c.tenant_id = a.tenant_id AND c.application_id = a.id), '[]') AS choices_json,
	coalesce((SELECT jsonb_agg(jsonb_build_object('at', e.at, 'actor', e.actor_kind, 'from_status', coalesce(e.from_status, ''),
		'to_status', e.to_status, 'note', e.note) ORDER BY e.at, e.id)
		FROM application_event e WHERE e.tenant_id = a.tenant_id AND e.application_id = a.id), '[]') AS history_json,
	` + claimColumn

const appFrom = ` FROM application a `

// load reads application id with its choices and history; cond narrows who may see it
// (the family's, or staff scope), with its arguments. It answers the child's family too.
func load(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID, lock bool, cond string, condArgs ...any) (*Application, uuid.UUID, error) {
	q := `SELECT ` + appColumns + appFrom + ` WHERE a.tenant_id = ? AND a.id = ?`
	if cond != "" {
		q += ` AND ` + cond
	}
	if lock {
		q += ` FOR UPDATE OF a`
	}
	var row appRow
	err := tx.NewRaw(q, append([]any{t.ID, id}, condArgs...)...).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, uuid.Nil, ErrNotFound
	}
	if err != nil {
		return nil, uuid.Nil, fmt.Errorf("read application: %w", err)
	}
	apps, families, err := complete(ctx, tx, t, []appRow{row})
	if err != nil {
		return nil, uuid.Nil, err
	}
	return apps[0], families[0], nil
}

// ofFamily is the condition "the application's child belongs to family familyID".
func ofFamily(ctx context.Context, tx bun.IDB, tenantID, familyID uuid.UUID) (string, []any, error) {
	kids, err := family.ChildIDsOf(ctx, tx, tenantID, familyID)
	return `a.child_id = ANY(?::uuid[])`, []any{pgdialect.Array(kids)}, err
}

// choiceJSON is a choice as appColumns reads it.
type choiceJSON struct {
	Rank    int          `json:"rank"`
	ID      uuid.UUID    `json:"id"`
	Status  ChoiceStatus `json:"status"`
	Note    string       `json:"note"`
	Updated time.Time    `json:"updated_at"`
	Turn    *time.Time   `json:"turn_until"`
}

// complete makes applications of rows, with their children (family) and the names of
// the facilities chosen (provider), one call each for all rows; it answers the family
// of each row's child too.
func complete(ctx context.Context, tx bun.IDB, t *tenant.Tenant, rows []appRow) ([]*Application, []uuid.UUID, error) {
	choices := make([][]choiceJSON, len(rows))
	var kids, facs []uuid.UUID
	for i, r := range rows {
		if err := json.Unmarshal(r.Choices, &choices[i]); err != nil {
			return nil, nil, fmt.Errorf("read choices: %w", err)
		}
		kids = append(kids, r.ChildID)
		for _, c := range choices[i] {
			facs = append(facs, c.ID)
		}
	}
	cards, err := family.ChildCards(ctx, tx, t.ID, kids)
	if err != nil {
		return nil, nil, err
	}
	names, err := provider.Summaries(ctx, tx, t.ID, facs)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*Application, len(rows))
	families := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ch := cards[r.ChildID]
		if out[i], err = fromRow(t, r, ch, choices[i], names); err != nil {
			return nil, nil, err
		}
		families[i] = ch.FamilyID
	}
	return out, families, nil
}

func fromRow(t *tenant.Tenant, row appRow, ch family.ChildCard, choices []choiceJSON, names map[uuid.UUID]provider.Summary) (*Application, error) {
	a := &Application{ID: row.ID, ChildID: row.ChildID, Status: row.Status, StartDate: row.StartDate, CareHours: row.CareHours,
		Source: row.Source, SubmittedAt: row.SubmittedAt, DeclaredAt: row.DeclaredAt, TicketID: row.TicketID, Version: row.Version,
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, Criteria: map[string]string{}, Choices: []Choice{}, History: []HistoryEntry{}}
	if row.Reference != nil {
		a.Reference = *row.Reference
	}
	_ = json.Unmarshal(row.Criteria, &a.Criteria)
	a.Points = Points(t.Rules, a.Criteria)
	a.Child = ChildSummary{FirstName: ch.FirstName, LastName: ch.LastName, BirthDate: ch.Birth(), Born: ch.Born()}
	for _, c := range choices {
		f := names[c.ID]
		a.Choices = append(a.Choices, Choice{Rank: c.Rank, Facility: Facility{ID: c.ID, Name: f.Name, Type: f.Type, District: f.District},
			Status: c.Status, Note: c.Note, Updated: c.Updated, TurnUntil: c.Turn})
		if d, ok := t.Rules.District(f.District); ok && care.IsTagespflege(f.Type) {
			a.Tagespflege = append(a.Tagespflege, Routing{Facility: f.Name, District: d.Name, Fachberatung: d.Fachberatung})
		}
	}
	if err := json.Unmarshal(row.History, &a.History); err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	d, err := decisionsOf(row.Claims)
	if err != nil {
		return nil, err
	}
	a.Claims = claimsOf(t.Rules, a.Criteria, d, func(id uuid.UUID) string { return names[id].Name })
	for i := range a.Choices {
		a.Choices[i].Points = PointsAt(t.Rules, a.Criteria, a.Choices[i].Facility.ID, d)
	}
	return a, nil
}

// listOfFamily lists the applications of a family's children, newest first.
func listOfFamily(ctx context.Context, tx bun.IDB, t *tenant.Tenant, familyID uuid.UUID) ([]*Application, error) {
	cond, args, err := ofFamily(ctx, tx, t.ID, familyID)
	if err != nil {
		return nil, err
	}
	var rows []appRow
	if err := tx.NewRaw(`SELECT `+appColumns+appFrom+` WHERE a.tenant_id = ? AND `+cond+` ORDER BY a.created_at DESC, a.id LIMIT 200`,
		append([]any{t.ID}, args...)...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	out, _, err := complete(ctx, tx, t, rows)
	return out, err
}

// facts gathers what the rules need about the child, the family and the chosen
// facilities: whether the child has another active application for the period, a valid
// ticket (ticket), and each chosen facility with the longest care its groups offer per
// age band (provider). exclude is the application being changed (not "another" one). Ids
// of other cities are simply not found (row-level security would hide them anyway).
func facts(ctx context.Context, tx bun.IDB, t *tenant.Tenant, fam *family.Family, ch *family.Child, start date.Date, in Input, today date.Date, exclude uuid.UUID) (Facts, error) {
	f := Facts{Today: today, Child: ChildFacts{BirthDate: ch.Birth(), Born: ch.Born()}, Start: start, CareHours: in.CareHours,
		Criteria: in.Criteria, Declared: in.Declared, Municipality: fam.Municipality, NoAddress: !fam.HasAddress()}
	period := start
	if !start.IsZero() {
		period = t.Rules.Calendar().YearStart(start)
	}
	var activeOther bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM application WHERE tenant_id = ? AND child_id = ? AND start_period = ?
		AND id <> ? AND status = ANY(?::text[]))`, t.ID, ch.ID, period, exclude, pgdialect.Array(Active)).Scan(&activeOther); err != nil {
		return f, fmt.Errorf("facts: %w", err)
	}
	f.ActiveOther = activeOther && !start.IsZero()
	var err error
	// Only a family from outside needs a ticket (file drops it for residents), so only
	// theirs is looked up: most filings are residents', on the registration-day path.
	if f.Municipality == "" {
		if f.Ticket, err = ticket.ValidFor(ctx, tx, t.ID, ch.ID, period, today); err != nil {
			return f, err
		}
	}
	f.HasTicket = f.Ticket != nil
	facs, err := provider.Choosables(ctx, tx, t.ID, in.Choices)
	if err != nil {
		return f, err
	}
	byID := map[uuid.UUID]provider.Choosable{}
	for _, fa := range facs {
		byID[fa.ID] = fa
	}
	for _, id := range in.Choices {
		if c, ok := byID[id]; ok {
			f.Choices = append(f.Choices, ChoiceFacts{FacilityID: id, Name: c.Name, Type: c.Type, Municipality: c.Municipality,
				District: c.District, Active: c.Active(), Found: true, Bands: c.Bands})
		} else {
			f.Choices = append(f.Choices, ChoiceFacts{FacilityID: id})
		}
	}
	return f, nil
}

// insert writes a new application with its choices and first history entry, in one
// statement: a draft, its choices pending.
func insert(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID, in Input, start date.Date, source string, staff *uuid.UUID, actor Actor, now time.Time) error {
	crit, _ := json.Marshal(orEmpty(in.Criteria))
	var declared *time.Time
	if in.Declared {
		declared = &now
	}
	choices := in.Choices
	if choices == nil {
		choices = []uuid.UUID{}
	}
	_, err := tx.ExecContext(ctx, `WITH a AS (
			INSERT INTO application (tenant_id, id, child_id, status, start_date, start_period, care_hours, criteria, source, declared_at,
				created_by_staff, created_at, updated_at) VALUES (?0, ?1, ?2, ?15, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING id),
		c AS (INSERT INTO application_choice (tenant_id, application_id, rank, facility_id, status, updated_at)
			SELECT ?0, a.id, c.rank, c.facility_id, ?16, ?10 FROM a, unnest(?11::uuid[]) WITH ORDINALITY AS c(facility_id, rank))
		INSERT INTO application_event (tenant_id, id, application_id, at, actor_kind, actor_id, to_status)
			SELECT ?0, ?12, a.id, ?10, ?13, ?14, ?15 FROM a`,
		t.ID, id, in.ChildID, start, t.Rules.Calendar().YearStart(start), in.CareHours, string(crit), source, declared, staff, now,
		pgdialect.Array(choices), uuid.Must(uuid.NewV7()), actor.Kind, actorRef(actor), StatusDraft, ChoicePending)
	if database.IsUniqueViolation(err, "application_one_active") {
		return apperr.Invalid("start_date", "application_exists_for_period", nil)
	}
	if err != nil {
		return fmt.Errorf("insert application: %w", err)
	}
	return nil
}

func actorRef(a Actor) *uuid.UUID {
	if a.ID == uuid.Nil {
		return nil
	}
	return &a.ID
}

// writeChoices replaces the ranked choices of an application.
func writeChoices(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, choices []uuid.UUID, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM application_choice WHERE tenant_id = ? AND application_id = ?`, tenantID, id); err != nil {
		return err
	}
	if len(choices) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO application_choice (tenant_id, application_id, rank, facility_id, status, updated_at)
		SELECT ?, ?, c.rank, c.facility_id, ?, ? FROM unnest(?::uuid[]) WITH ORDINALITY AS c(facility_id, rank)`,
		tenantID, id, ChoicePending, now, pgdialect.Array(choices)); err != nil {
		return fmt.Errorf("insert choices: %w", err)
	}
	return nil
}

// Actor is who changed an application, for its history.
type Actor struct {
	Kind string // parent, staff, system
	ID   uuid.UUID
}

// markSubmitted files draft id: the status, its history entry, the moment, the ticket
// and a reference number in one statement; it returns the reference.
func markSubmitted(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID, ticket *uuid.UUID, actor Actor, now time.Time) (string, error) {
	prefix := ReferencePrefix(t.Slug) + "-" + strconv.Itoa(date.In(now).Year()) + "-"
	ref, err := TransitionFiling(ctx, tx, t.ID, id, EventSubmit, Filing{At: now, Ticket: ticket, ReferencePrefix: prefix}, actor, "", now)
	if err != nil {
		return "", err
	}
	return ref, startCascade(ctx, tx, t, id, now)
}

// ReferencePrefix is the city part of reference numbers: the slug's first three
// letters, upper case (KEM, LEI, BOC, …).
func ReferencePrefix(slug string) string {
	prefix := strings.ToUpper(slug)
	if len(prefix) > 3 {
		prefix = prefix[:3]
	}
	return prefix
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
