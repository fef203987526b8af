package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// The SQL of applications. Functions take the tenant transaction they run in.

type appRow struct {
	ID          uuid.UUID       `bun:"id"`
	ChildID     uuid.UUID       `bun:"child_id"`
	FamilyID    uuid.UUID       `bun:"family_id"`
	Reference   *string         `bun:"reference"`
	Status      string          `bun:"status"`
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
	FirstName   string          `bun:"first_name"`
	LastName    string          `bun:"last_name"`
	BirthDate   *date.Date      `bun:"birth_date"`
	Expected    *date.Date      `bun:"expected_birth_date"`
}

const appColumns = `a.id, a.child_id, ch.family_id, a.reference, a.status, a.start_date, a.care_hours, a.criteria, a.source,
	a.submitted_at, a.declared_at, a.ticket_id, a.version, a.created_at, a.updated_at,
	ch.first_name, ch.last_name, ch.birth_date, ch.expected_birth_date`

const appFrom = ` FROM application a JOIN child ch ON ch.tenant_id = a.tenant_id AND ch.id = a.child_id `

// load reads application id with its choices and history; cond narrows who may see it
// (the family's, or staff scope), with its arguments.
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
	a := fromRow(t, row)
	if err := loadDetails(ctx, tx, t, a); err != nil {
		return nil, uuid.Nil, err
	}
	return a, row.FamilyID, nil
}

func fromRow(t *tenant.Tenant, row appRow) *Application {
	a := &Application{ID: row.ID, ChildID: row.ChildID, Status: row.Status, StartDate: row.StartDate, CareHours: row.CareHours,
		Source: row.Source, SubmittedAt: row.SubmittedAt, DeclaredAt: row.DeclaredAt, TicketID: row.TicketID, Version: row.Version,
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, Criteria: map[string]string{}, Choices: []Choice{}, History: []Event{}}
	if row.Reference != nil {
		a.Reference = *row.Reference
	}
	_ = json.Unmarshal(row.Criteria, &a.Criteria)
	a.Points = Points(t.Rules, a.Criteria)
	a.Child = ChildSummary{FirstName: row.FirstName, LastName: row.LastName, Born: row.BirthDate != nil}
	if row.BirthDate != nil {
		a.Child.BirthDate = *row.BirthDate
	} else if row.Expected != nil {
		a.Child.BirthDate = *row.Expected
	}
	return a
}

func loadDetails(ctx context.Context, tx bun.IDB, t *tenant.Tenant, a *Application) error {
	var choices []struct {
		Rank     int       `bun:"rank"`
		ID       uuid.UUID `bun:"facility_id"`
		Name     string    `bun:"name"`
		Type     string    `bun:"type"`
		District string    `bun:"district_key"`
		Status   string    `bun:"status"`
		Note     string    `bun:"note"`
		Updated  time.Time `bun:"updated_at"`
	}
	if err := tx.NewRaw(`SELECT c.rank, c.facility_id, f.name, f.type, coalesce(f.district_key, '') AS district_key, c.status, c.note, c.updated_at
		FROM application_choice c JOIN facility f ON f.tenant_id = c.tenant_id AND f.id = c.facility_id
		WHERE c.tenant_id = ? AND c.application_id = ? ORDER BY c.rank`, t.ID, a.ID).Scan(ctx, &choices); err != nil {
		return fmt.Errorf("read choices: %w", err)
	}
	for _, c := range choices {
		a.Choices = append(a.Choices, Choice{Rank: c.Rank, Facility: Facility{ID: c.ID, Name: c.Name, Type: c.Type, District: c.District},
			Status: c.Status, Note: c.Note, Updated: c.Updated})
		if IsTagespflege(c.Type) {
			if d, ok := t.Rules.District(c.District); ok {
				a.Tagespflege = append(a.Tagespflege, Routing{Facility: c.Name, District: d.Name, Fachberatung: d.Fachberatung})
			}
		}
	}
	var events []struct {
		At   time.Time `bun:"at"`
		Kind string    `bun:"actor_kind"`
		From *string   `bun:"from_status"`
		To   string    `bun:"to_status"`
		Note string    `bun:"note"`
	}
	if err := tx.NewRaw(`SELECT at, actor_kind, from_status, to_status, note FROM application_event
		WHERE tenant_id = ? AND application_id = ? ORDER BY at, id`, t.ID, a.ID).Scan(ctx, &events); err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	for _, e := range events {
		ev := Event{At: e.At, ActorKind: e.Kind, To: e.To, Note: e.Note}
		if e.From != nil {
			ev.From = *e.From
		}
		a.History = append(a.History, ev)
	}
	return nil
}

