package credential

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
)

// Audit actions of the credentials.
const (
	ActionCreated = "credential.created"
	ActionRotated = "credential.rotated"
	ActionRevoked = "credential.revoked"
)

var errNameTaken = apperr.Invalid("name", "credential_name_taken", nil)

// Authorizer answers what a principal may do in a domain (authz.Enforcer).
type Authorizer interface {
	Allowed(p *auth.Principal, domain, action string) bool
}

// Service manages a city's machine credentials and authenticates the requests made with
// them (auth.Machines).
type Service struct {
	db    bun.IDB
	clock clock.Clock
	authz Authorizer
}

// NewService returns the credentials service.
func NewService(db bun.IDB, clk clock.Clock, az Authorizer) *Service {
	return &Service{db: db, clock: clk, authz: az}
}

// touchEvery limits last_used_at writes to one per minute and key.
const touchEvery = time.Minute

// FindMachine implements auth.Machines: the principal of the live key of tenantID with
// this secret, or nil. The key is looked up inside that tenant's transaction, so a key of
// another city does not exist here.
func (s *Service) FindMachine(ctx context.Context, tenantID uuid.UUID, secret string) (*auth.Principal, error) {
	if !wellFormed(secret) {
		return nil, nil
	}
	now := s.clock.Now()
	var l *live
	err := database.InTenantTx(ctx, s.db, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if l, err = findLive(ctx, tx, tenantID, auth.HashToken(secret)); err != nil || l == nil {
			return err
		}
		if l.LastUsedAt == nil || now.Sub(*l.LastUsedAt) > touchEvery {
			return touch(ctx, tx, tenantID, l.ID, now)
		}
		return nil
	})
	if err != nil || l == nil {
		return nil, database.Classify(err)
	}
	return &auth.Principal{Kind: auth.KindMachine, ID: l.ID, TenantID: tenantID, FirstName: l.Name, Language: "de",
		API: true, Permissions: Permissions(l.Scopes)}, nil
}

// Available lists the scopes the caller may hand out in the caller's city: those whose
// every action the catalogue allows machines (the ceiling) and the caller holds there.
func (s *Service) Available(c auth.Caller) []Scope {
	var out []Scope
	if c.Tenant == nil || c.Principal == nil || s.authz == nil {
		return out
	}
	domain := c.Tenant.ID.String()
	for _, sc := range Scopes {
		probe := &auth.Principal{Kind: auth.KindMachine, TenantID: c.Tenant.ID, Permissions: sc.Permissions}
		ok := true
		for _, p := range sc.Permissions {
			if !s.authz.Allowed(probe, domain, p) || !s.authz.Allowed(c.Principal, domain, p) {
				ok = false
			}
		}
		if ok {
			out = append(out, sc)
		}
	}
	return out
}

// staffID is the signed-in staff member who manages the keys; machines (and anyone
// else) never do.
func staffID(c auth.Caller) (uuid.UUID, error) {
	if c.Tenant == nil || c.Principal == nil || c.Principal.Kind != auth.KindStaff || !c.Principal.MFADone {
		return uuid.Nil, ErrNotStaff
	}
	return c.Principal.ID, nil
}

// New is what a tenant admin enters for a new key.
type New struct {
	Name   string
	Scopes []string
}

// Create makes a key and answers it with its secret, the only time the secret is shown.
func (s *Service) Create(ctx context.Context, c auth.Caller, in New) (*Issued, error) {
	by, err := staffID(c)
	if err != nil {
		return nil, err
	}
	var errs apperr.List
	name, err := ParseName(in.Name)
	apperr.Collect(&errs, err)
	scopes, err := ParseScopes(in.Scopes, s.Available(c))
	apperr.Collect(&errs, err)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	secret, prefix, hash := NewSecret()
	cr := Credential{ID: uuid.Must(uuid.NewV7()), Name: name, Scopes: scopes, Prefix: prefix, CreatedBy: &by,
		CreatedAt: s.clock.Now().UTC(), CreatedByName: c.Principal.Name()}
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := insert(ctx, tx, c.Tenant.ID, &cr, hash); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionCreated, ObjectKind: "machine_credential",
			ObjectID: cr.ID.String(), Details: map[string]any{"name": cr.Name, "scopes": cr.Scopes, "prefix": cr.Prefix}})
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return &Issued{Credential: cr, Secret: secret}, nil
}

// List answers the city's keys, live ones first, with who created them; never secrets.
func (s *Service) List(ctx context.Context, c auth.Caller) ([]Credential, error) {
	if _, err := staffID(c); err != nil {
		return nil, err
	}
	var out []Credential
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if out, err = list(ctx, tx, c.Tenant.ID); err != nil {
			return err
		}
		staff, err := account.StaffAccounts(ctx, tx, c.Tenant.ID)
		if err != nil {
			return err
		}
		names := make(map[uuid.UUID]string, len(staff))
		for _, a := range staff {
			names[a.ID] = a.Name()
		}
		for i := range out {
			if out[i].CreatedBy != nil {
				out[i].CreatedByName = names[*out[i].CreatedBy]
			}
		}
		return nil
	})
	return out, database.Classify(err)
}

// change runs fn on a live key of the caller's city, locked, and audits action.
func (s *Service) change(ctx context.Context, c auth.Caller, id uuid.UUID, action string, fn func(tx bun.Tx, cr *Credential, by uuid.UUID, now time.Time) error) (*Credential, error) {
	by, err := staffID(c)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	var cr *Credential
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if cr, err = byID(ctx, tx, c.Tenant.ID, id, true); err != nil {
			return err
		}
		if cr == nil {
			return ErrNotFound
		}
		if cr.Revoked {
			return ErrRevoked
		}
		if err := fn(tx, cr, by, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: action, ObjectKind: "machine_credential",
			ObjectID: cr.ID.String(), Details: map[string]any{"name": cr.Name, "prefix": cr.Prefix}})
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return cr, nil
}

// Rotate gives a live key a new secret, answered once; the old one stops working at once.
func (s *Service) Rotate(ctx context.Context, c auth.Caller, id uuid.UUID) (*Issued, error) {
	var secret string
	cr, err := s.change(ctx, c, id, ActionRotated, func(tx bun.Tx, cr *Credential, _ uuid.UUID, now time.Time) error {
		var prefix string
		var hash []byte
		secret, prefix, hash = NewSecret()
		if err := setSecret(ctx, tx, c.Tenant.ID, cr.ID, prefix, hash, now); err != nil {
			return err
		}
		cr.Prefix, cr.RotatedAt = prefix, &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Issued{Credential: *cr, Secret: secret}, nil
}

// Revoke ends a key for good; it stays in the list as revoked.
func (s *Service) Revoke(ctx context.Context, c auth.Caller, id uuid.UUID) (*Credential, error) {
	return s.change(ctx, c, id, ActionRevoked, func(tx bun.Tx, cr *Credential, by uuid.UUID, now time.Time) error {
		if err := revoke(ctx, tx, c.Tenant.ID, cr.ID, &by, now); err != nil {
			return err
		}
		cr.RevokedAt, cr.Revoked = &now, true
		return nil
	})
}
