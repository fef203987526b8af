package authz

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
)

// modelText is RBAC with domains. The request has no object: which facility or child an
// action reaches is the queries' business. Catalogue rules have the domain "*" and hold
// in every tenant; grouping rules give a staff account a role in one tenant only.
const modelText = `
[request_definition]
r = sub, dom, act

[policy_definition]
p = sub, dom, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && (p.dom == "*" || p.dom == r.dom) && r.act == p.act
`

// PlatformDomain is the domain of requests on the base domain (operators).
const PlatformDomain = "platform"

// Enforcer answers "may this principal do this action here". It keeps every rule in
// memory and reloads when another process changed them (authz_policy_version). Until the
// rules are loaded (the database may be down at start) it allows nothing.
type Enforcer struct {
	e         *casbin.SyncedEnforcer
	db        bun.IDB
	catalogue *Catalogue
	log       *slog.Logger
	version   atomic.Int64
	loaded    atomic.Bool
}

// New prepares an enforcer; Load (or Run) reads the rules.
func New(db bun.IDB, cat *Catalogue, log *slog.Logger) (*Enforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, err
	}
	// The adapter is set afterwards: given to the constructor it would read the rules at
	// once, and the database may not be up yet.
	e, err := casbin.NewSyncedEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("authz: %w", err)
	}
	e.SetAdapter(NewAdapter(db))
	// Role changes are written by the services in their own transactions (with the audit
	// entry); the in-memory model follows through Reload.
	e.EnableAutoSave(false)
	return &Enforcer{e: e, db: db, catalogue: cat, log: log}, nil
}

// Load writes the catalogue's rules to casbin_rule (when they changed) and loads every
// rule.
func (en *Enforcer) Load(ctx context.Context) error {
	if err := en.syncCatalogue(ctx); err != nil {
		return err
	}
	return en.Reload(ctx)
}

// Ready tells whether the rules are loaded.
func (en *Enforcer) Ready() bool { return en.loaded.Load() }

// Catalogue returns the permission catalogue.
func (en *Enforcer) Catalogue() *Catalogue { return en.catalogue }

// syncCatalogue makes the stored p rules equal to the catalogue's, in one transaction.
func (en *Enforcer) syncCatalogue(ctx context.Context) error {
	want := en.catalogue.rules()
	return en.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var have []ruleRow
		if err := tx.NewRaw(`SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rule WHERE ptype = 'p' ORDER BY v0, v1, v2`).Scan(ctx, &have); err != nil {
			return fmt.Errorf("authz: read rules: %w", err)
		}
		wanted := map[string]bool{}
		for _, w := range want {
			wanted[fmt.Sprint(w)] = true
		}
		current := map[string]bool{}
		for _, h := range have {
			current[fmt.Sprint(h.line())] = true
			if !wanted[fmt.Sprint(h.line())] {
				if err := deleteRule(ctx, tx, h.PType, h.line()[1:]); err != nil {
					return err
				}
			}
		}
		for _, w := range want {
			if !current[fmt.Sprint(w)] {
				if err := insertRule(ctx, tx, w[0], w[1:]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Reload reads every rule again.
func (en *Enforcer) Reload(ctx context.Context) error {
	var v int64
	if err := en.db.QueryRowContext(ctx, `SELECT version FROM authz_policy_version`).Scan(&v); err != nil {
		return fmt.Errorf("authz: policy version: %w", err)
	}
	if err := en.e.LoadPolicy(); err != nil {
		return fmt.Errorf("authz: load policy: %w", err)
	}
	en.version.Store(v)
	en.loaded.Store(true)
	return nil
}

// Run loads the rules (retrying while the database is away), then reloads whenever the
// stored policy version changes, checking every interval: a role granted or revoked by
// another server process takes effect here within that time. (The object-scope queries
// read staff_role directly, so a revoked scope ends at once.)
func (en *Enforcer) Run(ctx context.Context, interval time.Duration) {
	for !en.Ready() {
		err := en.Load(ctx)
		if err == nil || ctx.Err() != nil {
			break
		}
		en.log.Warn("authz: rules not loaded yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		var v int64
		if err := en.db.QueryRowContext(ctx, `SELECT version FROM authz_policy_version`).Scan(&v); err != nil {
			if ctx.Err() == nil {
				en.log.Warn("authz: policy version check failed; keeping the loaded rules", "err", err)
			}
			continue
		}
		if v != en.version.Load() {
			if err := en.Reload(ctx); err != nil && ctx.Err() == nil {
				en.log.Error("authz: reload failed; keeping the loaded rules", "err", err)
			}
		}
	}
}

// Allowed tells whether p may perform action in domain (a tenant id, or PlatformDomain).
// A nil principal is allowed nothing. A machine needs both the action among its
// credential's permissions and the catalogue's "machine" rule for it (the ceiling).
func (en *Enforcer) Allowed(p *auth.Principal, domain, action string) bool {
	if p == nil || !en.catalogue.Has(action) {
		return false
	}
	if p.Kind == auth.KindMachine && !slices.Contains(p.Permissions, action) {
		return false
	}
	ok, err := en.e.Enforce(p.Subject(), domain, action)
	if err != nil {
		en.log.Error("authz: enforce failed; denying", "action", action, "err", err)
		return false
	}
	return ok
}

// RolesOf lists the roles a staff account holds in a tenant according to the policy.
func (en *Enforcer) RolesOf(accountID, tenantID uuid.UUID) []string {
	return en.e.GetRolesForUserInDomain(auth.StaffSubject(accountID), tenantID.String())
}

// GrantRole stores the grouping rule that gives a staff account role in a tenant, inside
// the caller's tenant transaction (which also writes staff_role and the audit entry).
// Call Reload after commit.
func GrantRole(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, role string) error {
	return insertRule(ctx, tx, "g", []string{auth.StaffSubject(accountID), role, tenantID.String()})
}

// RevokeRole deletes that grouping rule.
func RevokeRole(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID, role string) error {
	return deleteRule(ctx, tx, "g", []string{auth.StaffSubject(accountID), role, tenantID.String()})
}

// RevokeAll deletes every grouping rule of a staff account (disabled or deleted).
func RevokeAll(ctx context.Context, tx bun.IDB, tenantID, accountID uuid.UUID) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM casbin_rule WHERE ptype = 'g' AND tenant_id = ? AND v0 = ?`,
		tenantID, auth.StaffSubject(accountID))
	return err
}
