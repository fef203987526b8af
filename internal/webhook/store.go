package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// The SQL of the webhook tables. Every statement names the tenant; the callers run them
// in the tenant's transaction (row-level security is the second line).

// Endpoint is one registered endpoint as the list shows it: never its secret.
type Endpoint struct {
	ID            uuid.UUID  `bun:"id" json:"id"`
	URL           string     `bun:"url" json:"url"`
	Description   string     `bun:"description" json:"description"`
	Events        []string   `bun:"events,array" json:"events"`
	Enabled       bool       `bun:"enabled" json:"enabled"`
	CreatedAt     time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at" json:"updated_at"`
	RotatedAt     *time.Time `bun:"rotated_at" json:"rotated_at,omitempty"`
	PreviousUntil *time.Time `bun:"previous_until" json:"previous_secret_until,omitempty"`
}

// sealed is an endpoint's secrets as stored.
type sealed struct {
	Secret        []byte     `bun:"secret_sealed"`
	Previous      []byte     `bun:"previous_sealed"`
	PreviousUntil *time.Time `bun:"previous_until"`
}

const endpointColumns = `id, url, description, events, enabled, created_at, updated_at, rotated_at, previous_until`

func insertEndpoint(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, e *Endpoint, secret []byte) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoint (tenant_id, id, url, description, events, enabled, secret_sealed, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, e.ID, e.URL, e.Description, pgdialect.Array(e.Events), e.Enabled, secret, e.CreatedAt, e.CreatedAt)
	if err != nil {
		return fmt.Errorf("webhook: insert endpoint: %w", err)
	}
	return nil
}

func listEndpoints(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) ([]Endpoint, error) {
	out := []Endpoint{}
	if err := tx.NewRaw(`SELECT `+endpointColumns+` FROM webhook_endpoint WHERE tenant_id = ? ORDER BY created_at, id`, tenantID).
		Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("webhook: list endpoints: %w", err)
	}
	return out, nil
}

// endpointByID reads one endpoint (locked when lock is set); nil when unknown.
func endpointByID(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, lock bool) (*Endpoint, error) {
	q := `SELECT ` + endpointColumns + ` FROM webhook_endpoint WHERE tenant_id = ? AND id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var e Endpoint
	err := tx.NewRaw(q, tenantID, id).Scan(ctx, &e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: read endpoint: %w", err)
	}
	return &e, nil
}

func updateEndpoint(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, e *Endpoint) error {
	_, err := tx.ExecContext(ctx, `UPDATE webhook_endpoint SET url = ?, description = ?, events = ?, enabled = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, e.URL, e.Description, pgdialect.Array(e.Events), e.Enabled, e.UpdatedAt, tenantID, e.ID)
	if err != nil {
		return fmt.Errorf("webhook: update endpoint: %w", err)
	}
	return nil
}

// setSecret stores a new secret; previous (may be nil) keeps signing until until.
func setSecret(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, secret, previous []byte, until *time.Time, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE webhook_endpoint SET secret_sealed = ?, previous_sealed = ?, previous_until = ?, rotated_at = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, secret, previous, until, now, now, tenantID, id)
	if err != nil {
		return fmt.Errorf("webhook: rotate: %w", err)
	}
	return nil
}

func secretsOf(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) (*sealed, error) {
	var s sealed
	if err := tx.NewRaw(`SELECT secret_sealed, previous_sealed, previous_until FROM webhook_endpoint WHERE tenant_id = ? AND id = ?`,
		tenantID, id).Scan(ctx, &s); err != nil {
		return nil, fmt.Errorf("webhook: secrets: %w", err)
	}
	return &s, nil
}

// subscribed lists the enabled endpoints of tenantID that want events of type typ.
func subscribed(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, typ string) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := tx.NewRaw(`SELECT id FROM webhook_endpoint WHERE tenant_id = ? AND enabled AND ? = ANY(events) ORDER BY id`,
		tenantID, typ).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("webhook: subscribed: %w", err)
	}
	return ids, nil
}

func insertEvent(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, p *Payload, objectID uuid.UUID, body []byte) error {
	var obj *uuid.UUID
	if objectID != uuid.Nil {
		obj = &objectID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_event (tenant_id, id, type, object_id, occurred_at, body) VALUES (?, ?, ?, ?, ?, ?)`,
		tenantID, p.ID, p.Type, obj, p.OccurredAt, string(body))
	if err != nil {
		return fmt.Errorf("webhook: insert event: %w", err)
	}
	return nil
}

func insertDelivery(ctx context.Context, tx bun.IDB, tenantID, id, endpointID, eventID uuid.UUID, replayOf *uuid.UUID, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_delivery (tenant_id, id, endpoint_id, event_id, status, next_attempt_at, replay_of, created_at)
		VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`, tenantID, id, endpointID, eventID, now, replayOf, now)
	if err != nil {
		return fmt.Errorf("webhook: insert delivery: %w", err)
	}
	return nil
}

// Delivery is one event's delivery to one endpoint, with its attempts.
type Delivery struct {
	ID            uuid.UUID  `bun:"id" json:"id"`
	EndpointID    uuid.UUID  `bun:"endpoint_id" json:"endpoint_id"`
	EventID       uuid.UUID  `bun:"event_id" json:"event_id"`
	EventType     string     `bun:"event_type" json:"event_type"`
	Status        string     `bun:"status" json:"status"` // pending | delivered | failed
	Attempts      int        `bun:"attempts" json:"attempts"`
	NextAttemptAt *time.Time `bun:"next_attempt_at" json:"next_attempt_at,omitempty"`
	LastStatus    *int       `bun:"last_status" json:"last_status_code,omitempty"`
	LastError     string     `bun:"last_error" json:"last_error,omitempty"`
	DeliveredAt   *time.Time `bun:"delivered_at" json:"delivered_at,omitempty"`
	ReplayOf      *uuid.UUID `bun:"replay_of" json:"replay_of,omitempty"`
	CreatedAt     time.Time  `bun:"created_at" json:"created_at"`
	Log           []Attempt  `bun:"-" json:"attempt_log"`
}

