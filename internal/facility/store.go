// Package facility is a facility's public face: its profile with description, concept,
// photos, opening hours, contact, ages, places per band and the expected availability
// month by month, the comparison of the parent's Merkliste, and the profile API.
package facility

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/availability"
	"kitaportal/internal/care"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// Profile is everything the profile page and API show about a facility.
type Profile struct {
	ID           uuid.UUID         `json:"id"`
	Name         string            `json:"name"`
	Type         string            `json:"type"`
	Provider     ProviderInfo      `json:"provider"`
	Address      care.Address      `json:"address"`
	District     string            `json:"district,omitempty"`
	Lat          float64           `json:"lat"`
	Lon          float64           `json:"lon"`
	Description  string            `json:"description"`
	Concepts     []string          `json:"concepts"`
	OpeningHours care.OpeningHours `json:"opening_hours"`
	AgeMinMonths int               `json:"age_min_months"`
	AgeMaxMonths int               `json:"age_max_months"`
	BarrierFree  bool              `json:"barrier_free"`
	Lunch        bool              `json:"lunch"`
	Contact      Contact           `json:"contact"`
	Photos       []Photo           `json:"photos"`
	// Closures are the days the facility is closed, from today on (the profile's only).
	Closures []Closure `json:"closures,omitempty"`
	// Places are the places per age band in the current month.
	Places []BandPlaces `json:"places"`

	// For a child given with birth_date and start_date: whether its age fits at the start
	// and the expected availability then, as the search answers it.
	AgeFit       *bool                `json:"age_fit,omitempty"`
	Availability *availability.Status `json:"availability,omitempty"`
}

// ProviderInfo is the facility's Träger.
type ProviderInfo struct {
	ID      uuid.UUID `json:"id"`
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	Website string    `json:"website,omitempty"`
}

// Contact is how parents reach the facility.
type Contact struct {
	Phone   string `json:"phone,omitempty"`
	Email   string `json:"email,omitempty"`
	Website string `json:"website,omitempty"`
}

// Photo is one picture of the facility.
type Photo struct {
	URL string `json:"url"`
	Alt string `json:"alt"`
}

// Closure is a span of days the facility is closed, both days included.
type Closure struct {
	FirstDay date.Date `json:"first_day"`
	LastDay  date.Date `json:"last_day"`
	Reason   string    `json:"reason"`
}

// loadClosures fills the closures of p that are not over on day today (the first 20).
func loadClosures(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, p *Profile, today date.Date) error {
	cls, err := provider.ClosuresFrom(ctx, tx, tenantID, p.ID, today, 20)
	if err != nil {
		return fmt.Errorf("facility: %w", err)
	}
	p.Closures = make([]Closure, len(cls))
	for i, c := range cls {
		p.Closures[i] = Closure{FirstDay: c.FirstDay, LastDay: c.LastDay, Reason: c.Reason}
	}
	return nil
}

// BandPlaces are the places of one age band.
type BandPlaces struct {
	AgeBand string `json:"age_band"`
	Places  int    `json:"places"`
	// CareHoursMax is the longest weekly scope a group of the band offers (among the
	// tenant's scopes).
	CareHoursMax int `json:"care_hours_max"`
}

// loadProfiles reads the active facilities among ids, in the order of ids, with the names
// of their districts; unknown ids, ids of other tenants and closed facilities are simply
// absent.
func loadProfiles(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, ids []uuid.UUID) ([]*Profile, error) {
	fs, err := provider.PublicFacilities(ctx, tx, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("facility: load: %w", err)
	}
	var keys []string
	for _, f := range fs {
		if f.DistrictKey != "" && !slices.Contains(keys, f.DistrictKey) {
			keys = append(keys, f.DistrictKey)
		}
	}
	districts, err := tenant.DistrictNames(ctx, tx, tenantID, keys)
	if err != nil {
		return nil, fmt.Errorf("facility: load: %w", err)
	}
	var out []*Profile
	for _, f := range fs {
		p := &Profile{
			ID: f.ID, Name: f.Name, Type: f.Type, Address: f.Address, District: districts[f.DistrictKey],
			Lat: f.Lat, Lon: f.Lon, Description: f.Description, Concepts: f.Concepts,
			AgeMinMonths: f.AgeMinMonths, AgeMaxMonths: f.AgeMaxMonths, BarrierFree: f.BarrierFree, Lunch: f.Lunch,
			Contact:  Contact{Phone: f.Phone, Email: f.Email, Website: f.Website},
			Provider: ProviderInfo{ID: f.Provider.ID, Name: f.Provider.Name, Kind: f.Provider.Kind, Website: f.Provider.Website},
			Photos:   []Photo{}, Places: []BandPlaces{},
		}
		if p.OpeningHours, err = care.ParseHours(f.OpeningHours); err != nil {
			return nil, fmt.Errorf("facility: opening hours of %s: %w", p.ID, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// loadPhotos fills the photo list of p. A photo's URL carries its upload time, so a
// picture replaced at the same position is never served from a stale cache.
func loadPhotos(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, p *Profile) error {
	phs, err := provider.PublicPhotos(ctx, tx, tenantID, p.ID)
	if err != nil {
		return fmt.Errorf("facility: %w", err)
	}
	for _, ph := range phs {
		p.Photos = append(p.Photos, Photo{URL: "/facilities/" + p.ID.String() + "/photos/" + strconv.Itoa(ph.Position) + "?v=" + strconv.FormatInt(ph.Version, 36), Alt: ph.Alt})
	}
	return nil
}

// storedPhoto is where a photo's bytes are: in the row (demo drawings) or in file
// storage under a key (uploads).
type storedPhoto struct {
	contentType string
	data        []byte
	key         string
}

// loadPhoto reads one photo of an active facility (its thumbnail when thumb is set and
// there is one); sql.ErrNoRows when there is none.
func loadPhoto(ctx context.Context, tx bun.Tx, tenantID, facilityID uuid.UUID, n int, thumb bool) (storedPhoto, error) {
	f, err := provider.ActivePhotoFile(ctx, tx, tenantID, facilityID, n)
	if errors.Is(err, sql.ErrNoRows) {
		return storedPhoto{}, err
	}
	if err != nil {
		return storedPhoto{}, fmt.Errorf("facility: %w", err)
	}
	ph := storedPhoto{contentType: f.ContentType, data: f.Data, key: f.StorageKey.String}
	if thumb && f.ThumbKey.Valid {
		ph.key = f.ThumbKey.String
	}
	return ph, nil
}
