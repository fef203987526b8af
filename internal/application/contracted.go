package application

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// NoticePlaced tells the family its requests ended because the child has a contract.
const NoticePlaced = "placed"

// ContractPlacement is a contract entered in the register (by hand, CSV or API), as the
// child's requests need to know it.
type ContractPlacement struct {
	ContractID   uuid.UUID // noted on the requests it ends (ReopenAfterContract)
	ChildID      uuid.UUID
	FacilityID   uuid.UUID
	FacilityName string
	Start        date.Date
	End          date.Date // zero: open-ended
	Actor        Actor
}

// PlacedByContract makes the register and the waitlists one network, in the contract's
// transaction: every active request of the child whose start falls in the contract's
// time ends. One still being decided that names the contract's facility becomes
// contracted (that choice accepted, the others ended); every other one is closed with
// its open choices ended. Each records why in its history, and the family is told.
// The callers withdraw the child's open offers first (their seats are the offers'
// business). It answers the requests it changed.
func (s *Service) PlacedByContract(ctx context.Context, tx bun.Tx, t *tenant.Tenant, p ContractPlacement, now time.Time) ([]uuid.UUID, error) {
	// A contract with a childminder settles a choice of her district's desk too (Bochum:
	// "Kindertagespflege in district X"), unless the request names her herself.
	desk, err := provider.DeskOfFacility(ctx, tx, t.ID, p.FacilityID)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID     uuid.UUID `bun:"id"`
		Status Status    `bun:"status"`
		Names  bool      `bun:"names"`
		Desk   bool      `bun:"desk"`
	}
	q := `SELECT a.id, a.status,
			EXISTS (SELECT 1 FROM application_choice c WHERE c.tenant_id = a.tenant_id AND c.application_id = a.id
				AND c.facility_id = ? AND c.status = ANY(?::text[])) AS names,
			EXISTS (SELECT 1 FROM application_choice c WHERE c.tenant_id = a.tenant_id AND c.application_id = a.id
				AND c.facility_id = ? AND c.status = ANY(?::text[])) AS desk
		FROM application a WHERE a.tenant_id = ? AND a.child_id = ? AND a.status = ANY(?::text[]) AND a.start_date >= ?`
	open := pgdialect.Array(ChoicesFrom(EventContract))
	args := []any{p.FacilityID, open, desk, open, t.ID, p.ChildID, pgdialect.Array(Queued), p.Start}
	if !p.End.IsZero() {
		q += ` AND a.start_date <= ?`
		args = append(args, p.End)
	}
	if err := tx.NewRaw(q+` ORDER BY a.id FOR UPDATE OF a`, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("placed by contract: %w", err)
	}
	note := p.FacilityName + ": contract"
	var changed []uuid.UUID
	for _, r := range rows {
		if (r.Names || r.Desk) && r.Status.In(Deciding) {
			settled := p.FacilityID
			if !r.Names {
				settled = desk
			}
			if _, err := transitionChoicesWhere(ctx, tx, t.ID, EventContract, nil, now, `c.application_id = ? AND c.facility_id = ?`, r.ID, settled); err != nil {
				return nil, err
			}
			if _, err := transitionChoicesWhere(ctx, tx, t.ID, EventEnd, nil, now, `c.application_id = ? AND c.facility_id <> ?`, r.ID, settled); err != nil {
				return nil, err
			}
			if _, _, err := Transition(ctx, tx, t.ID, r.ID, EventContract, p.Actor, note, now); err != nil {
				return nil, err
			}
		} else {
			if _, err := transitionChoicesWhere(ctx, tx, t.ID, EventEnd, nil, now, `c.application_id = ?`, r.ID); err != nil {
				return nil, err
			}
			if _, _, err := Transition(ctx, tx, t.ID, r.ID, EventClose, p.Actor, "placed: "+p.FacilityName, now); err != nil {
				return nil, err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE application SET placed_by = ? WHERE tenant_id = ? AND id = ?`, nullID(p.ContractID), t.ID, r.ID); err != nil {
			return nil, fmt.Errorf("placed by contract: mark: %w", err)
		}
		a, familyID, err := load(ctx, tx, t, r.ID, false, "")
		if err != nil {
			return nil, err
		}
		if err := s.tellFamily(ctx, tx, t, familyID, a, NoticePlaced, p.FacilityName); err != nil {
			return nil, err
		}
		changed = append(changed, r.ID)
	}
	return changed, nil
}

func nullID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// NoticeReopened tells the family its request waits again: the contract that ended it is
// gone for the request's time.
const NoticeReopened = "reopened"

// ContractGone is a register contract cancelled (End zero: it never held a place) or
// ended early (End: the first day without care), as the requests it ended see it.
type ContractGone struct {
	ContractID   uuid.UUID
	FacilityName string
	End          date.Date
	Actor        Actor
}

// ReopenAfterContract gives back, where the city's rule says so (contract.reopen_requests),
// the requests contract g.ContractID had ended whose start it no longer covers: each is
// submitted again with its ended choices open (the contract's facility too), keeping its
// filing date and so its place in the queue; in a cascade the best open choice has the
// turn and the others wait. A request is left closed where the child meanwhile has
// another active request for that period. The family is told. It answers the requests
// it reopened.
func (s *Service) ReopenAfterContract(ctx context.Context, tx bun.Tx, t *tenant.Tenant, g ContractGone, now time.Time) ([]uuid.UUID, error) {
	if !t.Rules.Contract.ReopenRequests {
		return nil, nil
	}
	var rows []struct {
		ID     uuid.UUID `bun:"id"`
		Status Status    `bun:"status"`
		Clash  bool      `bun:"clash"`
	}
	q := `SELECT a.id, a.status, EXISTS (SELECT 1 FROM application o WHERE o.tenant_id = a.tenant_id AND o.child_id = a.child_id
			AND o.start_period = a.start_period AND o.id <> a.id AND o.status = ANY(?::text[])) AS clash
		FROM application a WHERE a.tenant_id = ? AND a.placed_by = ? AND a.status = ANY(?::text[])`
	args := []any{pgdialect.Array(Active), t.ID, g.ContractID, pgdialect.Array(From(EventReopen))}
	if !g.End.IsZero() {
		q += ` AND a.start_date >= ?`
		args = append(args, g.End)
	}
	if err := tx.NewRaw(q+` ORDER BY a.id FOR UPDATE OF a`, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("reopen after contract: %w", err)
	}
	note := g.FacilityName + ": contract cancelled"
	if !g.End.IsZero() {
		note = g.FacilityName + ": contract ends " + g.End.String()
	}
	var reopened []uuid.UUID
	for _, r := range rows {
		if r.Clash {
			if err := record(ctx, tx, t.ID, r.ID, g.Actor, r.Status, note+"; not reopened: another request is active", now); err != nil {
				return nil, err
			}
			continue
		}
		if _, err := transitionChoicesWhere(ctx, tx, t.ID, EventReopen, nil, now, `c.application_id = ?`, r.ID); err != nil {
			return nil, err
		}
		if err := restartCascade(ctx, tx, t, r.ID, now); err != nil {
			return nil, err
		}
		if _, _, err := Transition(ctx, tx, t.ID, r.ID, EventReopen, g.Actor, note, now); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE application SET placed_by = NULL WHERE tenant_id = ? AND id = ?`, t.ID, r.ID); err != nil {
			return nil, fmt.Errorf("reopen after contract: unmark: %w", err)
		}
		a, familyID, err := load(ctx, tx, t, r.ID, false, "")
		if err != nil {
			return nil, err
		}
		if err := s.tellFamily(ctx, tx, t, familyID, a, NoticeReopened, g.FacilityName); err != nil {
			return nil, err
		}
		reopened = append(reopened, r.ID)
	}
	return reopened, nil
}

