package contract

import (
	"context"
	"io"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvfile"
	"kitaportal/internal/platform/csvimport"
	"kitaportal/internal/provider"
)

// ImportColumns are the columns of a contracts file. A row names its child by child_id
// (a child of the caller's scope) or by names and birth date (a new child, with at least
// one guardian); facility_id may be left out when the import is for one facility; group
// is a group's name. A row whose reference the facility already has is skipped, so the
// same file can be imported twice.
var ImportColumns = []string{"facility_id", "group", "reference", "child_id", "child_first_name", "child_last_name",
	"child_birth_date", "care_hours", "start_date", "end_date", "guardian_first_name", "guardian_last_name",
	"guardian_email", "guardian_phone", "street", "house_number", "plz", "city"}

// Import enters the contracts of a CSV file: all rows or none, nothing at all on a dry
// run. facilityID (optional) is the facility of rows without a facility_id.
func (s *Service) Import(ctx context.Context, c auth.Caller, facilityID uuid.UUID, upload io.Reader, dryRun bool) (*csvimport.Report, error) {
	rd, err := provider.OpenCSV(upload)
	if err != nil {
		return nil, err
	}
	required := []string{"care_hours", "start_date"}
	if facilityID == uuid.Nil {
		required = append(required, "facility_id")
	}
	imp := &contractImport{s: s, c: c, facilityID: facilityID, touched: map[uuid.UUID]bool{}, groups: map[string]uuid.UUID{}}
	opt := csvimport.Options{DryRun: dryRun, MaxRows: provider.MaxImportRows, Required: required}
	return csvimport.Run(ctx, s.db, c.Tenant.ID, rd, opt, imp.apply, imp.finish)
}

// contractImport is the state of one import.
type contractImport struct {
	s          *Service
	c          auth.Caller
	facilityID uuid.UUID
	touched    map[uuid.UUID]bool   // facilities to recompute at the end
	groups     map[string]uuid.UUID // facility/lower-case group name → id
	children   []uuid.UUID          // of the contracts entered, for the audit entry
}

func (imp *contractImport) apply(ctx context.Context, tx bun.Tx, row csvfile.Row) (csvimport.Outcome, error) {
	get := func(col string) string { return csvfile.Restore(row.Get(col)) }
	var errs apperr.List
	in := NewContract{FacilityID: imp.facilityID, Reference: get("reference"), Source: "import"}
	if v := get("facility_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return 0, apperr.Invalid("facility_id", "id_invalid", nil)
		}
		in.FacilityID = id
	}
	if in.FacilityID == uuid.Nil {
		return 0, apperr.Invalid("facility_id", "required", nil)
	}
	if v := get("child_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			errs = append(errs, apperr.Invalid("child_id", "id_invalid", nil))
		}
		in.ChildID = id
	} else {
		n := &NewChild{FirstName: get("child_first_name"), LastName: get("child_last_name"), GuardianFirstName: get("guardian_first_name"),
			GuardianLastName: get("guardian_last_name"), GuardianEmail: get("guardian_email"), GuardianPhone: get("guardian_phone"),
			Street: get("street"), HouseNumber: get("house_number"), PLZ: get("plz"), City: get("city")}
		var e *apperr.Error
		if n.BirthDate, e = provider.ParseDay("child_birth_date", get("child_birth_date"), true); e != nil {
			errs = append(errs, e)
		}
		in.Child = n
	}
	var e *apperr.Error
	if in.CareHours, e = provider.ParseInt("care_hours", get("care_hours"), 1, 100); e != nil {
		errs = append(errs, e)
	}
	if in.Start, e = provider.ParseDay("start_date", get("start_date"), true); e != nil {
		errs = append(errs, e)
	}
	if in.End, e = provider.ParseDay("end_date", get("end_date"), false); e != nil {
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return 0, errs
	}
	if in.Reference != "" {
		var known bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM contract WHERE tenant_id = ? AND facility_id = ? AND reference = ? AND status <> 'cancelled')`,
			imp.c.Tenant.ID, in.FacilityID, in.Reference).Scan(&known); err != nil {
			return 0, err
		}
		if known {
			return csvimport.Unchanged, nil
		}
	}
	if name := strings.TrimSpace(get("group")); name != "" {
		id, err := imp.group(ctx, tx, in.FacilityID, name)
		if err != nil {
			return 0, err
		}
		in.GroupID = id
	}
	k, err := imp.s.create(ctx, tx, imp.c, in)
	if err != nil {
		return 0, err
	}
	imp.touched[k.FacilityID] = true
	imp.children = append(imp.children, k.ChildID)
	return csvimport.Created, nil
}

// group finds a group of the facility by name.
func (imp *contractImport) group(ctx context.Context, tx bun.Tx, facilityID uuid.UUID, name string) (uuid.UUID, error) {
	key := facilityID.String() + "/" + strings.ToLower(name)
	if id, ok := imp.groups[key]; ok {
		return id, nil
	}
	ids, err := provider.GroupIDsNamed(ctx, tx, imp.c.Tenant.ID, facilityID, name)
	if err != nil {
		return uuid.Nil, err
	}
	if len(ids) != 1 {
		return uuid.Nil, apperr.Invalid("group", "contract_group_unknown", nil)
	}
	imp.groups[key] = ids[0]
	return ids[0], nil
}

// finish recomputes every facility the file touched and records the import.
func (imp *contractImport) finish(ctx context.Context, tx bun.Tx, r *csvimport.Report) error {
	ids := make([]uuid.UUID, 0, len(imp.touched))
	for id := range imp.touched {
		ids = append(ids, id)
	}
	if err := availability.Refresh(ctx, tx, imp.c.Tenant, imp.s.Today(), ids...); err != nil {
		return err
	}
	return audit.Record(ctx, tx, imp.c.Tenant.ID, audit.By(imp.c), audit.Event{Action: ActionImported, ObjectKind: "contracts",
		ChildIDs: imp.children, Details: map[string]any{"rows": r.Rows, "created": r.Created, "skipped": r.Unchanged,
			"facilities": len(ids), "encoding": r.Encoding}})
}
