// Package contract is the contracts register (Betreuungsverträge) of the provider
// portal: staff enter a contract by hand — for a child they pick or enter with its family —
// or import many from CSV, terminate one, or change its care scope from a date. The
// database itself refuses two overlapping contracts for one child (an exclusion
// constraint); every write recomputes the expected availability of its facility in the
// same transaction, so the search shows the change with the next request. Every read and
// change of child data is audited with the children's ids.
package contract

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// ErrNotFound answers unknown contracts, other cities' and those outside the caller's
// scope alike.
var ErrNotFound = apperr.NotFound("not_found")

// Audit actions of the register.
const (
	ActionCreated      = "contract.created"
	ActionTerminated   = "contract.terminated"
	ActionCancelled    = "contract.cancelled"
	ActionScopeChanged = "contract.scope_changed"
	ActionImported     = "contract.imported"
	ActionRead         = "contract.read"
	ActionListed       = "contract.listed"
)

// Statuses of a contract.
const (
	StatusActive     = "active"
	StatusTerminated = "terminated" // ends early, on its end date
	StatusCancelled  = "cancelled"  // entered by mistake or never started: holds no place
)

// Contract is a contract as the register shows it.
type Contract struct {
	ID         uuid.UUID  `bun:"id" json:"id"`
	FacilityID uuid.UUID  `bun:"facility_id" json:"facility_id"`
	Facility   string     `bun:"facility" json:"facility"`
	GroupID    *uuid.UUID `bun:"group_id" json:"group_id,omitempty"`
	Group      string     `bun:"group_name" json:"group,omitempty"`
	ChildID    uuid.UUID  `bun:"child_id" json:"child_id"`
	FirstName  string     `bun:"first_name" json:"child_first_name"`
	LastName   string     `bun:"last_name" json:"child_last_name"`
	BirthDate  date.Date  `bun:"birth_date" json:"child_birth_date"`
	CareHours  int        `bun:"care_hours" json:"care_hours"`
	Start      date.Date  `bun:"start_date" json:"start_date"`
	End        date.Date  `bun:"end_date" json:"end_date"` // first day without care; zero: open-ended
	Status     string     `bun:"status" json:"status"`
	Source     string     `bun:"source" json:"source"`
	Reference  string     `bun:"reference" json:"reference,omitempty"`
	ReplacesID *uuid.UUID `bun:"replaces_id" json:"replaces_id,omitempty"`
}

// Running tells whether the contract holds a place on day d.
func (k Contract) Running(d date.Date) bool {
	return k.Status != StatusCancelled && !d.Before(k.Start) && (k.End.IsZero() || d.Before(k.End))
}

// contractColumns are the register's own columns of a contract; the facility's and
// group's names and the child's come from their owners (decorate).
const contractColumns = `k.id, k.facility_id, k.group_id, k.child_id, k.care_hours, k.start_date, k.end_date, k.status, k.source,
	coalesce(k.reference, '') AS reference, k.replaces_id`

// Service runs the register.
type Service struct {
	db        *bun.DB
	clock     clock.Clock
	waitlists Waitlists
}

// NewService returns the register's service; w ends the requests of a child that gets
// a contract.
func NewService(db *bun.DB, c clock.Clock, w Waitlists) *Service {
	return &Service{db: db, clock: c, waitlists: w}
}

// Today is the current day in Germany.
func (s *Service) Today() date.Date { return date.Today(s.clock) }

func (s *Service) inTx(ctx context.Context, c auth.Caller, fn func(ctx context.Context, tx bun.Tx) error) error {
	return database.Classify(database.InTenantTx(ctx, s.db, c.Tenant.ID, fn))
}

// load reads contract id when its facility is in the caller's scope, locked for update
// when lock is set. The lock is taken before the scope is checked: out of scope, the
// caller's transaction ends at once with ErrNotFound, and the lock with it.
func load(ctx context.Context, tx bun.Tx, c auth.Caller, id uuid.UUID, lock bool) (*Contract, error) {
	q := `SELECT ` + contractColumns + ` FROM contract k WHERE k.tenant_id = ? AND k.id = ?`
	if lock {
		q += ` FOR NO KEY UPDATE OF k`
	}
	var k Contract
	err := tx.NewRaw(q, c.Tenant.ID, id).Scan(ctx, &k)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("contract: load: %w", err)
	}
	f, err := provider.InScope(ctx, tx, c, k.FacilityID, false)
	if errors.Is(err, provider.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	ks := []Contract{k}
	if err := decorate(ctx, tx, c.Tenant.ID, ks, map[uuid.UUID]string{f.ID: f.Name}); err != nil {
		return nil, err
	}
	return &ks[0], nil
}

