// Package childfile is the records of children as staff in their scope see them: the
// children under contract at a facility and a child's record with guardians, contracts
// and requests, every read audited. The coming child file (Kinderakte) lives here.
package childfile

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/contract"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
)

// The records staff see. Every read reaches only the facilities of the caller's object
// scope (authz.FacilityScope, through provider), so a facility lead cannot see another
// facility's children, and every read of child or family data writes an audit entry
// naming the children, in the same transaction.

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

// maxFacilities bounds the facilities listed.
const maxFacilities = 1000

// Facilities lists the facilities the caller's roles reach, with how many children have
// a running or future contract there (a number, not child data).
func (s *Service) Facilities(ctx context.Context, c auth.Caller) ([]FacilitySummary, error) {
	today := date.Today(s.clock)
	var out []FacilitySummary
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var fs []provider.Ref
		if err := provider.ScopedFacilities(ctx, tx, c, &fs); err != nil {
			return err
		}
		fs = fs[:min(len(fs), maxFacilities)]
		ids := make([]uuid.UUID, len(fs))
		for i, f := range fs {
			ids[i] = f.ID
		}
		counts, err := contract.ChildCountsAt(ctx, tx, c.Tenant.ID, ids, today)
		if err != nil {
			return err
		}
		for _, f := range fs {
			sum := summaryOf(f)
			sum.Children = counts[f.ID]
			out = append(out, sum)
		}
		return nil
	})
	return out, err
}

func summaryOf(f provider.Ref) FacilitySummary {
	return FacilitySummary{ID: f.ID, Name: f.Name, Type: f.Type, City: f.City, District: f.District}
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

// maxChildren bounds the children of a facility listed.
const maxChildren = 2000

// Facility shows one facility in the caller's scope with the children under contract
// there. Unknown ids, other cities' ids and facilities outside the scope are all "not
// found". The list is audited with every child it shows.
func (s *Service) Facility(ctx context.Context, c auth.Caller, id uuid.UUID) (*FacilityView, error) {
	today := date.Today(s.clock)
	out := &FacilityView{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		f, err := provider.InScope(ctx, tx, c, id, false)
		if errors.Is(err, provider.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		out.Facility = summaryOf(*f)
		if out.Children, err = childrenAt(ctx, tx, c.Tenant.ID, id, today); err != nil {
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

// childrenAt lists the contracts at facility id running on day today or later with their
// children, by group name (groupless last), the child's last and first name and id; the
// names' order is their owners' (their places in ChildNames and GroupNames).
func childrenAt(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, today date.Date) ([]ChildRow, error) {
	placed, err := contract.PlacementsAt(ctx, tx, tenantID, id, today)
	if err != nil || len(placed) == 0 {
		return nil, err
	}
	childIDs := make([]uuid.UUID, len(placed))
	var groupIDs []uuid.UUID
	for i, p := range placed {
		childIDs[i] = p.ChildID
		if p.GroupID != nil {
			groupIDs = append(groupIDs, *p.GroupID)
		}
	}
	children, err := family.ChildNames(ctx, tx, tenantID, childIDs)
	if err != nil {
		return nil, err
	}
	groups, err := provider.GroupNames(ctx, tx, tenantID, groupIDs)
	if err != nil {
		return nil, err
	}
	childRank := make(map[uuid.UUID]int, len(children))
	names := make(map[uuid.UUID]family.ChildName, len(children))
	for i, ch := range children {
		childRank[ch.ID], names[ch.ID] = i, ch
	}
	groupRank := make(map[uuid.UUID]int, len(groups)) // groups of one name share a rank
	groupName := make(map[uuid.UUID]string, len(groups))
	for i, g := range groups {
		if groupRank[g.ID], groupName[g.ID] = i, g.Name; i > 0 && g.Name == groups[i-1].Name {
			groupRank[g.ID] = groupRank[groups[i-1].ID]
		}
	}
	rankOf := func(p contract.Placement) int {
		if p.GroupID == nil {
			return len(groups)
		}
		return groupRank[*p.GroupID]
	}
	slices.SortStableFunc(placed, func(a, b contract.Placement) int {
		return cmp.Or(cmp.Compare(rankOf(a), rankOf(b)), cmp.Compare(childRank[a.ChildID], childRank[b.ChildID]))
	})
	out := make([]ChildRow, 0, min(len(placed), maxChildren))
	for _, p := range placed[:min(len(placed), maxChildren)] {
		ch := names[p.ChildID]
		row := ChildRow{ID: p.ChildID, FirstName: ch.FirstName, LastName: ch.LastName, BirthDate: ch.Birth,
			CareHours: p.CareHours, Start: p.Start, End: p.End}
		if p.GroupID != nil {
			row.Group = groupName[*p.GroupID]
		}
		out = append(out, row)
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
// facility in the caller's scope (contract.ChildrenKnownAt); otherwise (other city,
// unknown, out of scope) it is "not found". The read is audited.
func (s *Service) Child(ctx context.Context, c auth.Caller, id uuid.UUID) (*ChildRecord, error) {
	out := &ChildRecord{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		facilities, err := provider.FacilitiesInScope(ctx, tx, c, 0)
		if err != nil {
			return err
		}
		scope := make([]uuid.UUID, len(facilities))
		names := make(map[uuid.UUID]string, len(facilities))
		for i, f := range facilities {
			scope[i], names[f.ID] = f.ID, f.Name
		}
		known, err := contract.ChildrenKnownAt(ctx, tx, c.Tenant.ID, scope, []uuid.UUID{id})
		if err != nil {
			return err
		}
		if len(known) == 0 {
			return ErrNotFound
		}
		ch, err := family.ChildWithAddress(ctx, tx, c.Tenant.ID, id)
		if errors.Is(err, family.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		*out = ChildRecord{ID: ch.ID, FirstName: ch.FirstName, LastName: ch.LastName, BirthDate: ch.BirthDate, Expected: ch.Expected,
			FamilyID: ch.FamilyID, Street: ch.Street, House: ch.HouseNumber, PLZ: ch.PLZ, City: ch.City}
		guardians, err := family.GuardianContacts(ctx, tx, c.Tenant.ID, out.FamilyID)
		if err != nil {
			return err
		}
		if guardians != nil {
			out.Guardians = make([]GuardianRow, len(guardians))
			for i, g := range guardians {
				out.Guardians[i] = GuardianRow(g)
			}
		}
		contracts, err := contract.OfChildAt(ctx, tx, c.Tenant.ID, id, scope)
		if err != nil {
			return err
		}
		if contracts != nil {
			out.Contracts = make([]ContractRow, len(contracts))
			for i, k := range contracts {
				out.Contracts[i] = ContractRow{Facility: names[k.FacilityID], CareHours: k.CareHours, Start: k.Start, End: k.End, Status: k.Status}
			}
		}
		requests, err := application.RequestsNaming(ctx, tx, c.Tenant.ID, id, scope)
		if err != nil {
			return err
		}
		if requests != nil {
			out.Requests = make([]ApplicationRow, len(requests))
			for i, r := range requests {
				out.Requests[i] = ApplicationRow(r)
			}
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
