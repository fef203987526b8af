package contract

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/webhook"
)

// NewContract is a contract as staff enter it, for a child of the caller's scope
// (ChildID) or a child entered with it (Child).
type NewContract struct {
	FacilityID uuid.UUID
	GroupID    uuid.UUID // optional
	ChildID    uuid.UUID
	Child      *NewChild
	CareHours  int
	Start      date.Date
	End        date.Date // first day without care; zero: the planned end (see Check)
	Reference  string
	Source     string // manual or import
}

// NewChild is a child staff enter with its family: at least the child's names and birth
// date and one guardian's names.
type NewChild struct {
	FirstName, LastName string
	BirthDate           date.Date
	GuardianFirstName   string
	GuardianLastName    string
	GuardianEmail       string
	GuardianPhone       string
	Street, HouseNumber string
	PLZ, City           string
}

var (
	plzPattern   = regexp.MustCompile(`^[0-9]{5}$`)
	phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ()/.-]*$`)
)

// Validate checks a new child and its family; birth dates in the future are refused (a
// contract is for a born child).
func (n *NewChild) Validate(today date.Date) error {
	var errs apperr.List
	for _, f := range []struct {
		field string
		value *string
		need  bool
		max   int
	}{
		{"child_first_name", &n.FirstName, true, 100}, {"child_last_name", &n.LastName, true, 100},
		{"guardian_first_name", &n.GuardianFirstName, true, 100}, {"guardian_last_name", &n.GuardianLastName, true, 100},
		{"street", &n.Street, false, 200}, {"house_number", &n.HouseNumber, false, 20}, {"city", &n.City, false, 100},
	} {
		*f.value = strings.Join(strings.Fields(*f.value), " ")
		switch {
		case *f.value == "" && f.need:
			errs = append(errs, apperr.Invalid(f.field, "required", nil))
		case len([]rune(*f.value)) > f.max:
			errs = append(errs, apperr.Invalid(f.field, "field_too_long", map[string]any{"max": f.max}))
		case strings.ContainsFunc(*f.value, unicode.IsControl):
			errs = append(errs, apperr.Invalid(f.field, "text_invalid_characters", nil))
		}
	}
	switch {
	case n.BirthDate.IsZero():
		errs = append(errs, apperr.Invalid("child_birth_date", "required", nil))
	case n.BirthDate.After(today):
		errs = append(errs, apperr.Invalid("child_birth_date", "contract_birth_in_future", nil))
	case n.BirthDate.Before(today.AddMonths(-18 * 12)):
		errs = append(errs, apperr.Invalid("child_birth_date", "contract_birth_too_early", nil))
	}
	n.PLZ, n.GuardianEmail, n.GuardianPhone = strings.TrimSpace(n.PLZ), strings.TrimSpace(n.GuardianEmail), strings.TrimSpace(n.GuardianPhone)
	if n.PLZ != "" && !plzPattern.MatchString(n.PLZ) {
		errs = append(errs, apperr.Invalid("plz", "invalid_plz", nil))
	}
	if n.GuardianEmail != "" {
		if a, err := mail.ParseAddress(n.GuardianEmail); err != nil || a.Address != n.GuardianEmail || len(n.GuardianEmail) > 254 {
			errs = append(errs, apperr.Invalid("guardian_email", "email_invalid", nil))
		}
	}
	if n.GuardianPhone != "" && (len(n.GuardianPhone) > 40 || !phonePattern.MatchString(n.GuardianPhone)) {
		errs = append(errs, apperr.Invalid("guardian_phone", "provider_phone_invalid", nil))
	}
	return errs.Err()
}

// Create enters a contract; the facility's availability follows in the same transaction.
func (s *Service) Create(ctx context.Context, c auth.Caller, in NewContract) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		k, err := s.create(ctx, tx, c, in)
		if err != nil {
			return err
		}
		id = k.ID
		if err := availability.Refresh(ctx, tx, c.Tenant, s.Today(), k.FacilityID); err != nil {
			return err
		}
		return record(ctx, tx, c, ActionCreated, k, map[string]any{"facility_id": k.FacilityID, "source": in.Source,
			"start_date": k.Start, "end_date": k.End, "care_hours": k.CareHours})
	})
	return id, err
}

// create writes the contract (and the new child with its family) in tx without
// recomputing the availability: an import does that once for all its rows.
func (s *Service) create(ctx context.Context, tx bun.Tx, c auth.Caller, in NewContract) (*Contract, error) {
	var errs apperr.List
	if in.Start.IsZero() {
		errs = append(errs, apperr.Invalid("start_date", "required", nil))
	}
	in.Reference = strings.TrimSpace(in.Reference)
	if len(in.Reference) > 100 {
		errs = append(errs, apperr.Invalid("reference", "field_too_long", map[string]any{"max": 100}))
	}
	if in.ChildID == uuid.Nil && in.Child == nil {
		errs = append(errs, apperr.Invalid("child_id", "contract_child_required", nil))
	}
	if in.Child != nil {
		if err := in.Child.Validate(s.Today()); err != nil {
			errs = append(errs, err.(apperr.List)...)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	f, groupHours, err := facilityTerms(ctx, tx, c, in.FacilityID, in.GroupID)
	if err != nil {
		return nil, err
	}
	k := &Contract{ID: uuid.Must(uuid.NewV7()), FacilityID: f.ID, Facility: f.Name, ChildID: in.ChildID, CareHours: in.CareHours,
		Start: in.Start, Status: StatusActive, Source: in.Source, Reference: in.Reference}
	if in.GroupID != uuid.Nil {
		k.GroupID = &in.GroupID
	}
	if in.Child != nil {
		k.FirstName, k.LastName, k.BirthDate = in.Child.FirstName, in.Child.LastName, in.Child.BirthDate
	} else if err := childInScope(ctx, tx, c, k); err != nil {
		return nil, err
	}
	if k.End, err = Check(termsOf(c.Tenant, f, k, groupHours), in.Start, in.End); err != nil {
		return nil, err
	}
	if in.Child != nil {
		if k.ChildID, err = insertChild(ctx, tx, c, in.Child, k.Start, k.End); err != nil {
			return nil, err
		}
	}
	if err := insertContract(ctx, tx, c.Tenant.ID, k, nil); err != nil {
		return nil, err
	}
	if err := s.placeOnWaitlists(ctx, tx, c, k); err != nil {
		return nil, err
	}
	return k, nil
}

// insertContract writes k, active; offerID names the offer it came from (nil: entered
// by staff).
func insertContract(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, k *Contract, offerID *uuid.UUID) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO contract (tenant_id, id, child_id, facility_id, group_id, care_hours, start_date, end_date, status, source, reference, offer_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, nullif(?, ''), ?)`,
		tenantID, k.ID, k.ChildID, k.FacilityID, k.GroupID, k.CareHours, k.Start, k.End, k.Source, k.Reference, offerID)
	if err != nil {
		return writeError(err)
	}
	return webhook.Emit(ctx, tx, tenantID, contractEvent(webhook.ContractCreated, k, "active", k.End))
}

