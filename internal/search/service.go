package search

import (
	"context"
	"fmt"
	"net/url"

	"github.com/uptrace/bun"

	"kitaportal/internal/availability"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// Service answers searches. It owns the transaction: every read runs inside the tenant's
// transaction, so the database's row-level security sees the tenant.
type Service struct {
	db        *bun.DB
	clock     clock.Clock
	places    places
	providers providerCache
}

// NewService returns the search service.
func NewService(db *bun.DB, c clock.Clock) *Service {
	return &Service{db: db, clock: c}
}

// Today is the current day in Germany.
func (s *Service) Today() date.Date { return date.Today(s.clock) }

// LastMonth is the last month with availability figures for tenant t: how far ahead a
// start may lie.
func (s *Service) LastMonth(t *tenant.Tenant) date.Date {
	return availability.WindowFor(t.Rules, s.Today()).Last()
}

// Parse reads a query for tenant t from URL parameters.
func (s *Service) Parse(t *tenant.Tenant, v url.Values) (Query, error) {
	return Parse(v, t.Rules, s.Today(), s.LastMonth(t))
}

// ParseChild reads the optional child of a profile or comparison page.
func (s *Service) ParseChild(t *tenant.Tenant, v url.Values) (Child, bool, error) {
	return ParseChild(v, t.Rules, s.Today(), s.LastMonth(t))
}

// Result is one page of answers.
type Result struct {
	Query  Query
	Origin *Origin // nil: the whole city
	Items  []Item
	Total  int
}

// Pages is the number of pages of the result.
func (r *Result) Pages() int {
	if r.Total == 0 {
		return 1
	}
	return (r.Total + r.Query.PerPage - 1) / r.Query.PerPage
}

// Search resolves the place of q and returns the page it asks for. A page beyond the
// last one is an error naming the last page.
func (s *Service) Search(ctx context.Context, t *tenant.Tenant, q Query) (*Result, error) {
	res := &Result{Query: q}
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := checkProviders(ctx, tx, t.ID, q.Providers); err != nil {
			return err
		}
		origin, err := s.places.resolve(ctx, tx, q, t.ID)
		if err != nil {
			return err
		}
		res.Origin = origin
		res.Items, res.Total, err = run(ctx, tx, t, q, origin)
		if err != nil || len(res.Items) > 0 || q.Page == 1 {
			return err
		}
		// Beyond the last page the window function has no row to report the total on.
		first := q
		first.Page, first.PerPage = 1, 1
		_, res.Total, err = run(ctx, tx, t, first, origin)
		return err
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	if len(res.Items) == 0 && q.Page > 1 {
		return nil, apperr.Invalid(ParamPage, "page_out_of_range", map[string]any{"last": res.Pages()})
	}
	return res, nil
}

func run(ctx context.Context, tx bun.Tx, t *tenant.Tenant, q Query, origin *Origin) ([]Item, int, error) {
	query, args := searchSQL(t.ID, q, origin)
	rows, err := tx.Tx.QueryContext(ctx, query, append([]any{database.Prepared}, args...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("search: %w", err)
	}
	items, total, err := scanItems(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("search: %w", err)
	}
	return items, total, nil
}

// AllProblems completes a failed parse with what only the city's data can tell (an
// unknown postcode or address, providers of no facility here), so a parent reads every
// problem of the search at once instead of one per try. q is what Parse read; fields it
// already refused are not looked up again.
func (s *Service) AllProblems(ctx context.Context, t *tenant.Tenant, q Query, parseErr error) error {
	var list apperr.List
	apperr.Collect(&list, parseErr)
	if len(list) == 0 {
		return parseErr // not about the input
	}
	refused := map[string]bool{}
	for _, e := range list {
		refused[e.Field] = true
	}
	place := q
	if refused[ParamPLZ] {
		place.PLZ = ""
	}
	if refused[ParamAddress] {
		place.Address = ""
	}
	if refused[ParamLat] || refused[ParamLon] {
		place.Point = nil
	}
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if !refused[ParamProvider] {
			apperr.Collect(&list, validationOnly(checkProviders(ctx, tx, t.ID, q.Providers)))
		}
		_, err := s.places.resolve(ctx, tx, place, t.ID)
		apperr.Collect(&list, validationOnly(err))
		return nil
	})
	if err != nil {
		return database.Classify(err)
	}
	return single(list)
}

// validationOnly keeps err when it is about the input; a failure of the lookup itself
// does not hide the problems already known.
func validationOnly(err error) error {
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindInvalid {
		return err
	}
	return nil
}
