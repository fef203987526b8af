package provider

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
)

// Group is a group of a facility with its places over time.
type Group struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	AgeBand   string    `json:"age_band"`
	CareHours int       `json:"care_hours"`
	Periods   []Period  `json:"periods"`
	// Contracts counts the running and future contracts placed in the group.
	Contracts int `json:"contracts"`
}

// loadGroups reads the groups of a facility with their periods, by band and name.
func (s *Service) loadGroups(ctx context.Context, tx bun.Tx, tenantID, facilityID uuid.UUID) ([]Group, error) {
	contracts, _, err := s.groupContracts(ctx, tx, tenantID, facilityID)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT g.id, g.name, g.age_band, g.care_hours,
		gc.valid_from, gc.valid_until, gc.places
		FROM facility_group g
		LEFT JOIN group_capacity gc ON gc.tenant_id = g.tenant_id AND gc.group_id = g.id
		WHERE g.tenant_id = ? AND g.facility_id = ?
		ORDER BY g.age_band, g.name, g.id, gc.valid_from`, tenantID, facilityID)
	if err != nil {
		return nil, fmt.Errorf("provider: groups: %w", err)
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		var p Period
		var from, until, places any
		if err := rows.Scan(&g.ID, &g.Name, &g.AgeBand, &g.CareHours, &from, &until, &places); err != nil {
			return nil, fmt.Errorf("provider: groups: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != g.ID {
			g.Periods, g.Contracts = []Period{}, contracts[g.ID]
			out = append(out, g)
		}
		if from == nil {
			continue // a group without places yet
		}
		if err := p.From.Scan(from); err != nil {
			return nil, err
		}
		if err := p.Until.Scan(until); err != nil {
			return nil, err
		}
		p.Places = int(places.(int64))
		last := &out[len(out)-1]
		last.Periods = append(last.Periods, p)
	}
	return out, rows.Err()
}

// groupContracts counts, per group of the facility, the running and future contracts
// placed in it, and their longest care scope (from the availability engine's holdings).
func (s *Service) groupContracts(ctx context.Context, tx bun.IDB, tenantID, facilityID uuid.UUID) (count, longest map[uuid.UUID]int, err error) {
	hs, err := availability.Holdings(ctx, tx, tenantID, []uuid.UUID{facilityID}, s.Today(), date.Date{})
	if err != nil {
		return nil, nil, err
	}
	count, longest = map[uuid.UUID]int{}, map[uuid.UUID]int{}
	for _, h := range hs {
		if h.Offer || h.Group == nil {
			continue
		}
		count[*h.Group]++
		longest[*h.Group] = max(longest[*h.Group], h.CareHours)
	}
	return count, longest, nil
}

// Groups returns facility id with its groups.
func (s *Service) Groups(ctx context.Context, c auth.Caller, id uuid.UUID) (*Ref, []Group, error) {
	var f *Ref
	var groups []Group
	err := s.read(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if f, err = InScope(ctx, tx, c, id, false); err != nil {
			return err
		}
		groups, err = s.loadGroups(ctx, tx, c.Tenant.ID, f.ID)
		return err
	})
	return f, groups, err
}

// CreateGroup adds a group with its places to facility id, e.g. a new Krippe group from
// January; the expected availability follows in the same transaction.
func (s *Service) CreateGroup(ctx context.Context, c auth.Caller, id uuid.UUID, in GroupInput) (uuid.UUID, error) {
	groupID := uuid.Must(uuid.NewV7())
	err := s.write(ctx, c, id, func(ctx context.Context, tx bun.Tx, f *Ref) error {
		if err := in.Validate(c.Tenant.Rules); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours)
			VALUES (?, ?, ?, ?, ?, ?)`, c.Tenant.ID, groupID, f.ID, in.Name, in.AgeBand, in.CareHours); err != nil {
			return fmt.Errorf("provider: group: %w", err)
		}
		return s.placesChanged(ctx, tx, c, f, groupID, in, ActionGroupCreated)
	})
	return groupID, err
}