// writeError names the rule a refused contract write broke.
func writeError(err error) error {
	switch {
	case database.IsExclusionViolation(err, "contract_one_per_child"):
		return apperr.Invalid("start_date", "contract_overlaps", nil)
	case database.IsUniqueViolation(err, "contract_reference"):
		return apperr.Invalid("reference", "contract_reference_taken", nil)
	case database.IsForeignKeyViolation(err, "contract_group_of_facility"):
		return apperr.Invalid("group_id", "contract_group_unknown", nil)
	}
	return fmt.Errorf("contract: write: %w", err)
}

// childInScope fills the child of k when the caller may see it (ChildInScope): it has a
// contract at, or a request for, a facility of the caller's scope.
func childInScope(ctx context.Context, tx bun.Tx, c auth.Caller, k *Contract) error {
	notFound := apperr.NotFound("not_found").WithField("child_id")
	ok, err := ChildInScope(ctx, tx, c, k.ChildID)
	if err != nil {
		return err
	}
	if !ok {
		return notFound
	}
	names, err := family.ChildNames(ctx, tx, c.Tenant.ID, []uuid.UUID{k.ChildID})
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return notFound
	}
	k.FirstName, k.LastName, k.BirthDate = names[0].FirstName, names[0].LastName, names[0].Birth
	return nil
}

// insertChild writes a new child with its family and one guardian. The same child
// entered twice — same names and birth date — with a contract in the period is refused:
// the register must not hold one child twice, even as two records.
func insertChild(ctx context.Context, tx bun.Tx, c auth.Caller, n *NewChild, start, end date.Date) (uuid.UUID, error) {
	// Concurrent entries of the same child wait here for each other, so the check below
	// sees the child and contract an earlier entry committed.
	if err := family.LockChildIdentity(ctx, tx, c.Tenant.ID, n.FirstName, n.LastName, n.BirthDate); err != nil {
		return uuid.Nil, err
	}
	same, err := family.ChildIDsNamed(ctx, tx, c.Tenant.ID, n.FirstName, n.LastName, n.BirthDate)
	if err != nil {
		return uuid.Nil, err
	}
	twin, err := contractedWithin(ctx, tx, c.Tenant.ID, same, start, end)
	if err != nil {
		return uuid.Nil, err
	}
	if twin {
		return uuid.Nil, apperr.Invalid("child_first_name", "contract_child_already_contracted", nil)
	}
	// The register's families are written as the portal's own (source online) and by
	// no one in particular, as they always were.
	familyID, err := family.Create(ctx, tx, c.Tenant, family.Input{
		Address: family.AddressInput{Street: n.Street, HouseNumber: n.HouseNumber, PLZ: n.PLZ, City: n.City},
		Guardians: []family.GuardianInput{{FirstName: n.GuardianFirstName, LastName: n.GuardianLastName,
			Email: n.GuardianEmail, Phone: n.GuardianPhone}},
	}, family.SourceOnline, nil, nil)
	if err != nil {
		return uuid.Nil, fmt.Errorf("contract: family: %w", err)
	}
	return family.CreateRegisterChild(ctx, tx, c.Tenant.ID, familyID, n.FirstName, n.LastName, n.BirthDate)
}

// contractedWithin tells whether any of the children has a contract, not cancelled, in
// the period [start, end).
func contractedWithin(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, childIDs []uuid.UUID, start, end date.Date) (bool, error) {
	if len(childIDs) == 0 {
		return false, nil
	}
	var found bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM contract WHERE tenant_id = ? AND child_id = ANY(?::uuid[])
		AND status <> ? AND period && daterange(?::date, ?::date))`,
		tenantID, pgdialect.Array(childIDs), StatusCancelled, start, end).Scan(&found)
	return found, err
}
