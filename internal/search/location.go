package search

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/tenant"
)

// Origin is where a search starts from and how we tell the parent what we understood.
type Origin struct {
	Point
	PLZ    string // the postcode of the origin, if it has one
	Street string // the street, when an address was found
	Place  string // the place as written in addresses
	// Others are further postcodes that have a street of the same name, so the parent
	// can pick the right one.
	Others []Origin
}

// Label is the origin in words: "Kortumstraße, 44787 Bochum", "44787 Bochum", "Bochum".
func (o Origin) Label() string {
	where := strings.TrimSpace(o.PLZ + " " + o.Place)
	if o.Street != "" {
		return o.Street + ", " + where
	}
	return where
}

var (
	plzInText   = regexp.MustCompile(`\b[0-9]{5}\b`)
	houseNumber = regexp.MustCompile(`\s+[0-9]+\s*[a-zA-Z]?(\s*[-/]\s*[0-9]+\s*[a-zA-Z]?)?$`)
	strAbbrev   = regexp.MustCompile(`(?i)(str\.|strasse)$`)
)

// resolve finds the point a query starts from in the tenant's own postcode and street
// tables; no external geocoder is asked. nil means no place was given (the whole city).
func (p *places) resolve(ctx context.Context, tx bun.Tx, q Query, tenantID uuid.UUID) (*Origin, error) {
	switch {
	case q.Point != nil:
		return &Origin{Point: *q.Point}, nil
	case q.PLZ != "":
		o, err := p.postcode(ctx, tx, tenantID, q.PLZ)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.Invalid(ParamPLZ, "unknown_plz", map[string]any{"plz": q.PLZ})
		}
		return o, err
	case q.Address != "":
		return p.address(ctx, tx, tenantID, q.Address)
	}
	return nil, nil
}

// places keeps each tenant's postcodes for a few minutes: nearly every search starts at
// one, and they change only when a city's geography is imported again. They are read
// inside the tenant's transaction and kept by tenant.
type places struct {
	mu       sync.RWMutex
	byTenant map[uuid.UUID]postcodeSet
}

type postcodeSet struct {
	read  time.Time
	codes map[string]Origin
}

const postcodesFresh = 5 * time.Minute

// postcode returns the centre of a postcode of the tenant; sql.ErrNoRows when it has none.
func (p *places) postcode(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, plz string) (*Origin, error) {
	p.mu.RLock()
	set, ok := p.byTenant[tenantID]
	p.mu.RUnlock()
	if !ok || time.Since(set.read) > postcodesFresh {
		codes, err := tenant.Postcodes(ctx, tx, tenantID)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		set = postcodeSet{read: time.Now(), codes: make(map[string]Origin, len(codes))}
		for _, c := range codes {
			set.codes[c.PLZ] = Origin{Point: Point{Lat: c.Lat, Lon: c.Lon}, PLZ: c.PLZ, Place: c.Place}
		}
		p.mu.Lock()
		if p.byTenant == nil {
			p.byTenant = map[uuid.UUID]postcodeSet{}
		}
		p.byTenant[tenantID] = set
		p.mu.Unlock()
	}
	o, ok := set.codes[plz]
	if !ok {
		return nil, sql.ErrNoRows
	}
	return &o, nil
}

// addressOrigin understands what parents type into one field: "44787", "44787 Bochum",
// "Kortumstraße 12", "Kortumstr. 12, 44787 Bochum", "Adendorf".
func (p *places) address(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, text string) (*Origin, error) {
	plz := plzInText.FindString(text)
	rest := strings.TrimSpace(plzInText.ReplaceAllString(text, " "))
	street := strings.TrimSpace(strings.Split(rest, ",")[0])
	street = strings.TrimSpace(houseNumber.ReplaceAllString(street, ""))
	street = strAbbrev.ReplaceAllString(street, "straße")

	if street != "" {
		o, err := streetOrigin(ctx, tx, tenantID, street, plz)
		if err != nil || o != nil {
			return o, err
		}
		if plz == "" {
			if o, err := placeOrigin(ctx, tx, tenantID, street); err != nil || o != nil {
				return o, err
			}
		}
	}
	if plz != "" {
		o, err := p.postcode(ctx, tx, tenantID, plz)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.Invalid(ParamAddress, "unknown_plz", map[string]any{"plz": plz})
		}
		return o, err
	}
	suggestions, err := suggest(ctx, tx, tenantID, street)
	if err != nil {
		return nil, err
	}
	e := apperr.Invalid(ParamAddress, "unknown_address", map[string]any{"address": text})
	if len(suggestions) > 0 {
		e.Details = map[string]any{"suggestions": suggestions}
	}
	return nil, e
}

// streetOrigin finds a street by its name (any case), preferring the given postcode.
func streetOrigin(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, street, plz string) (*Origin, error) {
	found, err := tenant.StreetsNamed(ctx, tx, tenantID, street, plz)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	origins := make([]Origin, len(found))
	for i, s := range found {
		origins[i] = Origin{Point: Point{Lat: s.Lat, Lon: s.Lon}, PLZ: s.PLZ, Street: s.Name, Place: s.Place}
	}
	o := origins[0]
	if plz == "" || o.PLZ != plz {
		o.Others = origins[1:]
	}
	return &o, nil
}

// placeOrigin finds a place name ("Adendorf", "Bochum"): the middle of its postcodes.
func placeOrigin(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, place string) (*Origin, error) {
	c, ok, err := tenant.CentreOfPlace(ctx, tx, tenantID, place)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if !ok {
		return nil, nil
	}
	return &Origin{Point: Point{Lat: c.Lat, Lon: c.Lon}, Place: c.Place}, nil
}

// suggest lists streets whose names look like what was typed (trigram similarity).
func suggest(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, text string) ([]string, error) {
	if len([]rune(text)) < 3 {
		return nil, nil
	}
	like, err := tenant.StreetsLike(ctx, tx, tenantID, text)
	if err != nil {
		return nil, fmt.Errorf("search: suggest: %w", err)
	}
	var out []string
	for _, s := range like {
		out = append(out, s.Name+", "+s.PLZ+" "+s.Place)
	}
	return out, nil
}
