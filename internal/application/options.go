package application

import (
	"context"
	"slices"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/care"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/provider"
)

// What the application form offers: the family's children and the city's facilities,
// the Merkliste's first.

// FacilityOption is a facility a family can choose.
type FacilityOption struct {
	ID          uuid.UUID
	Name        string
	Type        string
	City        string
	Favourite   bool
	Tagespflege bool
	Brokered    bool // "Kindertagespflege in district X": the Fachberatung places the child
}

// FormOptions is what the form's selects list.
type FormOptions struct {
	Family     *family.Family
	Facilities []FacilityOption
}

// Options reads the caller's family and the city's active facilities; favourites (the
// Merkliste) come first.
func (s *Service) Options(ctx context.Context, c auth.Caller, favourites []uuid.UUID) (*FormOptions, error) {
	me, err := parent(c)
	if err != nil {
		return nil, err
	}
	out := &FormOptions{}
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if out.Family, err = family.OfAccount(ctx, tx, c.Tenant, me, false); err != nil {
			return err
		}
		out.Facilities, err = activeFacilities(ctx, tx, c.Tenant.ID)
		return err
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	for i := range out.Facilities {
		out.Facilities[i].Favourite = slices.Contains(favourites, out.Facilities[i].ID)
	}
	slices.SortStableFunc(out.Facilities, func(a, b FacilityOption) int {
		switch {
		case a.Favourite == b.Favourite:
			return 0
		case a.Favourite:
			return -1
		}
		return 1
	})
	return out, nil
}

// CityFacilities lists every active facility of the city (the walk-in form names any).
func (s *Service) CityFacilities(ctx context.Context, c auth.Caller) ([]FacilityOption, error) {
	var out []FacilityOption
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = activeFacilities(ctx, tx, c.Tenant.ID)
		return err
	})
	return out, database.Classify(err)
}

// activeFacilities lists the city's facilities that take requests, by name.
func activeFacilities(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) ([]FacilityOption, error) {
	fs, err := provider.ActiveFacilities(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	return options(fs), nil
}

// StaffFacilities lists the facilities in the caller's scope (the request list's filter).
func (s *Service) StaffFacilities(ctx context.Context, c auth.Caller) ([]FacilityOption, error) {
	var out []FacilityOption
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		fs, err := provider.FacilitiesInScope(ctx, tx, c, 2000)
		out = options(fs)
		return err
	})
	return out, database.Classify(err)
}

func options(fs []provider.Listed) []FacilityOption {
	var out []FacilityOption
	for _, f := range fs {
		out = append(out, FacilityOption{ID: f.ID, Name: f.Name, Type: f.Type, City: f.City, Tagespflege: care.IsTagespflege(f.Type),
			Brokered: f.Brokered})
	}
	return out
}