// restartCascade: in a cascade city a reopened request's best open choice has the turn
// again, from now, and its other open choices wait for theirs.
func restartCascade(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID, now time.Time) error {
	if t.Rules.Allocation.Mode != tenant.ModeCascade {
		return nil
	}
	var first int
	if err := tx.NewRaw(`SELECT coalesce(min(rank), 0) FROM application_choice WHERE tenant_id = ? AND application_id = ? AND status = ?`,
		t.ID, id, ChoicePending).Scan(ctx, &first); err != nil {
		return fmt.Errorf("cascade: restart: %w", err)
	}
	if first == 0 {
		return nil
	}
	if _, err := transitionChoicesWhere(ctx, tx, t.ID, EventQueue, nil, now, `c.application_id = ? AND c.rank > ?`, id, first); err != nil {
		return err
	}
	return RestartTurn(ctx, tx, t, id, first, now)
}

// CarryPlacement moves the note "ended by contract from" to contract to, its continuation
// (a change of scope splits a contract in two).
func CarryPlacement(ctx context.Context, tx bun.IDB, tenantID, from, to uuid.UUID) error {
	if _, err := tx.ExecContext(ctx, `UPDATE application SET placed_by = ? WHERE tenant_id = ? AND placed_by = ?`, to, tenantID, from); err != nil {
		return fmt.Errorf("carry placement: %w", err)
	}
	return nil
}
