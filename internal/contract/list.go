package contract

import (
	"context"
	"strconv"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/provider"
)

// Filters of the register.
const (
	ShowCurrent = "current" // running today or starting later
	ShowEnded   = "ended"
	ShowAll     = "all"
)

// Filter narrows the register.
type Filter struct {
	FacilityID uuid.UUID // uuid.Nil: every facility in scope
	Show       string
}

// maxListed bounds one page of the register.
const maxListed = 2000

// List returns the contracts of the caller's scope, by facility and child; the listing
// is audited with every child it shows.
func (s *Service) List(ctx context.Context, c auth.Caller, f Filter) ([]Contract, error) {
	scope, args := authz.FacilityScope(c.Principal, "f")
	where := ` WHERE k.tenant_id = ? AND ` + scope
	qargs := append([]any{c.Tenant.ID}, args...)
	if f.FacilityID != uuid.Nil {
		where += ` AND k.facility_id = ?`
		qargs = append(qargs, f.FacilityID)
	}
	switch f.Show {
	case ShowCurrent, "":
		where += ` AND k.status <> 'cancelled' AND (k.end_date IS NULL OR k.end_date > ?)`
		qargs = append(qargs, s.Today())
	case ShowEnded:
		where += ` AND (k.status = 'cancelled' OR k.end_date <= ?)`
		qargs = append(qargs, s.Today())
	case ShowAll:
	default:
		return nil, apperr.Invalid("show", "invalid_choice", map[string]any{"allowed": "current, ended, all"})
	}
	var out []Contract
	err := s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		if f.FacilityID != uuid.Nil {
			if _, err := provider.InScope(ctx, tx, c, f.FacilityID, false); err != nil {
				return err
			}
		}
		if err := tx.NewRaw(`SELECT `+contractColumns+contractJoins+where+
			` ORDER BY f.name, ch.last_name, ch.first_name, k.start_date, k.id LIMIT `+strconv.Itoa(maxListed), qargs...).Scan(ctx, &out); err != nil {
			return err
		}
		ids := make([]uuid.UUID, len(out))
		for i, k := range out {
			ids[i] = k.ChildID
		}
		details := map[string]any{"contracts": len(out), "show": f.Show}
		object := ""
		if f.FacilityID != uuid.Nil {
			object = f.FacilityID.String()
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionListed, ObjectKind: "facility", ObjectID: object,
			ChildIDs: ids, Details: details})
	})
	return out, err
}

// Visible is ErrNotFound unless contract id is in the caller's scope.
func (s *Service) Visible(ctx context.Context, c auth.Caller, id uuid.UUID) error {
	return s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		_, err := load(ctx, tx, c, id, false)
		return err
	})
}

// Detail is a contract with the contracts it continues (after changes of scope).
type Detail struct {
	Contract
	History []Contract `json:"history"`
}

// Get returns contract id with its history; the read is audited.
func (s *Service) Get(ctx context.Context, c auth.Caller, id uuid.UUID) (*Detail, error) {
	d := &Detail{}
	err := s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		k, err := load(ctx, tx, c, id, false)
		if err != nil {
			return err
		}
		d.Contract = *k
		d.History = []Contract{}
		for prev := k.ReplacesID; prev != nil && len(d.History) < 50; {
			p, err := load(ctx, tx, c, *prev, false)
			if err != nil {
				break
			}
			d.History = append(d.History, *p)
			prev = p.ReplacesID
		}
		return record(ctx, tx, c, ActionRead, k, nil)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ChildOption is a child the new-contract form offers.
type ChildOption struct {
	ID        uuid.UUID `bun:"id" json:"id"`
	FirstName string    `bun:"first_name" json:"first_name"`
	LastName  string    `bun:"last_name" json:"last_name"`
	BirthDate string    `bun:"birth_date" json:"birth_date"`
}

// KnownChildren lists the children known at facility id: with a contract there or a
// request naming it. The list is audited.
func (s *Service) KnownChildren(ctx context.Context, c auth.Caller, id uuid.UUID) ([]ChildOption, error) {
	var out []ChildOption
	err := s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		if _, err := provider.InScope(ctx, tx, c, id, false); err != nil {
			return err
		}
		if err := tx.NewRaw(`SELECT ch.id, ch.first_name, ch.last_name, coalesce(ch.birth_date, ch.expected_birth_date)::text AS birth_date
			FROM child ch WHERE ch.tenant_id = ?0 AND (
			  EXISTS (SELECT 1 FROM contract k WHERE k.tenant_id = ch.tenant_id AND k.child_id = ch.id AND k.facility_id = ?1)
			  OR EXISTS (SELECT 1 FROM application a JOIN application_choice ac ON ac.tenant_id = a.tenant_id AND ac.application_id = a.id
			     WHERE a.tenant_id = ch.tenant_id AND a.child_id = ch.id AND a.status <> 'draft' AND ac.facility_id = ?1))
			ORDER BY ch.last_name, ch.first_name, ch.id LIMIT 1000`, c.Tenant.ID, id).Scan(ctx, &out); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		ids := make([]uuid.UUID, len(out))
		for i, ch := range out {
			ids[i] = ch.ID
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: audit.ActionChildrenListed, ObjectKind: "facility",
			ObjectID: id.String(), ChildIDs: ids, Details: map[string]any{"children": len(ids), "purpose": "contract_form"}})
	})
	return out, err
}
