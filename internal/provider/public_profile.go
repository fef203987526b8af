package provider

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/care"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
)

// What the public facility profiles read: an active facility with its provider, its
// photos and its coming closures. Anyone may see these, so no caller scope applies.

// PublicFacility is an active facility as its public profile shows it.
type PublicFacility struct {
	ID           uuid.UUID
	Name         string
	Type         string
	Address      care.Address
	DistrictKey  string // "" when the facility has none
	Lat, Lon     float64
	Description  string
	Concepts     []string
	OpeningHours json.RawMessage // as stored
	AgeMinMonths int
	AgeMaxMonths int
	BarrierFree  bool
	Lunch        bool
	Phone        string
	Email        string
	Website      string
	Provider     PublicProvider
}

// PublicProvider is the Träger of a facility.
type PublicProvider struct {
	ID      uuid.UUID
	Name    string
	Kind    string
	Website string
}

const publicFacilitiesSQL = `
SELECT f.id, f.name, f.type, f.street, f.house_number, f.plz, f.city, f.lat, f.lon,
       array_to_string(f.concepts, ','), f.opening_hours, f.age_min_months, f.age_max_months,
       f.barrier_free, f.lunch, f.description, coalesce(f.phone, ''), coalesce(f.email::text, ''),
       coalesce(f.website, ''), coalesce(f.district_key, ''), p.id, p.name, p.kind, coalesce(p.website, '')
FROM facility f
JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id
WHERE f.tenant_id = $1 AND f.id = ANY($2::uuid[]) AND f.status = 'active'
ORDER BY array_position($2::uuid[], f.id)`

// PublicFacilities reads the active facilities among ids, in the order of ids; unknown
// ids, ids of other tenants and closed facilities are absent. Every profile, comparison
// and favourite page reads them, so the statement runs prepared.
func PublicFacilities(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, ids []uuid.UUID) ([]PublicFacility, error) {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	rows, err := tx.Tx.QueryContext(ctx, publicFacilitiesSQL, database.Prepared, tenantID, s)
	if err != nil {
		return nil, fmt.Errorf("provider: public facilities: %w", err)
	}
	defer rows.Close()
	var out []PublicFacility
	for rows.Next() {
		var f PublicFacility
		var concepts string
		var hours []byte
		err := rows.Scan(&f.ID, &f.Name, &f.Type, &f.Address.Street, &f.Address.HouseNumber, &f.Address.PLZ, &f.Address.City,
			&f.Lat, &f.Lon, &concepts, &hours, &f.AgeMinMonths, &f.AgeMaxMonths, &f.BarrierFree, &f.Lunch,
			&f.Description, &f.Phone, &f.Email, &f.Website, &f.DistrictKey,
			&f.Provider.ID, &f.Provider.Name, &f.Provider.Kind, &f.Provider.Website)
		if err != nil {
			return nil, fmt.Errorf("provider: public facilities: %w", err)
		}
		f.Concepts = []string{}
		if concepts != "" {
			f.Concepts = strings.Split(concepts, ",")
		}
		f.OpeningHours = hours
		out = append(out, f)
	}
	return out, rows.Err()
}

// PublicPhoto is one photo of a facility: its position and the time it was uploaded,
// in seconds (a new upload at the same position has a new version).
type PublicPhoto struct {
	Position int
	Alt      string
	Version  int64
}

// PublicPhotos lists the photos of facility facilityID by position.
func PublicPhotos(ctx context.Context, db bun.IDB, tenantID, facilityID uuid.UUID) ([]PublicPhoto, error) {
	rows, err := db.QueryContext(ctx, `SELECT position, alt, extract(epoch FROM created_at)::bigint FROM facility_photo
		WHERE tenant_id = ? AND facility_id = ? ORDER BY position`, tenantID, facilityID)
	if err != nil {
		return nil, fmt.Errorf("provider: public photos: %w", err)
	}
	defer rows.Close()
	var out []PublicPhoto
	for rows.Next() {
		var ph PublicPhoto
		if err := rows.Scan(&ph.Position, &ph.Alt, &ph.Version); err != nil {
			return nil, fmt.Errorf("provider: public photos: %w", err)
		}
		out = append(out, ph)
	}
	return out, rows.Err()
}

// PhotoFile is where a photo's bytes are: in the row (demo drawings) or in file storage
// under a key (uploads), with a thumbnail's key when one was made.
type PhotoFile struct {
	ContentType string
	Data        []byte
	StorageKey  sql.NullString
	ThumbKey    sql.NullString
}

// ActivePhotoFile reads photo n of facility facilityID when the facility is active;
// sql.ErrNoRows when there is none.
func ActivePhotoFile(ctx context.Context, db bun.IDB, tenantID, facilityID uuid.UUID, n int) (PhotoFile, error) {
	var ph PhotoFile
	err := db.QueryRowContext(ctx, `SELECT p.content_type, p.data, p.storage_key, p.thumb_key FROM facility_photo p
		JOIN facility f ON f.tenant_id = p.tenant_id AND f.id = p.facility_id AND f.status = 'active'
		WHERE p.tenant_id = ? AND p.facility_id = ? AND p.position = ?`, tenantID, facilityID, n).
		Scan(&ph.ContentType, &ph.Data, &ph.StorageKey, &ph.ThumbKey)
	if errors.Is(err, sql.ErrNoRows) {
		return ph, err
	}
	if err != nil {
		return ph, fmt.Errorf("provider: photo: %w", err)
	}
	return ph, nil
}

// ClosuresFrom lists the closures of facility facilityID that are not over on day from,
// the earliest first, at most limit.
func ClosuresFrom(ctx context.Context, db bun.IDB, tenantID, facilityID uuid.UUID, from date.Date, limit int) ([]Closure, error) {
	out := []Closure{}
	if err := db.NewRaw(`SELECT id, first_day, last_day, reason FROM facility_closure
		WHERE tenant_id = ? AND facility_id = ? AND last_day >= ? ORDER BY first_day LIMIT ?`,
		tenantID, facilityID, from, limit).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("provider: closures: %w", err)
	}
	return out, nil
}
