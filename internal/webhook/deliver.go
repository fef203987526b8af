package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
)

// DeliverConfig tunes the worker's deliveries; zero fields take the defaults.
type DeliverConfig struct {
	Timeout     time.Duration // of one POST, connection to answer; default 10 s
	Backoff     time.Duration // wait after the first failure, tripled after each; default 1 min
	MaxAttempts int           // default MaxAttempts
	AllowLocal  bool          // WEBHOOK_ALLOW_LOCAL: connect to loopback and private addresses
}

// Deliverer runs TaskDeliver: one signed POST of a delivery, logged; on failure the next
// attempt is scheduled through the outbox until MaxAttempts, then the delivery is failed.
type Deliverer struct {
	db     bun.IDB
	keys   Sealer
	clock  clock.Clock
	log    *slog.Logger
	cfg    DeliverConfig
	client *http.Client
}

// errNotPublic is the dialer's refusal of an address outside the public internet.
var errNotPublic = errors.New("address is not public")

// NewDeliverer returns the delivery job.
func NewDeliverer(db bun.IDB, keys Sealer, clk clock.Clock, log *slog.Logger, cfg DeliverConfig) *Deliverer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = MaxAttempts
	}
	if clk == nil {
		clk = clock.System{}
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowLocal {
		// Checked on the address actually dialled, after resolution: a DNS answer that
		// changed since the registration (rebinding) cannot reach inside.
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			a, err := netip.ParseAddr(host)
			if err != nil || !Public(a) {
				return fmt.Errorf("%w: %s", errNotPublic, host)
			}
			return nil
		}
	}
	transport := &http.Transport{
		Proxy:                  nil, // never through an environment proxy: the check above must see the real peer
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	client := &http.Client{Transport: transport, Timeout: cfg.Timeout,
		// A redirect is the endpoint's answer, never followed: it could point anywhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Deliverer{db: db, keys: keys, clock: clk, log: log, cfg: cfg, client: client}
}

// Handle is the asynq handler of TaskDeliver.
func (d *Deliverer) Handle(ctx context.Context, t *asynq.Task) error {
	var p task
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.TenantID == uuid.Nil || p.Attempt < 1 {
		return fmt.Errorf("webhook: bad task: %w", asynq.SkipRetry)
	}
	return d.Deliver(ctx, p.TenantID, p.DeliveryID, p.Attempt)
}

// Deliver makes attempt n of delivery id of tenantID. An attempt made already (a task
// run twice) or a delivery no longer pending is skipped.
func (d *Deliverer) Deliver(ctx context.Context, tenantID, id uuid.UUID, n int) error {
	now := d.clock.Now()
	var j *job
	var secrets [][]byte
	err := database.InTenantTx(ctx, d.db, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if j, err = jobOf(ctx, tx, tenantID, id); err != nil || j == nil {
			return err
		}
		if j.Status != "pending" || j.Attempts >= n {
			j = nil
			return nil
		}
		if !j.Enabled {
			j = nil
			return failDelivery(ctx, tx, tenantID, id, "endpoint disabled")
		}
		s, err := secretsOf(ctx, tx, tenantID, j.EndpointID)
		if err != nil {
			return err
		}
		cur, err := d.keys.Open(s.Secret, sealContext(j.EndpointID))
		if err != nil {
			return fmt.Errorf("webhook: open secret: %w", err)
		}
		secrets = [][]byte{cur}
		if s.Previous != nil && s.PreviousUntil != nil && now.Before(*s.PreviousUntil) {
			if prev, err := d.keys.Open(s.Previous, sealContext(j.EndpointID)); err == nil {
				secrets = append(secrets, prev)
			}
		}
		return nil
	})
	if err != nil || j == nil {
		return database.Classify(err)
	}

	a := d.post(ctx, j, id, n, secrets)
	status := "pending"
	var next *time.Time
	switch {
	case a.Error == "":
		status = "delivered"
	case n >= d.cfg.MaxAttempts:
		status = "failed"
	default:
		t := d.clock.Now().Add(Backoff(d.cfg.Backoff, n))
		next = &t
	}
	err = database.InTenantTx(ctx, d.db, tenantID, func(ctx context.Context, tx bun.Tx) error {
		fresh, err := recordAttempt(ctx, tx, tenantID, id, a, status, next)
		if err != nil || !fresh || next == nil {
			return err
		}
		return enqueue(ctx, tx, tenantID, id, n+1, *next)
	})
	if err != nil {
		// The POST may have reached the receiver: asynq retries this attempt, and the
		// receiver deduplicates by the event id.
		return fmt.Errorf("webhook: record attempt %d of %s: %w", n, id, err)
	}
	if d.log != nil && status != "delivered" {
		d.log.Info("webhook delivery failed", "tenant_id", tenantID, "delivery_id", id, "attempt", n, "status", status, "err", a.Error)
	}
	return nil
}

// post sends the event once and answers the attempt (Error empty: delivered).
func (d *Deliverer) post(ctx context.Context, j *job, id uuid.UUID, n int, secrets [][]byte) Attempt {
	start := d.clock.Now()
	a := Attempt{Attempt: n, At: start.UTC()}
	body := []byte(j.Body)
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, bytes.NewReader(body))
	if err != nil {
		a.Error = describe(err)
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Kitaportal-Webhooks/1")
	req.Header.Set(SignatureHeader, Sign(time.Now(), body, secrets...))
	req.Header.Set("Kitaportal-Event-Id", j.EventID.String())
	req.Header.Set("Kitaportal-Event-Type", j.EventType)
	req.Header.Set("Kitaportal-Delivery-Id", id.String())
	req.Header.Set("Kitaportal-Delivery-Attempt", strconv.Itoa(n))
	started := time.Now()
	res, err := d.client.Do(req)
	a.DurationMS = int(time.Since(started).Milliseconds())
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, errNotPublic):
			a.Error = "refused: the endpoint's host resolves to an address that is not public"
		case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
			a.Error = fmt.Sprintf("timeout: no answer within %s", d.cfg.Timeout)
		default:
			a.Error = describe(err)
		}
		return a
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	a.StatusCode = &res.StatusCode
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
	case res.StatusCode >= 300 && res.StatusCode < 400:
		a.Error = fmt.Sprintf("redirect not followed: HTTP %d to %q", res.StatusCode, truncate(res.Header.Get("Location"), 200))
	default:
		a.Error = fmt.Sprintf("HTTP %d", res.StatusCode)
	}
	return a
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