// listOfFamily lists the applications of a family's children, newest first.
func listOfFamily(ctx context.Context, tx bun.IDB, t *tenant.Tenant, familyID uuid.UUID) ([]*Application, error) {
	var rows []appRow
	if err := tx.NewRaw(`SELECT `+appColumns+appFrom+` WHERE a.tenant_id = ? AND ch.family_id = ? ORDER BY a.created_at DESC, a.id LIMIT 200`,
		t.ID, familyID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	out := make([]*Application, 0, len(rows))
	for _, r := range rows {
		a := fromRow(t, r)
		if err := loadDetails(ctx, tx, t, a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// facts gathers what the rules need about the child, the family and the chosen
// facilities; exclude is the application being changed (not "another" active one).
func facts(ctx context.Context, tx bun.IDB, t *tenant.Tenant, fam *family.Family, ch *family.Child, start date.Date, in Input, today date.Date, exclude uuid.UUID) (Facts, error) {
	f := Facts{Today: today, Child: ChildFacts{BirthDate: ch.Birth(), Born: ch.Born()}, Start: start, CareHours: in.CareHours,
		Criteria: in.Criteria, Declared: in.Declared, Municipality: fam.Municipality, NoAddress: !fam.HasAddress()}
	if !start.IsZero() {
		period := t.Rules.Calendar().YearStart(start)
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM application WHERE tenant_id = ? AND child_id = ? AND start_period = ?
			AND id <> ? AND status IN ('draft', 'submitted', 'in_review', 'offered', 'accepted'))`,
			t.ID, ch.ID, period, exclude).Scan(&f.ActiveOther); err != nil {
			return f, err
		}
		ticket, err := validTicket(ctx, tx, t.ID, ch.ID, period, today)
		if err != nil {
			return f, err
		}
		f.HasTicket = ticket != nil
	}
	var err error
	f.Choices, err = choiceFacts(ctx, tx, t.ID, in.Choices)
	return f, err
}

// choiceFacts describes the chosen facilities; ids of other cities are simply not found
// (row-level security would hide them anyway).
func choiceFacts(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) ([]ChoiceFacts, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []struct {
		ID           uuid.UUID `bun:"id"`
		Name         string    `bun:"name"`
		Type         string    `bun:"type"`
		Municipality string    `bun:"municipality_key"`
		Status       string    `bun:"status"`
	}
	if err := tx.NewRaw(`SELECT id, name, type, municipality_key, status FROM facility WHERE tenant_id = ? AND id = ANY(?)`,
		tenantID, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read chosen facilities: %w", err)
	}
	var groups []struct {
		FacilityID uuid.UUID `bun:"facility_id"`
		Band       string    `bun:"age_band"`
		Hours      int       `bun:"hours"`
	}
	if err := tx.NewRaw(`SELECT facility_id, age_band, max(care_hours) AS hours FROM facility_group
		WHERE tenant_id = ? AND facility_id = ANY(?) GROUP BY facility_id, age_band`, tenantID, pgdialect.Array(ids)).Scan(ctx, &groups); err != nil {
		return nil, fmt.Errorf("read groups: %w", err)
	}
	byID := map[uuid.UUID]*ChoiceFacts{}
	for _, r := range rows {
		byID[r.ID] = &ChoiceFacts{FacilityID: r.ID, Name: r.Name, Type: r.Type, Municipality: r.Municipality,
			Active: r.Status == "active", Found: true, Bands: map[string]int{}}
	}
	for _, g := range groups {
		if c := byID[g.FacilityID]; c != nil {
			c.Bands[g.Band] = g.Hours
		}
	}
	out := make([]ChoiceFacts, len(ids))
	for i, id := range ids {
		if c := byID[id]; c != nil {
			out[i] = *c
		} else {
			out[i] = ChoiceFacts{FacilityID: id}
		}
	}
	return out, nil
}

// validTicket returns the granted, unexpired ticket of child for the Kita year period.
func validTicket(ctx context.Context, tx bun.IDB, tenantID, childID uuid.UUID, period, today date.Date) (*uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRowContext(ctx, `SELECT id FROM access_ticket WHERE tenant_id = ? AND child_id = ? AND kita_year = ?
		AND status = 'granted' AND valid_until >= ? ORDER BY valid_until DESC LIMIT 1`, tenantID, childID, period, today).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// insert writes a new application with its choices and first history entry.
func insert(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID, in Input, start date.Date, source string, staff *uuid.UUID, actor Actor, now time.Time) error {
	crit, _ := json.Marshal(orEmpty(in.Criteria))
	var declared *time.Time
	if in.Declared {
		declared = &now
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO application (tenant_id, id, child_id, status, start_date, start_period, care_hours, criteria,
		source, declared_at, created_by_staff, created_at, updated_at) VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, id, in.ChildID, start, t.Rules.Calendar().YearStart(start), in.CareHours, string(crit), source, declared, staff, now, now)
	if database.IsUniqueViolation(err, "application_one_active") {
		return apperr.Invalid("start_date", "application_exists_for_period", nil)
	}
	if err != nil {
		return fmt.Errorf("insert application: %w", err)
	}
	if err := writeChoices(ctx, tx, t.ID, id, in.Choices, now); err != nil {
		return err
	}
	return addEvent(ctx, tx, t.ID, id, actor, "", StatusDraft, "", now)
}

// writeChoices replaces the ranked choices of an application.
func writeChoices(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, choices []uuid.UUID, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM application_choice WHERE tenant_id = ? AND application_id = ?`, tenantID, id); err != nil {
		return err
	}
	for i, f := range choices {
		if _, err := tx.ExecContext(ctx, `INSERT INTO application_choice (tenant_id, application_id, rank, facility_id, updated_at)
			VALUES (?, ?, ?, ?, ?)`, tenantID, id, i+1, f, now); err != nil {
			return fmt.Errorf("insert choice: %w", err)
		}
	}
	return nil
}

// Actor is who changed an application, for its history.
type Actor struct {
	Kind string // parent, staff, system
	ID   uuid.UUID
}

func addEvent(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, a Actor, from, to, note string, now time.Time) error {
	var fromPtr *string
	if from != "" {
		fromPtr = &from
	}
	var actorID *uuid.UUID
	if a.ID != uuid.Nil {
		actorID = &a.ID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO application_event (tenant_id, id, application_id, at, actor_kind, actor_id, from_status, to_status, note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, uuid.Must(uuid.NewV7()), id, now, a.Kind, actorID, fromPtr, to, note)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// nextReference numbers a submitted application: LEI-2026-000042. The counter row per
// city and year is locked for the moment of the update only.
func nextReference(ctx context.Context, tx bun.IDB, t *tenant.Tenant, year int) (string, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `INSERT INTO reference_counter (tenant_id, year, last) VALUES (?, ?, 1)
		ON CONFLICT (tenant_id, year) DO UPDATE SET last = reference_counter.last + 1 RETURNING last`, t.ID, year).Scan(&n); err != nil {
		return "", fmt.Errorf("reference: %w", err)
	}
	return fmt.Sprintf("%s-%d-%06d", ReferencePrefix(t.Slug), year, n), nil
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
