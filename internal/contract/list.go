package contract

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/family"
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
	where, qargs := ``, []any{}
	switch f.Show {
	case ShowCurrent, "":
		where += ` AND k.status <> ? AND (k.end_date IS NULL OR k.end_date > ?)`
		qargs = append(qargs, StatusCancelled, s.Today())
	case ShowEnded:
		where += ` AND (k.status = ? OR k.end_date <= ?)`
		qargs = append(qargs, StatusCancelled, s.Today())
	case ShowAll:
	default:
		return nil, apperr.Invalid("show", "invalid_choice", map[string]any{"allowed": "current, ended, all"})
	}
	var out []Contract
	err := s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		var facilities []provider.Listed
		if f.FacilityID != uuid.Nil {
			r, err := provider.InScope(ctx, tx, c, f.FacilityID, false)
			if err != nil {
				return err
			}
			facilities = []provider.Listed{{ID: r.ID, Name: r.Name}}
		} else {
			var err error
			if facilities, err = provider.FacilitiesInScope(ctx, tx, c, 0); err != nil {
				return err
			}
		}
		var err error
		if out, err = listAt(ctx, tx, c.Tenant.ID, facilities, where, qargs); err != nil {
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

// listRow is a contract with the rank of its facility's name.
type listRow struct {
	Contract
	Rank int `bun:"rank"`
}

// listAt reads the first maxListed contracts at facilities (by name and id) that meet
// the condition where (on alias k, with args), ordered by facility name, child's last
// and first name, start and id. Facility and child names are their owners', so the
// contracts are read facility by facility in that order, as far as the first maxListed
// rows reach, and sorted by the names' places in their owners' order.
func listAt(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, facilities []provider.Listed, where string, args []any) ([]Contract, error) {
	if len(facilities) == 0 {
		return nil, nil
	}
	// Facilities of one name share a rank: their contracts mix by child.
	ids, ranks := make([]uuid.UUID, len(facilities)), make([]int, len(facilities))
	names := make(map[uuid.UUID]string, len(facilities))
	for i, fn := range facilities {
		ids[i], names[fn.ID] = fn.ID, fn.Name
		if ranks[i] = i; i > 0 && fn.Name == facilities[i-1].Name {
			ranks[i] = ranks[i-1]
		}
	}
	var rows []listRow
	q := `WITH f AS (SELECT * FROM unnest(?::uuid[], ?::int[]) AS f(id, rank)),
		k AS (SELECT ` + contractColumns + `, f.rank FROM contract k JOIN f ON f.id = k.facility_id WHERE k.tenant_id = ?` + where + `),
		r AS (SELECT rank, sum(count(*)) OVER (ORDER BY rank) - count(*) AS before FROM k GROUP BY rank)
		SELECT k.* FROM k JOIN r USING (rank) WHERE r.before < ?`
	qargs := append(append([]any{pgdialect.Array(ids), pgdialect.Array(ranks), tenantID}, args...), maxListed)
	if err := tx.NewRaw(q, qargs...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contract: list: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	childIDs := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		childIDs[i] = r.ChildID
	}
	children, err := family.ChildNames(ctx, tx, tenantID, childIDs)
	if err != nil {
		return nil, err
	}
	byName := make(map[uuid.UUID]int, len(children)) // children of one name share a rank
	for i, ch := range children {
		if byName[ch.ID] = i; i > 0 && ch.LastName == children[i-1].LastName && ch.FirstName == children[i-1].FirstName {
			byName[ch.ID] = byName[children[i-1].ID]
		}
	}
	slices.SortFunc(rows, func(a, b listRow) int {
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(byName[a.ChildID], byName[b.ChildID]), a.Start.Compare(b.Start),
			bytes.Compare(a.ID[:], b.ID[:]))
	})
	out := make([]Contract, 0, min(len(rows), maxListed))
	for _, r := range rows[:min(len(rows), maxListed)] {
		out = append(out, r.Contract)
	}
	return out, decorate(ctx, tx, tenantID, out, names)
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
	Papers  Papers     `json:"papers"`
}

