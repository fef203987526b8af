// Package childfile is the records of children as staff in their scope see them: the
// children under contract at a facility and a child's record with guardians, contracts
// and requests, every read audited. The coming child file (Kinderakte) lives here.
package childfile

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
)

// The records staff see. Every query carries the caller's object scope
// (authz.FacilityScope), so a facility lead's query cannot return another facility's
// children, and every read of child or family data writes an audit entry naming the
// children, in the same transaction.

// Service reads the records. Every method is one tenant transaction.
type Service struct {
	db    bun.IDB
	clock clock.Clock
}

// NewService returns the records service.
func NewService(db bun.IDB, clk clock.Clock) *Service { return &Service{db: db, clock: clk} }

// ErrNotFound answers unknown ids, other cities' and those outside the caller's scope
// alike.
var ErrNotFound = apperr.NotFound("not_found")

// FacilitySummary is one facility in the caller's scope.
type FacilitySummary struct {
	ID       uuid.UUID `bun:"id" json:"id"`
	Name     string    `bun:"name" json:"name"`
	Type     string    `bun:"type" json:"type"`
	City     string    `bun:"city" json:"city"`
	District string    `bun:"district_key" json:"district,omitempty"`
	Children int       `bun:"children" json:"children"`
}

// Facilities lists the facilities the caller's roles reach, with how many children have
// a running or future contract there (a number, not child data).
func (s *Service) Facilities(ctx context.Context, c auth.Caller) ([]FacilitySummary, error) {
	scope, args := authz.FacilityScope(c.Principal, "f")
	today := date.Today(s.clock)
	var out []FacilitySummary
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT f.id, f.name, f.type, f.city, coalesce(f.district_key, '') AS district_key,
			(SELECT count(DISTINCT k.child_id) FROM contract k WHERE k.tenant_id = f.tenant_id AND k.facility_id = f.id
			   AND k.status <> 'cancelled' AND (k.end_date IS NULL OR k.end_date > ?)) AS children
			FROM facility f WHERE f.tenant_id = ? AND `+scope+` ORDER BY f.name, f.id LIMIT 1000`,
			append([]any{today, c.Tenant.ID}, args...)...).Scan(ctx, &out)
	})
	return out, err
}

// ChildRow is a child as a facility's list shows it.
type ChildRow struct {
	ID        uuid.UUID `bun:"id" json:"id"`
	FirstName string    `bun:"first_name" json:"first_name"`
	LastName  string    `bun:"last_name" json:"last_name"`
	BirthDate date.Date `bun:"birth_date" json:"birth_date"`
	Group     string    `bun:"group_name" json:"group,omitempty"`
	CareHours int       `bun:"care_hours" json:"care_hours"`
	Start     date.Date `bun:"start_date" json:"start_date"`
	End       date.Date `bun:"end_date" json:"end_date,omitempty"`
}

// FacilityView is a facility in scope with its children.
type FacilityView struct {
	Facility FacilitySummary `json:"facility"`
	Children []ChildRow      `json:"children"`
}

// Facility shows one facility in the caller's scope with the children under contract
// there. Unknown ids, other cities' ids and facilities outside the scope are all "not
// found". The list is audited with every child it shows.
func (s *Service) Facility(ctx context.Context, c auth.Caller, id uuid.UUID) (*FacilityView, error) {
	scope, args := authz.FacilityScope(c.Principal, "f")
	today := date.Today(s.clock)
	out := &FacilityView{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewRaw(`SELECT f.id, f.name, f.type, f.city, coalesce(f.district_key, '') AS district_key, 0 AS children
			FROM facility f WHERE f.tenant_id = ? AND f.id = ? AND `+scope, append([]any{c.Tenant.ID, id}, args...)...).Scan(ctx, &out.Facility)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := tx.NewRaw(`SELECT ch.id, ch.first_name, ch.last_name, coalesce(ch.birth_date, ch.expected_birth_date) AS birth_date,
			coalesce(g.name, '') AS group_name, k.care_hours, k.start_date, k.end_date
			FROM contract k
			JOIN child ch ON ch.tenant_id = k.tenant_id AND ch.id = k.child_id
			LEFT JOIN facility_group g ON g.tenant_id = k.tenant_id AND g.id = k.group_id
			WHERE k.tenant_id = ? AND k.facility_id = ? AND k.status <> 'cancelled' AND (k.end_date IS NULL OR k.end_date > ?)
			ORDER BY g.name NULLS LAST, ch.last_name, ch.first_name, ch.id LIMIT 2000`, c.Tenant.ID, id, today).Scan(ctx, &out.Children); err != nil {
			return err
		}
		out.Facility.Children = len(out.Children)
		ids := make([]uuid.UUID, len(out.Children))
		for i, ch := range out.Children {
			ids[i] = ch.ID
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: audit.ActionChildrenListed,
			ObjectKind: "facility", ObjectID: id.String(), ChildIDs: ids, Details: map[string]any{"children": len(ids)}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ChildRecord is a child's record as staff in scope see it.
type ChildRecord struct {
	ID        uuid.UUID        `bun:"id" json:"id"`
	FirstName string           `bun:"first_name" json:"first_name"`
	LastName  string           `bun:"last_name" json:"last_name"`
	BirthDate *date.Date       `bun:"birth_date" json:"birth_date,omitempty"`
	Expected  *date.Date       `bun:"expected_birth_date" json:"expected_birth_date,omitempty"`
	FamilyID  uuid.UUID        `bun:"family_id" json:"family_id"`
	Street    string           `bun:"street" json:"street"`
	House     string           `bun:"house_number" json:"house_number"`
	PLZ       string           `bun:"plz" json:"plz"`
	City      string           `bun:"city" json:"city"`
	Guardians []GuardianRow    `bun:"-" json:"guardians"`
	Contracts []ContractRow    `bun:"-" json:"contracts"`
	Requests  []ApplicationRow `bun:"-" json:"applications"`
	ReadAt    time.Time        `bun:"-" json:"read_at"`
}

// GuardianRow is a guardian of the child's family.
type GuardianRow struct {
	FirstName string  `bun:"first_name" json:"first_name"`
	LastName  string  `bun:"last_name" json:"last_name"`
	Email     *string `bun:"email" json:"email,omitempty"`
	Phone     *string `bun:"phone" json:"phone,omitempty"`
}

// ContractRow is one of the child's contracts in the caller's scope.
type ContractRow struct {
	Facility  string    `bun:"facility" json:"facility"`
	CareHours int       `bun:"care_hours" json:"care_hours"`
	Start     date.Date `bun:"start_date" json:"start_date"`
	End       date.Date `bun:"end_date" json:"end_date,omitempty"`
	Status    string    `bun:"status" json:"status"`
}

// ApplicationRow is one of the child's requests that names a facility in scope.
type ApplicationRow struct {
	Reference string    `bun:"reference" json:"reference,omitempty"`
	Status    string    `bun:"status" json:"status"`
	Start     date.Date `bun:"start_date" json:"start_date"`
	CareHours int       `bun:"care_hours" json:"care_hours"`
}

// Child shows a child's record if the child has a contract at, or a request for, a
// facility in the caller's scope; otherwise (other city, unknown, out of scope) it is
// "not found". The read is audited.
func (s *Service) Child(ctx context.Context, c auth.Caller, id uuid.UUID) (*ChildRecord, error) {
	scope, args := authz.FacilityScope(c.Principal, "f")
	out := &ChildRecord{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		inScope := `(EXISTS (SELECT 1 FROM contract k JOIN facility f ON f.tenant_id = k.tenant_id AND f.id = k.facility_id
		               WHERE k.tenant_id = ch.tenant_id AND k.child_id = ch.id AND ` + scope + `)
		         OR EXISTS (SELECT 1 FROM application a JOIN application_choice ac ON ac.tenant_id = a.tenant_id AND ac.application_id = a.id
		               JOIN facility f ON f.tenant_id = ac.tenant_id AND f.id = ac.facility_id
		               WHERE a.tenant_id = ch.tenant_id AND a.child_id = ch.id AND a.status <> 'draft' AND ` + scope + `))`
		qargs := append(append([]any{c.Tenant.ID, id}, args...), args...)
		err := tx.NewRaw(`SELECT ch.id, ch.first_name, ch.last_name, ch.birth_date, ch.expected_birth_date, ch.family_id,
			fam.street, fam.house_number, fam.plz, fam.city
			FROM child ch JOIN family fam ON fam.tenant_id = ch.tenant_id AND fam.id = ch.family_id
			WHERE ch.tenant_id = ? AND ch.id = ? AND `+inScope, qargs...).Scan(ctx, out)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := tx.NewRaw(`SELECT first_name, last_name, email, phone FROM guardian WHERE tenant_id = ? AND family_id = ? ORDER BY last_name, first_name`,
			c.Tenant.ID, out.FamilyID).Scan(ctx, &out.Guardians); err != nil {
			return err
		}
		if err := tx.NewRaw(`SELECT f.name AS facility, k.care_hours, k.start_date, k.end_date, k.status
			FROM contract k JOIN facility f ON f.tenant_id = k.tenant_id AND f.id = k.facility_id
			WHERE k.tenant_id = ? AND k.child_id = ? AND `+scope+` ORDER BY k.start_date DESC`,
			append([]any{c.Tenant.ID, id}, args...)...).Scan(ctx, &out.Contracts); err != nil {
			return err
		}
		if err := tx.NewRaw(`SELECT DISTINCT coalesce(a.reference, '') AS reference, a.status, a.start_date, a.care_hours
			FROM application a JOIN application_choice ac ON ac.tenant_id = a.tenant_id AND ac.application_id = a.id
			JOIN facility f ON f.tenant_id = ac.tenant_id AND f.id = ac.facility_id
			WHERE a.tenant_id = ? AND a.child_id = ? AND a.status <> 'draft' AND `+scope+` ORDER BY a.start_date DESC`,
			append([]any{c.Tenant.ID, id}, args...)...).Scan(ctx, &out.Requests); err != nil {
			return err
		}
		out.ReadAt = s.clock.Now()
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: audit.ActionChildRead,
			ObjectKind: "child", ObjectID: id.String(), ChildIDs: []uuid.UUID{id}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
