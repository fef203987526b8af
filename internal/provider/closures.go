package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
)

// maxClosureDays: a closure longer than a year is a facility that closed, not a holiday.
const maxClosureDays = 366

// CheckClosure holds for a closure that starts before it ends, is not over before today
// and lasts at most a year.
func CheckClosure(cl Closure, today date.Date) error {
	var errs apperr.List
	if cl.FirstDay.IsZero() {
		errs = append(errs, apperr.Invalid("first_day", "required", nil))
	}
	if cl.LastDay.IsZero() {
		errs = append(errs, apperr.Invalid("last_day", "required", nil))
	}
	if len(errs) > 0 {
		return errs
	}
	switch {
	case cl.LastDay.Before(cl.FirstDay):
		errs = append(errs, apperr.Invalid("last_day", "provider_closure_order", nil))
	case cl.LastDay.Before(today):
		errs = append(errs, apperr.Invalid("last_day", "provider_closure_past", nil))
	case cl.FirstDay.AddDays(maxClosureDays).Before(cl.LastDay):
		errs = append(errs, apperr.Invalid("last_day", "provider_closure_too_long", map[string]any{"max": maxClosureDays}))
	}
	if err := checkText("reason", cl.Reason, 200); err != nil {
		errs = append(errs, err)
	}
	return errs.Err()
}

// AddClosure records days facility id is closed; closures of one facility never overlap
// (the database refuses it).
func (s *Service) AddClosure(ctx context.Context, c auth.Caller, id uuid.UUID, cl Closure) error {
	cl.Reason = strings.Join(strings.Fields(cl.Reason), " ")
	if err := CheckClosure(cl, s.Today()); err != nil {
		return err
	}
	return s.write(ctx, c, id, func(ctx context.Context, tx bun.Tx, f *Ref) error {
		cl.ID = uuid.Must(uuid.NewV7())
		_, err := tx.ExecContext(ctx, `INSERT INTO facility_closure (tenant_id, id, facility_id, first_day, last_day, reason)
			VALUES (?, ?, ?, ?, ?, ?)`, c.Tenant.ID, cl.ID, f.ID, cl.FirstDay, cl.LastDay, cl.Reason)
		if database.IsExclusionViolation(err, "facility_closure_no_overlap") {
			return apperr.Invalid("first_day", "provider_closure_overlap", nil)
		}
		if err != nil {
			return fmt.Errorf("provider: closure: %w", err)
		}
		return record(ctx, tx, c, f, ActionClosureAdded, map[string]any{"first_day": cl.FirstDay, "last_day": cl.LastDay})
	})
}

// RemoveClosure deletes a closure of facility id.
func (s *Service) RemoveClosure(ctx context.Context, c auth.Caller, id, closureID uuid.UUID) error {
	return s.write(ctx, c, id, func(ctx context.Context, tx bun.Tx, f *Ref) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM facility_closure WHERE tenant_id = ? AND facility_id = ? AND id = ?`,
			c.Tenant.ID, f.ID, closureID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return record(ctx, tx, c, f, ActionClosureRemoved, map[string]any{"closure_id": closureID})
	})
}
