// Package facility is a facility's public face: its profile with description, concept,
// photos, opening hours, contact, ages, places per band and the expected availability
// month by month, the comparison of the parent's Merkliste, and the profile API.
package facility

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/availability"
	"kitaportal/internal/care"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
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

// loadClosures fills the closures of p that are not over on day today.
func loadClosures(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, p *Profile, today date.Date) error {
	rows, err := tx.Tx.QueryContext(ctx, `SELECT first_day, last_day, reason FROM facility_closure
		WHERE tenant_id = $1 AND facility_id = $2 AND last_day >= $3 ORDER BY first_day LIMIT 20`, tenantID, p.ID, today)
	if err != nil {
		return fmt.Errorf("facility: closures: %w", err)
	}
	defer rows.Close()
	p.Closures = []Closure{}
	for rows.Next() {
		var c Closure
		if err := rows.Scan(&c.FirstDay, &c.LastDay, &c.Reason); err != nil {
			return fmt.Errorf("facility: closures: %w", err)
		}
		p.Closures = append(p.Closures, c)
	}
	return rows.Err()
}

// BandPlaces are the places of one age band.
type BandPlaces struct {
	AgeBand string `json:"age_band"`
	Places  int    `json:"places"`
	// CareHoursMax is the longest weekly scope a group of the band offers (among the
	// tenant's scopes).
	CareHoursMax int `json:"care_hours_max"`
}

const profilesSQL = `
SELECT f.id, f.name, f.type, f.street, f.house_number, f.plz, f.city, f.lat, f.lon,
       array_to_string(f.concepts, ','), f.opening_hours, f.age_min_months, f.age_max_months,
       f.barrier_free, f.lunch, f.description, coalesce(f.phone, ''), coalesce(f.email::text, ''),
       coalesce(f.website, ''), coalesce(d.name, ''), p.id, p.name, p.kind, coalesce(p.website, '')
FROM facility f
JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id
LEFT JOIN district d ON d.tenant_id = f.tenant_id AND d.key = f.district_key
WHERE f.tenant_id = $1 AND f.id = ANY($2::uuid[]) AND f.status = 'active'
ORDER BY array_position($2::uuid[], f.id)`

// loadProfiles reads the active facilities among ids, in the order of ids; unknown ids,
// ids of other tenants and closed facilities are simply absent.
func loadProfiles(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, ids []uuid.UUID) ([]*Profile, error) {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	rows, err := tx.Tx.QueryContext(ctx, profilesSQL, database.Prepared, tenantID, s)
	if err != nil {
		return nil, fmt.Errorf("facility: load: %w", err)
	}
	defer rows.Close()
	var out []*Profile
	for rows.Next() {
		p := &Profile{Photos: []Photo{}, Places: []BandPlaces{}}
		var concepts string
		var hours []byte
		err := rows.Scan(&p.ID, &p.Name, &p.Type, &p.Address.Street, &p.Address.HouseNumber, &p.Address.PLZ, &p.Address.City,
			&p.Lat, &p.Lon, &concepts, &hours, &p.AgeMinMonths, &p.AgeMaxMonths, &p.BarrierFree, &p.Lunch,
			&p.Description, &p.Contact.Phone, &p.Contact.Email, &p.Contact.Website, &p.District,
			&p.Provider.ID, &p.Provider.Name, &p.Provider.Kind, &p.Provider.Website)
		if err != nil {
			return nil, fmt.Errorf("facility: load: %w", err)
		}
		p.Concepts = []string{}
		if concepts != "" {
			p.Concepts = strings.Split(concepts, ",")
		}
		if p.OpeningHours, err = care.ParseHours(hours); err != nil {
			return nil, fmt.Errorf("facility: opening hours of %s: %w", p.ID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// loadPhotos fills the photo list of p. A photo's URL carries its upload time, so a
// picture replaced at the same position is never served from a stale cache.
func loadPhotos(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, p *Profile) error {
	rows, err := tx.Tx.QueryContext(ctx, `SELECT position, alt, extract(epoch FROM created_at)::bigint FROM facility_photo
		WHERE tenant_id = $1 AND facility_id = $2 ORDER BY position`, tenantID, p.ID)
	if err != nil {
		return fmt.Errorf("facility: photos: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		var alt string
		var version int64
		if err := rows.Scan(&n, &alt, &version); err != nil {
			return fmt.Errorf("facility: photos: %w", err)
		}
		p.Photos = append(p.Photos, Photo{URL: "/facilities/" + p.ID.String() + "/photos/" + strconv.Itoa(n) + "?v=" + strconv.FormatInt(version, 36), Alt: alt})
	}
	return rows.Err()
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
	var ph storedPhoto
	var key, thumbKey sql.NullString
	err := tx.Tx.QueryRowContext(ctx, `SELECT p.content_type, p.data, p.storage_key, p.thumb_key FROM facility_photo p
		JOIN facility f ON f.tenant_id = p.tenant_id AND f.id = p.facility_id AND f.status = 'active'
		WHERE p.tenant_id = $1 AND p.facility_id = $2 AND p.position = $3`, tenantID, facilityID, n).Scan(&ph.contentType, &ph.data, &key, &thumbKey)
	if errors.Is(err, sql.ErrNoRows) {
		return ph, err
	}
	if err != nil {
		return ph, fmt.Errorf("facility: photo: %w", err)
	}
	ph.key = key.String
	if thumb && thumbKey.Valid {
		ph.key = thumbKey.String
	}
	return ph, nil
}
