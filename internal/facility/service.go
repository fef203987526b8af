package facility

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/availability"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/provider"
	"kitaportal/internal/search"
	"kitaportal/internal/tenant"
)

// ErrNotFound answers unknown ids, ids of other tenants and closed facilities alike.
var ErrNotFound = apperr.NotFound("not_found")

// Service reads profiles. Every read runs inside the tenant's transaction.
type Service struct {
	db     *bun.DB
	search *search.Service
	files  storage.Storage
}

// NewService returns the profile service; the search service knows today and the child,
// files holds the uploaded photos.
func NewService(db *bun.DB, s *search.Service, files storage.Storage) *Service {
	return &Service{db: db, search: s, files: files}
}

// Details is a profile with its availability cells for the whole stored window.
type Details struct {
	*Profile
	Window availability.Window
	Cells  []availability.Cell // by month, band, scope
}

// Profile returns the profile of facility id; with a child, also whether its age fits
// and what the search says about availability for it.
func (s *Service) Profile(ctx context.Context, t *tenant.Tenant, id uuid.UUID, child *search.Child) (*Details, error) {
	w := availability.WindowFor(t.Rules, s.search.Today())
	d := &Details{Window: w}
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if d.Profile, err = loadProfile(ctx, tx, t.ID, id); err != nil {
			return err
		}
		if err := loadPhotos(ctx, tx, t.ID, d.Profile); err != nil {
			return err
		}
		if err := loadClosures(ctx, tx, t.ID, d.Profile, s.search.Today()); err != nil {
			return err
		}
		d.Cells, err = availability.ForFacility(ctx, tx, t, id, w.First, w.Last())
		return err
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	d.Places = placesIn(t, d.Cells, w.First)
	if child != nil {
		fit, status := forChild(d.Profile, *child, func(band string, scope int, month date.Date) (int, bool) {
			for _, c := range d.Cells {
				if c.Band == band && c.CareHours == scope && c.Month.Equal(month) {
					return c.Free, true
				}
			}
			return 0, false
		})
		d.AgeFit, d.Availability = &fit, &status
	}
	return d, nil
}

// Compare returns the profiles among ids in their order, each with the child's fit and
// availability when a child is given. Ids that are not facilities of t are left out.
func (s *Service) Compare(ctx context.Context, t *tenant.Tenant, ids []uuid.UUID, child *search.Child) ([]*Profile, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []*Profile
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if out, err = loadProfiles(ctx, tx, t.ID, ids); err != nil || child == nil || len(out) == 0 {
			return err
		}
		found := make([]uuid.UUID, len(out))
		for i, p := range out {
			found[i] = p.ID
		}
		free, err := availability.Lookup(ctx, tx, t.ID, found, child.Band.Key, child.Scope, child.Month())
		if err != nil {
			return err
		}
		for _, p := range out {
			fit, status := forChild(p, *child, func(string, int, date.Date) (int, bool) {
				n, ok := free[p.ID]
				return n, ok
			})
			p.AgeFit, p.Availability = &fit, &status
		}
		return nil
	})
	return out, database.Classify(err)
}

// forChild answers as the search does: the age fits when the child's age at the start
// lies in the facility's range and the facility has figures for the child's band; the
// availability is the cell of band, scope and month.
func forChild(p *Profile, c search.Child, cell func(band string, scope int, month date.Date) (int, bool)) (bool, availability.Status) {
	free, known := cell(c.Band.Key, c.Scope, c.Month())
	fit := known && c.AgeMonths >= p.AgeMinMonths && c.AgeMonths < p.AgeMaxMonths
	return fit, availability.StatusOf(free, known)
}

// placesIn are the places per band in month: the capacity for the smallest scope, and the
// longest scope any group of the band offers.
func placesIn(t *tenant.Tenant, cells []availability.Cell, month date.Date) []BandPlaces {
	out := []BandPlaces{}
	for _, c := range cells {
		if !c.Month.Equal(month) {
			continue
		}
		i := len(out) - 1
		if i < 0 || out[i].AgeBand != c.Band {
			out = append(out, BandPlaces{AgeBand: c.Band, Places: c.Capacity})
			i++
		}
		if c.Capacity > 0 {
			out[i].CareHoursMax = max(out[i].CareHoursMax, c.CareHours)
		}
	}
	return out
}

// Availability returns the cells of facility id for the months from from to to (first
// days, inside the window).
func (s *Service) Availability(ctx context.Context, t *tenant.Tenant, id uuid.UUID, from, to date.Date) ([]availability.Cell, error) {
	var cells []availability.Cell
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := active(ctx, tx, t.ID, id); err != nil {
			return err
		}
		var err error
		cells, err = availability.ForFacility(ctx, tx, t, id, from, to)
		return err
	})
	return cells, database.Classify(err)
}

// Exists tells whether id is an active facility of t (ErrNotFound otherwise).
func (s *Service) Exists(ctx context.Context, t *tenant.Tenant, id uuid.UUID) error {
	return database.Classify(database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		return active(ctx, tx, t.ID, id)
	}))
}

// active is ErrNotFound unless id is an active facility of the tenant.
func active(ctx context.Context, tx bun.Tx, tenantID, id uuid.UUID) error {
	fs, err := provider.PublicFacilities(ctx, tx, tenantID, []uuid.UUID{id})
	if err != nil {
		return fmt.Errorf("facility: %w", err)
	}
	if len(fs) == 0 {
		return ErrNotFound
	}
	return nil
}

// loadProfile reads one active facility of the tenant; ErrNotFound for anything else.
func loadProfile(ctx context.Context, tx bun.Tx, tenantID, id uuid.UUID) (*Profile, error) {
	ps, err := loadProfiles(ctx, tx, tenantID, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, ErrNotFound
	}
	return ps[0], nil
}

// Photo returns photo n of facility id (its thumbnail when thumb is set).
func (s *Service) Photo(ctx context.Context, t *tenant.Tenant, id uuid.UUID, n int, thumb bool) (string, []byte, error) {
	var ph storedPhoto
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ph, err = loadPhoto(ctx, tx, t.ID, id, n, thumb)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return "", nil, database.Classify(err)
	}
	if ph.key == "" {
		return ph.contentType, ph.data, nil
	}
	data, err := s.readFile(ctx, ph.key)
	return ph.contentType, data, err
}

// readFile reads an uploaded file; a file missing from storage is a missing photo.
func (s *Service) readFile(ctx context.Context, key string) ([]byte, error) {
	if s.files == nil {
		return nil, ErrNotFound
	}
	r, err := s.files.Open(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("facility: photo file: %w", err)
	}
	defer r.Close()
	return io.ReadAll(r)
}