// UpdateGroup changes a group of facility id: name, band, care scope and the whole list
// of its periods (a new Kita year is one more period; a period the list leaves out is
// gone).
func (s *Service) UpdateGroup(ctx context.Context, c auth.Caller, id, groupID uuid.UUID, in GroupInput) error {
	return s.write(ctx, c, id, func(ctx context.Context, tx bun.Tx, f *Ref) error {
		var exists bool
		err := tx.QueryRowContext(ctx, `SELECT true FROM facility_group WHERE tenant_id = ? AND facility_id = ? AND id = ?`,
			c.Tenant.ID, f.ID, groupID).Scan(&exists)
		if err != nil {
			return groupNotFound(err)
		}
		_, longestOf, err := s.groupContracts(ctx, tx, c.Tenant.ID, f.ID)
		if err != nil {
			return err
		}
		longest := longestOf[groupID]
		if err := in.Validate(c.Tenant.Rules); err != nil {
			return err
		}
		if longest > in.CareHours {
			return apperr.Invalid("care_hours", "provider_group_hours_below_contracts", map[string]any{"hours": longest})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE facility_group SET name = ?, age_band = ?, care_hours = ?, updated_at = now()
			WHERE tenant_id = ? AND id = ?`, in.Name, in.AgeBand, in.CareHours, c.Tenant.ID, groupID); err != nil {
			return fmt.Errorf("provider: group: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_capacity WHERE tenant_id = ? AND group_id = ?`, c.Tenant.ID, groupID); err != nil {
			return err
		}
		return s.placesChanged(ctx, tx, c, f, groupID, in, ActionGroupChanged)
	})
}

// placesChanged writes the periods of a group, checks the places of the whole facility
// against the Land's limit, recomputes the availability and records the change.
func (s *Service) placesChanged(ctx context.Context, tx bun.Tx, c auth.Caller, f *Ref, groupID uuid.UUID, in GroupInput, action string) error {
	for i, p := range in.Periods {
		_, err := tx.ExecContext(ctx, `INSERT INTO group_capacity (tenant_id, group_id, valid_from, valid_until, places) VALUES (?, ?, ?, ?, ?)`,
			c.Tenant.ID, groupID, p.From, p.Until, p.Places)
		if database.IsExclusionViolation(err, "group_capacity_no_overlap") || database.IsUniqueViolation(err, "") {
			return apperr.Invalid(fmt.Sprintf("periods.%d.valid_from", i), "provider_periods_overlap", map[string]any{"first": i, "second": i + 1})
		}
		if err != nil {
			return fmt.Errorf("provider: places: %w", err)
		}
	}
	groups, err := s.loadGroups(ctx, tx, c.Tenant.ID, f.ID)
	if err != nil {
		return err
	}
	all := make([][]Period, len(groups))
	for i, g := range groups {
		all[i] = g.Periods
	}
	if err := CheckLimit(f.Type, c.Tenant.Rules.FacilityLimits, all); err != nil {
		return err
	}
	if err := availability.Refresh(ctx, tx, c.Tenant, s.Today(), f.ID); err != nil {
		return err
	}
	return record(ctx, tx, c, f, action, map[string]any{"group_id": groupID, "name": in.Name, "age_band": in.AgeBand,
		"care_hours": in.CareHours, "periods": in.Periods})
}

// RemoveGroup deletes a group of facility id that no contract or offer names (a group
// entered by mistake); a group that closes gets a last period instead.
func (s *Service) RemoveGroup(ctx context.Context, c auth.Caller, id, groupID uuid.UUID) error {
	return s.write(ctx, c, id, func(ctx context.Context, tx bun.Tx, f *Ref) error {
		// A contract or offer (of any status) that names the group keeps it: their foreign
		// keys refuse the delete.
		res, err := tx.ExecContext(ctx, `DELETE FROM facility_group WHERE tenant_id = ? AND facility_id = ? AND id = ?`, c.Tenant.ID, f.ID, groupID)
		if database.IsForeignKeyViolation(err, "") {
			return apperr.Conflict("provider_group_in_use")
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if err := availability.Refresh(ctx, tx, c.Tenant, s.Today(), f.ID); err != nil {
			return err
		}
		return record(ctx, tx, c, f, ActionGroupRemoved, map[string]any{"group_id": groupID})
	})
}

// groupNotFound turns "no such row" into ErrNotFound: a group of another facility is as
// unknown as one that does not exist.
func groupNotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
