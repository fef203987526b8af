package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/outbox"
)

// TaskDeliver is the worker's job: one attempt of one delivery.
const TaskDeliver = "webhook:deliver"

// task is TaskDeliver's payload.
type task struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	DeliveryID uuid.UUID `json:"delivery_id"`
	Attempt    int       `json:"attempt"`
}

// enqueue records attempt n of delivery id in the outbox of tx, to run at (zero: now).
// The outbox task id is derived from both, so a task recorded twice runs once.
func enqueue(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, n int, at time.Time) error {
	return outbox.Add(ctx, tx, outbox.Message{Type: TaskDeliver, Payload: task{tenantID, id, n}, TenantID: &tenantID,
		ProcessAt: at, MaxRetry: 3, TaskID: uuid.NewSHA1(id, fmt.Appendf(nil, "attempt-%d", n))})
}

// Emit records ev for every enabled endpoint of tenantID subscribed to its type, in the
// caller's transaction: one event (id, body frozen) and one delivery per endpoint, each
// handed to the worker through the outbox after commit. Nothing is written when no
// endpoint wants it; an empty Type is no event.
func Emit(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ev Event) error {
	if ev.Type == "" {
		return nil
	}
	endpoints, err := subscribed(ctx, tx, tenantID, ev.Type)
	if err != nil || len(endpoints) == 0 {
		return err
	}
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	p := Payload{ID: uuid.Must(uuid.NewV7()), Type: ev.Type, Version: PayloadVersion, OccurredAt: at.UTC().Truncate(time.Millisecond),
		Tenant: tenantID, Data: data}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("webhook: marshal %s: %w", ev.Type, err)
	}
	if err := insertEvent(ctx, tx, tenantID, &p, ev.ObjectID, body); err != nil {
		return err
	}
	for _, e := range endpoints {
		id := uuid.Must(uuid.NewV7())
		if err := insertDelivery(ctx, tx, tenantID, id, e, p.ID, nil, at); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, tenantID, id, 1, time.Time{}); err != nil {
			return err
		}
	}
	return nil
}

// Resolver finds a host's addresses (net.DefaultResolver).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Sealer keeps secrets at rest (auth.Keys).
type Sealer interface {
	Seal(plain []byte, context string) []byte
	Open(sealed []byte, context string) ([]byte, error)
}

// Deps are what the service needs.
type Deps struct {
	DB    bun.IDB
	Clock clock.Clock
	Keys  Sealer
	// AllowLocal accepts http and endpoints on loopback and private addresses
	// (WEBHOOK_ALLOW_LOCAL: tests and local receivers, never production).
	AllowLocal bool
	Resolver   Resolver // nil: net.DefaultResolver
}

// Service manages a city's endpoints and their delivery log.
type Service struct {
	Deps
}

// NewService returns the webhook service.
func NewService(d Deps) *Service {
	if d.Resolver == nil {
		d.Resolver = net.DefaultResolver
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	return &Service{Deps: d}
}

// Audit actions.
const (
	ActionCreated  = "webhook.created"
	ActionUpdated  = "webhook.updated"
	ActionRotated  = "webhook.rotated"
	ActionReplayed = "webhook.replayed"
)

func staffID(c auth.Caller) (uuid.UUID, error) {
	if c.Tenant == nil || c.Principal == nil || c.Principal.Kind != auth.KindStaff || !c.Principal.MFADone {
		return uuid.Nil, ErrNotStaff
	}
	return c.Principal.ID, nil
}

// CheckURL parses raw and resolves its host: every address must be public (unless
// AllowLocal). The delivery checks again on every connection.
func (s *Service) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	u, err := ParseURL(raw, s.AllowLocal)
	if err != nil {
		return nil, err
	}
	if s.AllowLocal {
		return u, nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = s.Resolver.LookupNetIP(lctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return nil, apperr.Invalid("url", "webhook_url_unresolvable", map[string]any{"host": host})
		}
	}
	for _, a := range addrs {
		if !Public(a) {
			return nil, apperr.Invalid("url", "webhook_url_not_public", map[string]any{"host": host, "address": a.Unmap().String()})
		}
	}
	return u, nil
}