// Attempt is one POST of a delivery.
type Attempt struct {
	DeliveryID uuid.UUID `bun:"delivery_id" json:"-"`
	Attempt    int       `bun:"attempt" json:"attempt"`
	At         time.Time `bun:"at" json:"at"`
	StatusCode *int      `bun:"status_code" json:"status_code,omitempty"`
	DurationMS int       `bun:"duration_ms" json:"duration_ms"`
	Error      string    `bun:"error" json:"error,omitempty"`
}

const deliveryColumns = `d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error,
	d.delivered_at, d.replay_of, d.created_at`

// deliveries lists the latest limit deliveries of an endpoint, newest first, with their attempts.
func deliveries(ctx context.Context, tx bun.IDB, tenantID, endpointID uuid.UUID, limit int) ([]Delivery, error) {
	out := []Delivery{}
	if err := tx.NewRaw(`SELECT `+deliveryColumns+` FROM webhook_delivery d
		JOIN webhook_event e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
		WHERE d.tenant_id = ? AND d.endpoint_id = ? ORDER BY d.created_at DESC, d.id DESC LIMIT ?`, tenantID, endpointID, limit).
		Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("webhook: deliveries: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(out))
	at := map[uuid.UUID]int{}
	for i, d := range out {
		ids[i], at[d.ID] = d.ID, i
		out[i].Log = []Attempt{}
	}
	var attempts []Attempt
	if err := tx.NewRaw(`SELECT delivery_id, attempt, at, status_code, duration_ms, error FROM webhook_attempt
		WHERE tenant_id = ? AND delivery_id = ANY(?) ORDER BY delivery_id, attempt`, tenantID, pgdialect.Array(ids)).Scan(ctx, &attempts); err != nil {
		return nil, fmt.Errorf("webhook: attempts: %w", err)
	}
	for _, a := range attempts {
		out[at[a.DeliveryID]].Log = append(out[at[a.DeliveryID]].Log, a)
	}
	return out, nil
}

// job is what the worker needs for one attempt of a delivery.
type job struct {
	EndpointID uuid.UUID `bun:"endpoint_id"`
	EventID    uuid.UUID `bun:"event_id"`
	EventType  string    `bun:"event_type"`
	Status     string    `bun:"status"`
	Attempts   int       `bun:"attempts"`
	URL        string    `bun:"url"`
	Enabled    bool      `bun:"enabled"`
	Body       string    `bun:"body"`
}

// jobOf reads delivery id for an attempt, locked; nil when unknown.
func jobOf(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) (*job, error) {
	var j job
	err := tx.NewRaw(`SELECT d.endpoint_id, d.event_id, e.type AS event_type, d.status, d.attempts, w.url, w.enabled, e.body
		FROM webhook_delivery d
		JOIN webhook_event e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
		JOIN webhook_endpoint w ON w.tenant_id = d.tenant_id AND w.id = d.endpoint_id
		WHERE d.tenant_id = ? AND d.id = ? FOR UPDATE OF d`, tenantID, id).Scan(ctx, &j)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: read delivery: %w", err)
	}
	return &j, nil
}

// deliveryOf reads one delivery of an endpoint; nil when unknown.
func deliveryOf(ctx context.Context, tx bun.IDB, tenantID, endpointID, id uuid.UUID) (*Delivery, error) {
	var d Delivery
	err := tx.NewRaw(`SELECT `+deliveryColumns+` FROM webhook_delivery d
		JOIN webhook_event e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
		WHERE d.tenant_id = ? AND d.endpoint_id = ? AND d.id = ?`, tenantID, endpointID, id).Scan(ctx, &d)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: read delivery: %w", err)
	}
	return &d, nil
}

// recordAttempt logs attempt n of delivery id and moves the delivery: delivered, failed,
// or pending until next. It answers false when attempt n was recorded already (a task
// run twice), and changes nothing then.
func recordAttempt(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, a Attempt, status string, next *time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempt (tenant_id, delivery_id, attempt, at, status_code, duration_ms, error)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, tenantID, id, a.Attempt, a.At, a.StatusCode, a.DurationMS, a.Error)
	if err != nil {
		return false, fmt.Errorf("webhook: log attempt: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	var delivered *time.Time
	if status == "delivered" {
		delivered = &a.At
	}
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_delivery SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?, delivered_at = ?
		WHERE tenant_id = ? AND id = ?`, status, a.Attempt, next, a.StatusCode, a.Error, delivered, tenantID, id); err != nil {
		return false, fmt.Errorf("webhook: update delivery: %w", err)
	}
	return true, nil
}

// failDelivery ends a pending delivery without an attempt (its endpoint was disabled).
func failDelivery(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, reason string) error {
	_, err := tx.ExecContext(ctx, `UPDATE webhook_delivery SET status = 'failed', next_attempt_at = NULL, last_error = ?
		WHERE tenant_id = ? AND id = ? AND status = 'pending'`, reason, tenantID, id)
	if err != nil {
		return fmt.Errorf("webhook: fail delivery: %w", err)
	}
	return nil
}
