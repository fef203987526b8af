package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Registry is the running portal's view of all tenants, reloaded from the database in the
// background. A tenant whose stored rules no longer validate keeps its last good rules.
type Registry struct {
	store *Store
	log   *slog.Logger
	cur   atomic.Pointer[snapshot]
}

type snapshot struct {
	bySlug map[string]*Tenant
	byID   map[uuid.UUID]*Tenant
	list   []*Tenant // by slug
}

// NewRegistry returns an empty registry; call Reload or Run to fill it.
func NewRegistry(store *Store, log *slog.Logger) *Registry {
	return &Registry{store: store, log: log}
}

// Ready tells whether tenants were loaded at least once.
func (r *Registry) Ready() bool { return r.cur.Load() != nil }

// BySlug finds a tenant by its subdomain.
func (r *Registry) BySlug(slug string) (*Tenant, bool) {
	s := r.cur.Load()
	if s == nil {
		return nil, false
	}
	t, ok := s.bySlug[slug]
	return t, ok
}

// ByID finds a tenant by id.
func (r *Registry) ByID(id uuid.UUID) (*Tenant, bool) {
	s := r.cur.Load()
	if s == nil {
		return nil, false
	}
	t, ok := s.byID[id]
	return t, ok
}

// Lookup finds a tenant by id for background jobs: a tenant created or changed after
// the last reload is read fresh once.
func (r *Registry) Lookup(ctx context.Context, id uuid.UUID) (*Tenant, error) {
	if t, ok := r.ByID(id); ok && t.Rules != nil {
		return t, nil
	}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	if t, ok := r.ByID(id); ok && t.Rules != nil {
		return t, nil
	}
	return nil, ErrUnknownTenant
}

// ErrUnknownTenant: no tenant has this id.
var ErrUnknownTenant = errors.New("tenant: unknown id")

// All lists every tenant, sorted by slug.
func (r *Registry) All() []*Tenant {
	s := r.cur.Load()
	if s == nil {
		return nil
	}
	return s.list
}

// Reload reads all tenants and publishes them at once. If the database is unreachable
// the previous snapshot stays in place.
func (r *Registry) Reload(ctx context.Context) error {
	rows, err := r.store.loadAll(ctx)
	if err != nil {
		return err
	}
	prev := r.cur.Load()
	next := &snapshot{bySlug: map[string]*Tenant{}, byID: map[uuid.UUID]*Tenant{}}
	for _, row := range rows {
		t := &Tenant{ID: row.ID, Slug: row.Slug, Name: row.Name, Status: row.Status, StatusNote: row.StatusNote, RulesVersion: row.Version}
		if old := prev.get(row.ID); old != nil && old.RulesVersion == row.Version {
			t.Rules = old.Rules // unchanged: skip decoding and validating again
		} else if rules, err := decodeStored(row.Rules); err != nil {
			if old != nil && old.Rules != nil {
				r.log.Error("tenant rules in the database are invalid; keeping the last good version",
					"tenant", row.Slug, "version", row.Version, "kept_version", old.RulesVersion, "err", err)
				t.Rules, t.RulesVersion = old.Rules, old.RulesVersion
			} else {
				r.log.Error("tenant rules in the database are invalid and no good version is loaded; tenant unavailable",
					"tenant", row.Slug, "version", row.Version, "err", err)
			}
		} else {
			t.Rules = rules
			if old != nil {
				r.log.Info("tenant rules changed", "tenant", row.Slug, "version", row.Version)
			}
		}
		next.bySlug[t.Slug] = t
		next.byID[t.ID] = t
		next.list = append(next.list, t)
	}
	r.cur.Store(next)
	return nil
}

func (s *snapshot) get(id uuid.UUID) *Tenant {
	if s == nil {
		return nil
	}
	return s.byID[id]
}

func decodeStored(raw []byte) (*Rules, error) {
	if raw == nil {
		return nil, errNoRules
	}
	var rules Rules
	if err := json.Unmarshal(raw, &rules); err != nil {
		return nil, err
	}
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	return &rules, nil
}

var errNoRules = errors.New("no rules stored")

// Run reloads every interval until ctx ends, retrying sooner while nothing is loaded
// (the database was down at start).
func (r *Registry) Run(ctx context.Context, interval time.Duration) {
	for {
		wait := interval
		if err := r.Reload(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("tenant reload failed; serving the last loaded tenants", "err", err)
			if !r.Ready() {
				wait = time.Second
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