func parseDescription(raw string) (string, error) {
	s := strings.Join(strings.Fields(norm.NFC.String(raw)), " ")
	if len([]rune(s)) > maxDescription {
		return "", apperr.Invalid("description", "webhook_description_too_long", map[string]any{"max": maxDescription})
	}
	for _, r := range s {
		if r != ' ' && (!unicode.IsPrint(r) || unicode.Is(unicode.Bidi_Control, r)) {
			return "", apperr.Invalid("description", "webhook_description_invalid", nil)
		}
	}
	return s, nil
}

// newSecret is a fresh signing secret: whsec_ and 43 characters (256 random bits).
func newSecret() string {
	raw, _ := auth.NewToken()
	return "whsec_" + raw
}

func sealContext(id uuid.UUID) string { return "webhook-secret:" + id.String() }

// New is what a tenant admin enters for an endpoint.
type New struct {
	URL         string
	Events      []string
	Description string
}

// Issued is an endpoint with its secret, answered once: at creation and rotation.
type Issued struct {
	Endpoint
	Secret string `json:"secret"`
}

// Create registers an endpoint (enabled) and answers it with its secret, the only time
// the secret is shown.
func (s *Service) Create(ctx context.Context, c auth.Caller, in New) (*Issued, error) {
	if _, err := staffID(c); err != nil {
		return nil, err
	}
	var errs apperr.List
	u, err := s.CheckURL(ctx, in.URL)
	apperr.Collect(&errs, err)
	events, err := ParseTypes(in.Events)
	apperr.Collect(&errs, err)
	desc, err := parseDescription(in.Description)
	apperr.Collect(&errs, err)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	now := s.Clock.Now().UTC()
	e := Endpoint{ID: uuid.Must(uuid.NewV7()), URL: u.String(), Description: desc, Events: events, Enabled: true, CreatedAt: now, UpdatedAt: now}
	secret := newSecret()
	err = database.InTenantTx(ctx, s.DB, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := insertEndpoint(ctx, tx, c.Tenant.ID, &e, s.Keys.Seal([]byte(secret), sealContext(e.ID))); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionCreated, ObjectKind: "webhook_endpoint",
			ObjectID: e.ID.String(), Details: map[string]any{"url": e.URL, "events": e.Events}})
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return &Issued{Endpoint: e, Secret: secret}, nil
}

// List answers the city's endpoints.
func (s *Service) List(ctx context.Context, c auth.Caller) ([]Endpoint, error) {
	if _, err := staffID(c); err != nil {
		return nil, err
	}
	var out []Endpoint
	err := database.InTenantTx(ctx, s.DB, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = listEndpoints(ctx, tx, c.Tenant.ID)
		return err
	})
	return out, database.Classify(err)
}

// Get answers one endpoint of the city with its latest deliveries.
func (s *Service) Get(ctx context.Context, c auth.Caller, id uuid.UUID, limit int) (*Endpoint, []Delivery, error) {
	if _, err := staffID(c); err != nil {
		return nil, nil, err
	}
	var e *Endpoint
	var ds []Delivery
	err := database.InTenantTx(ctx, s.DB, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if e, err = endpointByID(ctx, tx, c.Tenant.ID, id, false); err != nil {
			return err
		}
		if e == nil {
			return ErrNotFound
		}
		ds, err = deliveries(ctx, tx, c.Tenant.ID, id, limit)
		return err
	})
	if err != nil {
		return nil, nil, database.Classify(err)
	}
	return e, ds, nil
}

// Change is a partial update of an endpoint: nil fields stay as they are.
type Change struct {
	URL         *string
	Events      []string // nil: unchanged
	Description *string
	Enabled     *bool
}

