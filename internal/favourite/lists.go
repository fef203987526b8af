package favourite

import (
	"context"
	"fmt"
	"slices"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// Lists finds a visitor's Merkliste: a signed-in parent's is kept in the account, so it
// follows them to every device; everyone else's is the cookie.
type Lists struct {
	db    bun.IDB
	authn *auth.Authenticator // nil: cookies only (tests of the search alone)
}

// NewLists returns the lists over db; authn may be nil.
func NewLists(db bun.IDB, authn *auth.Authenticator) *Lists { return &Lists{db: db, authn: authn} }

// parent returns the signed-in parent's account of a browser request.
func (l *Lists) parent(c *fiber.Ctx) (uuid.UUID, bool) {
	if l == nil || l.authn == nil {
		return uuid.Nil, false
	}
	p := auth.PrincipalOf(c)
	if p == nil || p.API || p.Kind != auth.KindParent {
		return uuid.Nil, false
	}
	return p.ID, true
}

// Get returns the visitor's list, oldest first.
func (l *Lists) Get(c *fiber.Ctx) ([]uuid.UUID, error) {
	account, ok := l.parent(c)
	if !ok {
		return Read(c), nil
	}
	t := tenant.FromFiber(c)
	var ids []uuid.UUID
	err := database.InTenantTx(c.UserContext(), l.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT facility_id FROM account_favourite WHERE tenant_id = ? AND account_id = ?
			ORDER BY added_at, facility_id`, t.ID, account).Scan(ctx, &ids)
	})
	return ids, err
}

// Set changes whether facility id is on the visitor's list and returns the new list.
// The caller has checked that id is a facility of the tenant.
func (l *Lists) Set(c *fiber.Ctx, id uuid.UUID, on bool) ([]uuid.UUID, error) {
	account, ok := l.parent(c)
	if !ok {
		ids := Read(c)
		if on {
			ids = Add(ids, id)
		} else {
			ids = Remove(ids, id)
		}
		Write(c, ids)
		return ids, nil
	}
	t := tenant.FromFiber(c)
	err := database.InTenantTx(c.UserContext(), l.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if !on {
			_, err := tx.ExecContext(ctx, `DELETE FROM account_favourite WHERE tenant_id = ? AND account_id = ? AND facility_id = ?`,
				t.ID, account, id)
			return err
		}
		return Import(ctx, tx, t.ID, account, []uuid.UUID{id})
	})
	if err != nil {
		return nil, err
	}
	return l.Get(c)
}

// FormToken is what the list's forms must carry: nothing for an anonymous visitor (the
// form only changes the visitor's own cookie), the CSRF token for a signed-in parent
// (the form changes the account).
func (l *Lists) FormToken(c *fiber.Ctx) string {
	if _, ok := l.parent(c); !ok {
		return ""
	}
	return l.authn.CSRFToken(c)
}

// Import adds facilities to an account's list inside the caller's tenant transaction:
// only facilities of the tenant (the ids come from a cookie, which is user input), in the
// given order after those already there, and at most Max — the oldest go first. It is
// the account's importer for the cookie at sign-in.
func Import(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	ids, err := provider.FacilitiesAmong(ctx, tx, tenantID, slices.Compact(slices.Clone(ids)))
	if err != nil {
		return fmt.Errorf("favourites: import: %w", err)
	}
	if len(ids) > 0 {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO account_favourite (tenant_id, account_id, facility_id)
			SELECT ?, ?, wanted.id
			FROM unnest(?::uuid[]) WITH ORDINALITY AS wanted(id, n)
			ORDER BY wanted.n
			ON CONFLICT DO NOTHING`, tenantID, accountID, pgdialect.Array(ids)); err != nil {
			return fmt.Errorf("favourites: import: %w", err)
		}
	}
	_, err = tx.ExecContext(ctx, `
		DELETE FROM account_favourite WHERE tenant_id = ? AND account_id = ? AND facility_id IN (
			SELECT facility_id FROM account_favourite WHERE tenant_id = ? AND account_id = ?
			ORDER BY added_at DESC, facility_id OFFSET ?)`, tenantID, accountID, tenantID, accountID, Max)
	return err
}