// decorate fills in the names of the contracts' facilities (from facilities), groups and
// children.
func decorate(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ks []Contract, facilities map[uuid.UUID]string) error {
	childIDs := make([]uuid.UUID, 0, len(ks))
	var groupIDs []uuid.UUID
	for _, k := range ks {
		childIDs = append(childIDs, k.ChildID)
		if k.GroupID != nil {
			groupIDs = append(groupIDs, *k.GroupID)
		}
	}
	children, err := family.ChildNames(ctx, tx, tenantID, childIDs)
	if err != nil {
		return err
	}
	names := make(map[uuid.UUID]family.ChildName, len(children))
	for _, ch := range children {
		names[ch.ID] = ch
	}
	groups, err := provider.GroupNames(ctx, tx, tenantID, groupIDs)
	if err != nil {
		return err
	}
	groupNames := make(map[uuid.UUID]string, len(groups))
	for _, g := range groups {
		groupNames[g.ID] = g.Name
	}
	for i := range ks {
		k := &ks[i]
		k.Facility = facilities[k.FacilityID]
		ch := names[k.ChildID]
		k.FirstName, k.LastName, k.BirthDate = ch.FirstName, ch.LastName, ch.Birth
		if k.GroupID != nil {
			k.Group = groupNames[*k.GroupID]
		}
	}
	return nil
}

// record writes the audit entry of an action on a contract, naming its child.
func record(ctx context.Context, tx bun.Tx, c auth.Caller, action string, k *Contract, details map[string]any) error {
	return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: action, ObjectKind: "contract", ObjectID: k.ID.String(),
		ChildIDs: []uuid.UUID{k.ChildID}, Details: details})
}

// Terms are what the rules of a contract need to know besides its dates.
type Terms struct {
	Birth      date.Date
	CareHours  int
	GroupHours int // the group's longest scope; 0: no group
	AgeMin     int // the facility's ages, in months
	AgeMax     int
	Scopes     []int
	Calendar   tenant.Calendar
}

// termsOf are the terms contract k must keep at facility f in city t; groupHours is the
// longest scope of its group (0: none). Staff entries and accepted offers check alike.
func termsOf(t *tenant.Tenant, f *provider.Ref, k *Contract, groupHours int) Terms {
	return Terms{Birth: k.BirthDate, CareHours: k.CareHours, GroupHours: groupHours, AgeMin: f.AgeMinMonths, AgeMax: f.AgeMaxMonths,
		Scopes: t.Rules.CareScopes, Calendar: t.Rules.Calendar()}
}

// Check holds for a contract that starts on or after the birth, within the facility's
// ages, with a scope the tenant offers and the group can take, and ends after it starts.
// An end left open is the planned end: school entry, or when the child outgrows the
// facility, whichever comes first. It returns the end to store.
func Check(t Terms, start, end date.Date) (date.Date, error) {
	var errs apperr.List
	if err := CheckHours(t.CareHours, t.GroupHours, t.Scopes); err != nil {
		errs = append(errs, err)
	}
	if start.Before(t.Birth) {
		return end, append(errs, apperr.Invalid("start_date", "start_before_birth", nil))
	}
	age := t.Birth.MonthsUntil(start)
	switch {
	case age < t.AgeMin:
		errs = append(errs, apperr.Invalid("start_date", "contract_child_too_young", map[string]any{"months": t.AgeMin}))
	case age >= t.AgeMax:
		errs = append(errs, apperr.Invalid("start_date", "contract_child_too_old", map[string]any{"months": t.AgeMax}))
	}
	if end.IsZero() {
		end = t.Birth.AddMonths(t.AgeMax)
		if school := t.Calendar.SchoolEntry(t.Birth); start.Before(school) && school.Before(end) {
			end = school
		}
	}
	if !end.After(start) {
		errs = append(errs, apperr.Invalid("end_date", "contract_end_before_start", nil))
	}
	return end, errs.Err()
}

// CheckHours holds for a weekly scope the tenant offers and the group (groupHours, 0: no
// group) can take.
func CheckHours(hours, groupHours int, scopes []int) *apperr.Error {
	if !slices.Contains(scopes, hours) {
		return apperr.Invalid("care_hours", "contract_care_hours", map[string]any{"allowed": tenant.ScopesText(scopes)})
	}
	if groupHours > 0 && hours > groupHours {
		return apperr.Invalid("care_hours", "contract_care_hours_group", map[string]any{"hours": groupHours})
	}
	return nil
}

// facilityTerms reads the facility of a new contract in the caller's scope and its group,
// if one is named. The facility is not locked here: availability.Refresh locks the
// facilities of a transaction in one order before it counts, which also keeps two imports
// of many facilities from deadlocking each other.
func facilityTerms(ctx context.Context, tx bun.Tx, c auth.Caller, facilityID, groupID uuid.UUID) (*provider.Ref, int, error) {
	f, err := provider.InScope(ctx, tx, c, facilityID, false)
	if err != nil {
		return nil, 0, apperr.NotFound("not_found").WithField("facility_id")
	}
	hours, err := groupTerms(ctx, tx, c.Tenant.ID, f, groupID)
	return f, hours, err
}

// groupTerms is the longest scope of group groupID of facility f (0: no group given).
func groupTerms(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, f *provider.Ref, groupID uuid.UUID) (int, error) {
	if groupID == uuid.Nil {
		return 0, nil
	}
	hours, found, err := provider.GroupHours(ctx, tx, tenantID, f.ID, groupID)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, apperr.Invalid("group_id", "contract_group_unknown", nil)
	}
	return hours, nil
}
