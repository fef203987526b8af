package contract

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/webhook"
)

// change runs fn on contract id (in the caller's scope, locked, not cancelled), then
// recomputes its facility's availability, in one transaction.
func (s *Service) change(ctx context.Context, c auth.Caller, id uuid.UUID, fn func(ctx context.Context, tx bun.Tx, k *Contract) error) error {
	return s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		k, err := load(ctx, tx, c, id, true)
		if err != nil {
			return err
		}
		if k.Status == StatusCancelled {
			return apperr.Conflict("contract_cancelled")
		}
		if err := fn(ctx, tx, k); err != nil {
			return err
		}
		return availability.Refresh(ctx, tx, c.Tenant, s.Today(), k.FacilityID)
	})
}

// CheckTermination holds for an end after the start and not after the planned end: a
// termination shortens a contract, it never extends one.
func CheckTermination(k Contract, end date.Date) error {
	switch {
	case end.IsZero():
		return apperr.Invalid("end_date", "required", nil)
	case !end.After(k.Start):
		return apperr.Invalid("end_date", "contract_end_before_start", nil)
	case !k.End.IsZero() && end.After(k.End):
		return apperr.Invalid("end_date", "contract_end_after_planned", map[string]any{"end": k.End.String()})
	}
	return nil
}

// Terminate ends contract id early: end is the first day without care.
func (s *Service) Terminate(ctx context.Context, c auth.Caller, id uuid.UUID, end date.Date) error {
	return s.change(ctx, c, id, func(ctx context.Context, tx bun.Tx, k *Contract) error {
		if err := CheckTermination(*k, end); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contract SET end_date = ?, status = 'terminated', updated_at = now() WHERE tenant_id = ? AND id = ?`,
			end, c.Tenant.ID, k.ID); err != nil {
			return fmt.Errorf("contract: terminate: %w", err)
		}
		if err := s.releaseWaitlists(ctx, tx, c, k, end); err != nil {
			return err
		}
		if err := webhook.Emit(ctx, tx, c.Tenant.ID, contractEvent(webhook.ContractEnded, k, "terminated", end)); err != nil {
			return err
		}
		return record(ctx, tx, c, ActionTerminated, k, map[string]any{"end_date": end, "planned_end": k.End})
	})
}

// Cancel voids contract id (entered by mistake, or never to start): it holds no place.
func (s *Service) Cancel(ctx context.Context, c auth.Caller, id uuid.UUID) error {
	return s.change(ctx, c, id, func(ctx context.Context, tx bun.Tx, k *Contract) error {
		if _, err := tx.ExecContext(ctx, `UPDATE contract SET status = 'cancelled', reference = NULL, updated_at = now() WHERE tenant_id = ? AND id = ?`,
			c.Tenant.ID, k.ID); err != nil {
			return fmt.Errorf("contract: cancel: %w", err)
		}
		if err := s.releaseWaitlists(ctx, tx, c, k, date.Date{}); err != nil {
			return err
		}
		if err := webhook.Emit(ctx, tx, c.Tenant.ID, contractEvent(webhook.ContractEnded, k, "cancelled", date.Date{})); err != nil {
			return err
		}
		return record(ctx, tx, c, ActionCancelled, k, nil)
	})
}

// CheckScopeChange holds for a new scope from a day inside the contract.
func CheckScopeChange(k Contract, hours int, from date.Date) error {
	switch {
	case hours == k.CareHours:
		return apperr.Invalid("care_hours", "contract_scope_unchanged", nil)
	case from.IsZero():
		return apperr.Invalid("from", "required", nil)
	case from.Before(k.Start) || (!k.End.IsZero() && !from.Before(k.End)):
		return apperr.Invalid("from", "contract_scope_outside", map[string]any{"start": k.Start.String(), "end": k.End.String()})
	}
	return nil
}

// ChangeScope changes the weekly care scope of contract id from day from on. From the
// first day it is a correction of the contract; later, the contract ends the day before
// and a new one continues it with the new scope (replaces_id), so the register keeps
// what was agreed when. It returns the contract that holds the new scope.
func (s *Service) ChangeScope(ctx context.Context, c auth.Caller, id uuid.UUID, hours int, from date.Date) (uuid.UUID, error) {
	current := id
	err := s.change(ctx, c, id, func(ctx context.Context, tx bun.Tx, k *Contract) error {
		if err := CheckScopeChange(*k, hours, from); err != nil {
			return err
		}
		groupID := uuid.Nil
		if k.GroupID != nil {
			groupID = *k.GroupID
		}
		_, groupHours, err := facilityTerms(ctx, tx, c, k.FacilityID, groupID)
		if err != nil {
			return err
		}
		if err := CheckHours(hours, groupHours, c.Tenant.Rules.CareScopes); err != nil {
			return err
		}
		if from.Equal(k.Start) {
			if _, err := tx.ExecContext(ctx, `UPDATE contract SET care_hours = ?, updated_at = now() WHERE tenant_id = ? AND id = ?`,
				hours, c.Tenant.ID, k.ID); err != nil {
				return err
			}
		} else {
			current = uuid.Must(uuid.NewV7())
			// The first part ends as agreed; the continuation keeps the end, the status and
			// the provider's reference.
			if _, err := tx.ExecContext(ctx, `UPDATE contract SET end_date = ?, status = 'active', reference = NULL, updated_at = now()
				WHERE tenant_id = ? AND id = ?`, from, c.Tenant.ID, k.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO contract (tenant_id, id, child_id, facility_id, group_id, care_hours, start_date, end_date,
				status, source, reference, replaces_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'manual', nullif(?, ''), ?)`,
				c.Tenant.ID, current, k.ChildID, k.FacilityID, k.GroupID, hours, from, k.End, k.Status, k.Reference, k.ID); err != nil {
				return writeError(err)
			}
			// The requests the first part ended are the continuation's to give back.
			if err := application.CarryPlacement(ctx, tx, c.Tenant.ID, k.ID, current); err != nil {
				return err
			}
			// The back office hears of the continuation as of any new contract.
			next := *k
			next.ID, next.Start, next.CareHours = current, from, hours
			if err := webhook.Emit(ctx, tx, c.Tenant.ID, contractEvent(webhook.ContractCreated, &next, k.Status, k.End)); err != nil {
				return err
			}
		}
		return record(ctx, tx, c, ActionScopeChanged, k, map[string]any{"from": from, "care_hours_before": k.CareHours,
			"care_hours": hours, "contract_id": current})
	})
	return current, err
}
