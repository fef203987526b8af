package application

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/date"
)

// What a change of the city's rules does to the requests already filed: the rules
// editor (internal/cityadmin) shows these counts before an admin saves. Only queued
// requests count (filed and still waiting or being decided): drafts are checked anew
// when they are submitted, closed ones are history. A filed request stays valid under
// new rules; the counts say how many would be refused if filed today.

// CountOverChoices counts the queued requests of tenantID with more than max choices.
func CountOverChoices(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, max int) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM application a
		WHERE a.tenant_id = ? AND a.status = ANY(?::text[])
		AND (SELECT count(*) FROM application_choice c WHERE c.tenant_id = a.tenant_id AND c.application_id = a.id) > ?`,
		tenantID, pgdialect.Array(Queued), max).Scan(&n); err != nil {
		return 0, fmt.Errorf("requests over %d choices: %w", max, err)
	}
	return n, nil
}

// CountStartsOutside counts the queued requests of tenantID whose desired start lies
// before earliest or after latest (a zero date: no bound on that side).
func CountStartsOutside(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, earliest, latest date.Date) (int, error) {
	lo, hi := "-infinity", "infinity"
	if !earliest.IsZero() {
		lo = earliest.String()
	}
	if !latest.IsZero() {
		hi = latest.String()
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM application
		WHERE tenant_id = ? AND status = ANY(?::text[]) AND (start_date < ?::date OR start_date > ?::date)`,
		tenantID, pgdialect.Array(Queued), lo, hi).Scan(&n); err != nil {
		return 0, fmt.Errorf("requests by start: %w", err)
	}
	return n, nil
}

// CountClaiming counts, per criterion key, the queued requests of tenantID that claim it
// (a non-empty answer); keys no request claims are left out.
func CountClaiming(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, keys []string) (map[string]int, error) {
	out := map[string]int{}
	if len(keys) == 0 {
		return out, nil
	}
	var rows []struct {
		Key string `bun:"key"`
		N   int    `bun:"n"`
	}
	if err := tx.NewRaw(`SELECT k.key, count(*) AS n FROM application a, unnest(?::text[]) AS k(key)
		WHERE a.tenant_id = ? AND a.status = ANY(?::text[]) AND coalesce(a.criteria->>k.key, '') <> ''
		GROUP BY k.key`, pgdialect.Array(keys), tenantID, pgdialect.Array(Queued)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("requests claiming criteria: %w", err)
	}
	for _, r := range rows {
		out[r.Key] = r.N
	}
	return out, nil
}

// CountScopesOutside counts the queued requests of tenantID whose weekly care hours are
// none of scopes.
func CountScopesOutside(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, scopes []int) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM application
		WHERE tenant_id = ? AND status = ANY(?::text[]) AND care_hours <> ALL(?::int[])`,
		tenantID, pgdialect.Array(Queued), pgdialect.Array(scopes)).Scan(&n); err != nil {
		return 0, fmt.Errorf("requests by care scope: %w", err)
	}
	return n, nil
}
