package provider

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

type idName struct {
	ID   uuid.UUID `bun:"id"`
	Name string    `bun:"name"`
}

// FacilityNames answers the names of the tenant's facilities among ids; an id of no
// facility of the tenant is missing from the map.
func FacilityNames(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	return names(ctx, tx, `SELECT id, name FROM facility WHERE tenant_id = ? AND id = ANY(?::uuid[])`, tenantID, ids)
}

// ProviderNames answers the names of the tenant's providers among ids; an id of no
// provider of the tenant is missing from the map.
func ProviderNames(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	return names(ctx, tx, `SELECT id, name FROM provider WHERE tenant_id = ? AND id = ANY(?::uuid[])`, tenantID, ids)
}

func names(ctx context.Context, tx bun.IDB, q string, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := make(map[uuid.UUID]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []idName
	if err := tx.NewRaw(q, tenantID, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// ProviderChoice is a provider as a form offers it.
type ProviderChoice struct {
	ID   uuid.UUID `bun:"id"`
	Name string    `bun:"name"`
}

// ProvidersByName lists the tenant's providers by name, at most limit of them.
func ProvidersByName(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, limit int) ([]ProviderChoice, error) {
	var out []ProviderChoice
	err := tx.NewRaw(`SELECT id, name FROM provider WHERE tenant_id = ? ORDER BY name LIMIT ?`, tenantID, limit).Scan(ctx, &out)
	return out, err
}

// PostalAddress is a facility as letters and contracts print it.
type PostalAddress struct {
	Name        string `bun:"name"`
	Provider    string `bun:"provider"`
	Street      string `bun:"street"`
	HouseNumber string `bun:"house_number"`
	PLZ         string `bun:"plz"`
	City        string `bun:"city"`
}

// PostalAddressOf reads facility id's name, provider and address.
func PostalAddressOf(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) (*PostalAddress, error) {
	var out PostalAddress
	err := tx.NewRaw(`SELECT f.name, p.name AS provider, f.street, f.house_number, f.plz, f.city
		FROM facility f JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id
		WHERE f.tenant_id = ? AND f.id = ?`, tenantID, id).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("provider: postal address: %w", err)
	}
	return &out, nil
}