// Papers are the care contract document of a contract the portal entered, and when its
// signed papers came back.
type Papers struct {
	OfferID    *uuid.UUID `bun:"offer_id" json:"offer_id,omitempty"`
	Document   bool       `bun:"document" json:"document"` // the PDF is ready
	ReceivedAt *time.Time `bun:"papers_received_at" json:"received_at,omitempty"`
}

// maxHistory bounds the contracts a contract's history shows.
const maxHistory = 50

// Get returns contract id with its history; the read is audited.
func (s *Service) Get(ctx context.Context, c auth.Caller, id uuid.UUID) (*Detail, error) {
	d := &Detail{}
	err := s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		var chain []Contract
		if err := tx.NewRaw(`WITH RECURSIVE chain AS (
				SELECT `+contractColumns+`, 0 AS depth FROM contract k WHERE k.tenant_id = ?0 AND k.id = ?1
				UNION ALL
				SELECT `+contractColumns+`, chain.depth + 1 FROM contract k JOIN chain ON k.id = chain.replaces_id
				WHERE k.tenant_id = ?0 AND chain.depth < ?2)
			SELECT id, facility_id, group_id, child_id, care_hours, start_date, end_date, status, source, reference, replaces_id
			FROM chain ORDER BY depth`, c.Tenant.ID, id, maxHistory).Scan(ctx, &chain); err != nil {
			return fmt.Errorf("contract: history: %w", err)
		}
		if len(chain) == 0 {
			return ErrNotFound
		}
		// The history ends before the first contract outside the caller's scope.
		facilities := map[uuid.UUID]string{}
		for i, k := range chain {
			if _, known := facilities[k.FacilityID]; !known {
				f, err := provider.InScope(ctx, tx, c, k.FacilityID, false)
				if errors.Is(err, provider.ErrNotFound) {
					chain = chain[:i]
					break
				}
				if err != nil {
					return err
				}
				facilities[f.ID] = f.Name
			}
		}
		if len(chain) == 0 {
			return ErrNotFound
		}
		if err := decorate(ctx, tx, c.Tenant.ID, chain, facilities); err != nil {
			return err
		}
		d.Contract, d.History = chain[0], append([]Contract{}, chain[1:]...)
		if err := tx.NewRaw(`SELECT offer_id, document_key IS NOT NULL AS document, papers_received_at FROM contract WHERE tenant_id = ? AND id = ?`,
			c.Tenant.ID, id).Scan(ctx, &d.Papers); err != nil {
			return fmt.Errorf("contract: papers: %w", err)
		}
		return record(ctx, tx, c, ActionRead, &chain[0], nil)
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

// maxKnown bounds the children the new-contract form offers.
const maxKnown = 1000

// KnownChildren lists the children known at facility id (ChildrenKnownAt): with a
// contract there or a request naming it. The list is audited.
func (s *Service) KnownChildren(ctx context.Context, c auth.Caller, id uuid.UUID) ([]ChildOption, error) {
	var out []ChildOption
	err := s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		if _, err := provider.InScope(ctx, tx, c, id, false); err != nil {
			return err
		}
		known, err := ChildrenKnownAt(ctx, tx, c.Tenant.ID, []uuid.UUID{id}, nil)
		if err != nil {
			return err
		}
		children, err := family.ChildNames(ctx, tx, c.Tenant.ID, known)
		if err != nil {
			return err
		}
		if len(children) == 0 {
			return nil
		}
		children = children[:min(len(children), maxKnown)]
		ids := make([]uuid.UUID, len(children))
		for i, ch := range children {
			ids[i] = ch.ID
			out = append(out, ChildOption{ID: ch.ID, FirstName: ch.FirstName, LastName: ch.LastName, BirthDate: ch.Birth.String()})
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: audit.ActionChildrenListed, ObjectKind: "facility",
			ObjectID: id.String(), ChildIDs: ids, Details: map[string]any{"children": len(ids), "purpose": "contract_form"}})
	})
	return out, err
}