// Update changes an endpoint (a new URL is checked like a new endpoint's).
func (s *Service) Update(ctx context.Context, c auth.Caller, id uuid.UUID, ch Change) (*Endpoint, error) {
	if _, err := staffID(c); err != nil {
		return nil, err
	}
	var errs apperr.List
	var u *url.URL
	var err error
	if ch.URL != nil {
		u, err = s.CheckURL(ctx, *ch.URL)
		apperr.Collect(&errs, err)
	}
	var events []string
	if ch.Events != nil {
		events, err = ParseTypes(ch.Events)
		apperr.Collect(&errs, err)
	}
	var desc string
	if ch.Description != nil {
		desc, err = parseDescription(*ch.Description)
		apperr.Collect(&errs, err)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var e *Endpoint
	err = database.InTenantTx(ctx, s.DB, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if e, err = endpointByID(ctx, tx, c.Tenant.ID, id, true); err != nil {
			return err
		}
		if e == nil {
			return ErrNotFound
		}
		if u != nil {
			e.URL = u.String()
		}
		if events != nil {
			e.Events = events
		}
		if ch.Description != nil {
			e.Description = desc
		}
		if ch.Enabled != nil {
			e.Enabled = *ch.Enabled
		}
		e.UpdatedAt = s.Clock.Now().UTC()
		if err := updateEndpoint(ctx, tx, c.Tenant.ID, e); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionUpdated, ObjectKind: "webhook_endpoint",
			ObjectID: e.ID.String(), Details: map[string]any{"url": e.URL, "events": e.Events, "enabled": e.Enabled}})
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return e, nil
}

// Rotate gives an endpoint a new secret, answered once. With grace the previous secret
// signs as well (a second v1 in the signature header) for GracePeriod, so the receiver
// can switch without losing an event; without, the old secret stops at once.
func (s *Service) Rotate(ctx context.Context, c auth.Caller, id uuid.UUID, grace bool) (*Issued, error) {
	if _, err := staffID(c); err != nil {
		return nil, err
	}
	secret := newSecret()
	now := s.Clock.Now().UTC()
	var e *Endpoint
	err := database.InTenantTx(ctx, s.DB, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if e, err = endpointByID(ctx, tx, c.Tenant.ID, id, true); err != nil {
			return err
		}
		if e == nil {
			return ErrNotFound
		}
		var previous []byte
		var until *time.Time
		if grace {
			old, err := secretsOf(ctx, tx, c.Tenant.ID, id)
			if err != nil {
				return err
			}
			t := now.Add(GracePeriod)
			previous, until = old.Secret, &t
		}
		if err := setSecret(ctx, tx, c.Tenant.ID, id, s.Keys.Seal([]byte(secret), sealContext(id)), previous, until, now); err != nil {
			return err
		}
		e.RotatedAt, e.PreviousUntil, e.UpdatedAt = &now, until, now
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionRotated, ObjectKind: "webhook_endpoint",
			ObjectID: e.ID.String(), Details: map[string]any{"grace": grace}})
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return &Issued{Endpoint: *e, Secret: secret}, nil
}

// Replay sends delivery deliveryID of endpoint id again as a new delivery of the same
// event (same event id: the receiver deduplicates) and answers it.
func (s *Service) Replay(ctx context.Context, c auth.Caller, id, deliveryID uuid.UUID) (*Delivery, error) {
	if _, err := staffID(c); err != nil {
		return nil, err
	}
	now := s.Clock.Now().UTC()
	var out *Delivery
	err := database.InTenantTx(ctx, s.DB, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		e, err := endpointByID(ctx, tx, c.Tenant.ID, id, false)
		if err != nil {
			return err
		}
		if e == nil {
			return ErrNotFound
		}
		d, err := deliveryOf(ctx, tx, c.Tenant.ID, id, deliveryID)
		if err != nil {
			return err
		}
		if d == nil {
			return ErrNotFound
		}
		if !e.Enabled {
			return apperr.Conflict("webhook_endpoint_disabled")
		}
		nid := uuid.Must(uuid.NewV7())
		if err := insertDelivery(ctx, tx, c.Tenant.ID, nid, id, d.EventID, &d.ID, now); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, c.Tenant.ID, nid, 1, time.Time{}); err != nil {
			return err
		}
		out = &Delivery{ID: nid, EndpointID: id, EventID: d.EventID, EventType: d.EventType, Status: "pending", ReplayOf: &d.ID,
			CreatedAt: now, NextAttemptAt: &now, Log: []Attempt{}}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionReplayed, ObjectKind: "webhook_endpoint",
			ObjectID: id.String(), Details: map[string]any{"delivery_id": d.ID, "event_id": d.EventID}})
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return out, nil
}
