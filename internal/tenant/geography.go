package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/database"
)

// The city's geography: its postcodes with their centres and its streets with a point
// each, which the search and the facility imports start from (no external geocoder), and
// the names of its planning districts.

// Postcode is one postcode of the tenant with its centre.
type Postcode struct {
	PLZ   string
	Place string // the place as written in addresses
	Lat   float64
	Lon   float64
}

// Postcodes lists every postcode of the tenant. The search reads them on nearly every
// request (and keeps them a few minutes), so the statement runs prepared.
func Postcodes(ctx context.Context, tx bun.Tx, tenantID uuid.UUID) ([]Postcode, error) {
	rows, err := tx.Tx.QueryContext(ctx, `SELECT plz, place, lat, lon FROM postcode WHERE tenant_id = $1`, database.Prepared, tenantID)
	if err != nil {
		return nil, fmt.Errorf("tenant: postcodes: %w", err)
	}
	defer rows.Close()
	var out []Postcode
	for rows.Next() {
		var p Postcode
		if err := rows.Scan(&p.PLZ, &p.Place, &p.Lat, &p.Lon); err != nil {
			return nil, fmt.Errorf("tenant: postcodes: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tenant: postcodes: %w", err)
	}
	return out, nil
}

// StreetPoint is a street of one postcode with its point.
type StreetPoint struct {
	Name  string
	PLZ   string
	Place string // the place of the postcode
	Lat   float64
	Lon   float64
}

// StreetsNamed finds the streets called name (any case, no wildcards), those in postcode
// plz first, then by postcode; at most ten.
func StreetsNamed(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, name, plz string) ([]StreetPoint, error) {
	rows, err := tx.Tx.QueryContext(ctx, `
		SELECT s.name, s.plz, p.place, s.lat, s.lon
		FROM street s JOIN postcode p ON p.tenant_id = s.tenant_id AND p.plz = s.plz
		WHERE s.tenant_id = $1 AND s.name ILIKE $2
		ORDER BY s.plz = $3 DESC, s.plz
		LIMIT 10`, tenantID, likeLiteral(name), plz)
	if err != nil {
		return nil, fmt.Errorf("tenant: streets: %w", err)
	}
	defer rows.Close()
	var out []StreetPoint
	for rows.Next() {
		var s StreetPoint
		if err := rows.Scan(&s.Name, &s.PLZ, &s.Place, &s.Lat, &s.Lon); err != nil {
			return nil, fmt.Errorf("tenant: streets: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// PlaceCentre is the middle of the postcodes of a place ("Adendorf", "Bochum").
type PlaceCentre struct {
	Place string // as written in addresses
	Lat   float64
	Lon   float64
}

// CentreOfPlace finds the postcodes whose place is called place (any case) and returns
// their middle; ok is false when there are none.
func CentreOfPlace(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, place string) (c PlaceCentre, ok bool, err error) {
	var n int
	err = tx.Tx.QueryRowContext(ctx, `
		SELECT coalesce(min(place), ''), count(*), coalesce(avg(lat), 0), coalesce(avg(lon), 0)
		FROM postcode WHERE tenant_id = $1 AND lower(place) = lower($2)`, tenantID, place).Scan(&c.Place, &n, &c.Lat, &c.Lon)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return c, false, fmt.Errorf("tenant: place: %w", err)
	}
	return c, n > 0, nil
}

// StreetsLike lists up to five streets whose names look like text (trigram similarity),
// the most similar first; their points are not read.
func StreetsLike(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, text string) ([]StreetPoint, error) {
	rows, err := tx.Tx.QueryContext(ctx, `
		SELECT s.name, s.plz, p.place
		FROM street s JOIN postcode p ON p.tenant_id = s.tenant_id AND p.plz = s.plz
		WHERE s.tenant_id = $1 AND s.name % $2
		ORDER BY similarity(s.name, $2) DESC, s.plz
		LIMIT 5`, tenantID, text)
	if err != nil {
		return nil, fmt.Errorf("tenant: similar streets: %w", err)
	}
	defer rows.Close()
	var out []StreetPoint
	for rows.Next() {
		var s StreetPoint
		if err := rows.Scan(&s.Name, &s.PLZ, &s.Place); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// likeLiteral escapes LIKE's wildcards so a typed name matches only itself.
func likeLiteral(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Address is where an address of the tenant lies: the municipality and place of its
// postcode, and the point of its street (or the postcode's centre when the street is not
// in the tenant's table).
type Address struct {
	Municipality string  `bun:"municipality_key"`
	Place        string  `bun:"place"`
	Lat          float64 `bun:"lat"`
	Lon          float64 `bun:"lon"`
}

// LocateAddress finds postcode plz and the street named street (any case) in it; ok is
// false when plz is not a postcode of the tenant. Both are trimmed.
func LocateAddress(ctx context.Context, db bun.IDB, tenantID uuid.UUID, plz, street string) (a Address, ok bool, err error) {
	err = db.NewRaw(`SELECT pc.municipality_key, pc.place, coalesce(s.lat, pc.lat) AS lat, coalesce(s.lon, pc.lon) AS lon
		FROM postcode pc LEFT JOIN street s ON s.tenant_id = pc.tenant_id AND s.plz = pc.plz AND lower(s.name) = lower(?)
		WHERE pc.tenant_id = ? AND pc.plz = ? LIMIT 1`, strings.TrimSpace(street), tenantID, strings.TrimSpace(plz)).Scan(ctx, &a)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("tenant: address: %w", err)
	}
	return a, true, nil
}
