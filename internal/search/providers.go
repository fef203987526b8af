package search

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/tenant"
)

// ProviderChoice is a named provider (Träger) parents can filter by: one that runs at
// least one active facility of the city. Childminders, each their own provider, are
// found by type instead.
type ProviderChoice struct {
	ID         uuid.UUID `json:"id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Facilities int       `json:"facilities"` // active facilities
}

// providersTTL is how long the list of a city's providers is kept: it is on the start
// page, the most visited one, and changes when a provider opens its first Kita.
const providersTTL = time.Minute

// providerCache keeps each tenant's list for providersTTL.
type providerCache struct {
	mu       sync.Mutex
	byTenant map[uuid.UUID]providerEntry
}

type providerEntry struct {
	list []ProviderChoice
	at   time.Time
}

// Providers lists the named providers of tenant t's active facilities, by name, and a
// generation that changes whenever the list was read again (for pages rendered once
// and shared).
func (s *Service) Providers(ctx context.Context, t *tenant.Tenant) ([]ProviderChoice, int64, error) {
	s.providers.mu.Lock()
	e, ok := s.providers.byTenant[t.ID]
	s.providers.mu.Unlock()
	if ok && time.Since(e.at) < providersTTL {
		return e.list, e.at.UnixNano(), nil
	}
	var list []ProviderChoice
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`
			SELECT p.id, p.name, p.kind, count(*) AS facilities
			FROM provider p
			JOIN facility f ON f.tenant_id = p.tenant_id AND f.provider_id = p.id AND f.status = 'active' AND NOT f.brokered
			WHERE p.tenant_id = ? AND p.kind <> 'childminder'
			GROUP BY p.id, p.name, p.kind
			ORDER BY p.name, p.id`, t.ID).Scan(ctx, &list)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("search: providers: %w", err)
	}
	now := time.Now()
	s.providers.mu.Lock()
	if s.providers.byTenant == nil {
		s.providers.byTenant = map[uuid.UUID]providerEntry{}
	}
	s.providers.byTenant[t.ID] = providerEntry{list: list, at: now}
	s.providers.mu.Unlock()
	return list, now.UnixNano(), nil
}

// ErrUnknownProvider answers a provider filter naming no provider of the city (an id of
// another city's provider included).
var ErrUnknownProvider = apperr.Invalid(ParamProvider, "unknown_provider", nil)

// checkProviders makes sure every id is a provider of the tenant, in the search's
// transaction.
func checkProviders(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM provider WHERE tenant_id = ? AND id = ANY(?::uuid[])`,
		tenantID, pgdialect.Array(uuidTexts(ids))).Scan(&n); err != nil {
		return fmt.Errorf("search: check providers: %w", err)
	}
	if n != len(ids) {
		return ErrUnknownProvider
	}
	return nil
}
