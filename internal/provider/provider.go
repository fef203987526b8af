// Package provider is the provider portal (Trägerportal): provider admins keep all
// facilities of their provider, a facility lead their own, the Fachberatung the
// Kindertagespflege of its district — profile texts, concepts, photos, contact, opening
// hours, closures, groups with their places over time — and everyone in scope sees the
// occupancy month by month. Facilities come in and go out as CSV for onboarding.
//
// Every method runs in the tenant's transaction and reaches only the facilities of the
// caller's scope (authz.FacilityScope, in the SQL); unknown ids, other cities' ids and
// facilities outside the scope are all "not found". Every change is audited in its
// transaction, and every change of places calls availability.Refresh in it, so the search
// shows it with the next request.
package provider

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/storage"
)

// ErrNotFound answers unknown ids, other cities' ids and ids outside the caller's scope
// alike.
var ErrNotFound = apperr.NotFound("not_found")

// Audit actions of the provider portal.
const (
	ActionProfileChanged = "facility.profile_changed"
	ActionPhotoAdded     = "facility.photo_added"
	ActionPhotoRemoved   = "facility.photo_removed"
	ActionClosureAdded   = "facility.closure_added"
	ActionClosureRemoved = "facility.closure_removed"
	ActionGroupCreated   = "facility.group_created"
	ActionGroupChanged   = "facility.group_changed"
	ActionGroupRemoved   = "facility.group_removed"
	ActionImported       = "facility.imported"
	ActionCreated        = "facility.created"
	ActionExported       = "facility.exported"
)

// Service runs the provider portal.
type Service struct {
	db    *bun.DB
	clock clock.Clock
	files storage.Storage
	// decoding is one token: photos are decoded one at a time, because a large picture
	// takes a hundred megabytes while it is scaled.
	decoding chan struct{}
}

// NewService returns the provider portal's service; files keeps the uploaded photos.
func NewService(db *bun.DB, c clock.Clock, files storage.Storage) *Service {
	return &Service{db: db, clock: c, files: files, decoding: make(chan struct{}, 1)}
}

// Today is the current day in Germany.
func (s *Service) Today() date.Date { return date.Today(s.clock) }

// Ref is a facility in the caller's scope with what the write paths check against.
type Ref struct {
	ID           uuid.UUID `bun:"id" json:"id"`
	ProviderID   uuid.UUID `bun:"provider_id" json:"provider_id"`
	Provider     string    `bun:"provider" json:"provider"`
	Name         string    `bun:"name" json:"name"`
	Type         string    `bun:"type" json:"type"`
	City         string    `bun:"city" json:"city"`
	District     string    `bun:"district_key" json:"district,omitempty"`
	AgeMinMonths int       `bun:"age_min_months" json:"age_min_months"`
	AgeMaxMonths int       `bun:"age_max_months" json:"age_max_months"`
}

const refColumns = `f.id, f.provider_id, p.name AS provider, f.name, f.type, f.city, coalesce(f.district_key, '') AS district_key,
	f.age_min_months, f.age_max_months`

// InScope reads facility id when the caller's roles reach it; with lock, the row is held
// against concurrent writers until tx ends (FOR NO KEY UPDATE, as availability.Refresh
// takes it, so the two never deadlock). Anything else is ErrNotFound.
func InScope(ctx context.Context, tx bun.Tx, c auth.Caller, id uuid.UUID, lock bool) (*Ref, error) {
	scope, args := authz.FacilityScope(c.Principal, "f")
	return ref(ctx, tx, c.Tenant.ID, id, lock, scope, args)
}

// RefOf reads facility id whoever asks: for the portal's own steps on a family's behalf
// (a contract entered when the family accepts an offer).
func RefOf(ctx context.Context, tx bun.Tx, tenantID, id uuid.UUID) (*Ref, error) {
	return ref(ctx, tx, tenantID, id, false, "true", nil)
}

func ref(ctx context.Context, tx bun.Tx, tenantID, id uuid.UUID, lock bool, scope string, args []any) (*Ref, error) {
	q := `SELECT ` + refColumns + ` FROM facility f JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id
		WHERE f.tenant_id = ? AND f.id = ? AND ` + scope
	if lock {
		q += ` FOR NO KEY UPDATE OF f`
	}
	var r Ref
	err := tx.NewRaw(q, append([]any{tenantID, id}, args...)...).Scan(ctx, &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("provider: facility: %w", err)
	}
	return &r, nil
}

// Visible is ErrNotFound unless facility id is in the caller's scope: an API answers a
// foreign id with 404 before it looks at the body.
func (s *Service) Visible(ctx context.Context, c auth.Caller, id uuid.UUID) error {
	return s.read(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		_, err := InScope(ctx, tx, c, id, false)
		return err
	})
}

// Facilities lists the facilities of the caller's scope, by name.
func (s *Service) Facilities(ctx context.Context, c auth.Caller) ([]Ref, error) {
	var out []Ref
	err := s.read(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		return ScopedFacilities(ctx, tx, c, &out)
	})
	return out, err
}

// ScopedFacilities reads the facilities of the caller's scope into out, by name.
func ScopedFacilities(ctx context.Context, tx bun.Tx, c auth.Caller, out *[]Ref) error {
	scope, args := authz.FacilityScope(c.Principal, "f")
	return tx.NewRaw(`SELECT `+refColumns+` FROM facility f JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id
		WHERE f.tenant_id = ? AND `+scope+` ORDER BY f.name, f.id LIMIT 5000`, append([]any{c.Tenant.ID}, args...)...).Scan(ctx, out)
}

// read runs fn in the caller's tenant transaction.
func (s *Service) read(ctx context.Context, c auth.Caller, fn func(ctx context.Context, tx bun.Tx) error) error {
	return database.Classify(database.InTenantTx(ctx, s.db, c.Tenant.ID, fn))
}

// write runs fn for facility id in the caller's tenant transaction, with the facility
// locked; fn's changes and its audit entry commit together or not at all.
func (s *Service) write(ctx context.Context, c auth.Caller, id uuid.UUID, fn func(ctx context.Context, tx bun.Tx, f *Ref) error) error {
	return s.read(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		f, err := InScope(ctx, tx, c, id, true)
		if err != nil {
			return err
		}
		return fn(ctx, tx, f)
	})
}

// record writes an audit entry about facility f.
func record(ctx context.Context, tx bun.Tx, c auth.Caller, f *Ref, action string, details map[string]any) error {
	return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: action, ObjectKind: "facility", ObjectID: f.ID.String(), Details: details})
}
