package webhook

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/queue/queuetest"
	"kitaportal/internal/platform/testdb"
	"kitaportal/internal/tenant"
)

// received is one request the test receiver got.
type received struct {
	path   string
	header http.Header
	body   []byte
}

// receiver is a local HTTP endpoint: answer decides each answer by the number of the
// request (1-based); every request is reported on got.
type receiver struct {
	*httptest.Server
	got    chan received
	mu     sync.Mutex
	n      int
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t testing.TB, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{got: make(chan received, 100), answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.n++
		n := rc.n
		rc.mu.Unlock()
		rc.got <- received{path: r.URL.Path, header: r.Header.Clone(), body: body}
		rc.answer(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

type bundle struct {
	db       *bun.DB
	tenantID uuid.UUID
	caller   auth.Caller
	svc      *Service
	keys     *auth.Keys
}

// setup runs the real chain: Emit → outbox → relay → asynq on Redis → Deliverer → a
// local receiver. Timeouts and backoff are short so a test can watch retries.
func setup(t testing.TB, cfg DeliverConfig) *bundle {
	t.Helper()
	ctx := context.Background()
	db, dbURL := testdb.New(t)
	tenantID := uuid.New()
	if _, err := db.ExecContext(ctx, `INSERT INTO tenant (id, slug, name) VALUES (?, ?, ?)`, tenantID, "wh-"+tenantID.String()[:8], "Webhook City"); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeys(strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AllowLocal = true
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	queuetest.Start(t, db, dbURL, "webhook-test", 50*time.Millisecond, map[string]asynq.HandlerFunc{
		TaskDeliver: NewDeliverer(db, keys, nil, log, cfg).Handle,
	})
	caller := auth.Caller{Tenant: &tenant.Tenant{ID: tenantID, Slug: "wh"},
		Principal: &auth.Principal{Kind: auth.KindStaff, ID: uuid.New(), TenantID: tenantID, MFADone: true}}
	return &bundle{db: db, tenantID: tenantID, caller: caller, keys: keys,
		svc: NewService(Deps{DB: db, Keys: keys, AllowLocal: true})}
}

func (b *bundle) endpoint(t testing.TB, url string, events ...string) *Issued {
	t.Helper()
	is, err := b.svc.Create(context.Background(), b.caller, New{URL: url, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func (b *bundle) emit(t *testing.T, ev Event) {
	t.Helper()
	if err := database.InTenantTx(context.Background(), b.db, b.tenantID, func(ctx context.Context, tx bun.Tx) error {
		return Emit(ctx, tx, b.tenantID, ev)
	}); err != nil {
		t.Fatal(err)
	}
}

// next waits for the receiver's next request.
func next(t *testing.T, rc *receiver) received {
	t.Helper()
	select {
	case r := <-rc.got:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("no request reached the receiver")
		return received{}
	}
}

// settled waits until the endpoint's newest delivery is no longer pending and answers it.
func (b *bundle) settled(t *testing.T, endpointID uuid.UUID) Delivery {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		_, ds, err := b.svc.Get(context.Background(), b.caller, endpointID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) > 0 && ds[0].Status != "pending" {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery still pending: %+v", ds)
		}
	}
	return Delivery{}
}

func TestEventIsDeliveredOnceWithAValidSignature(t *testing.T) {
	t.Parallel()
	b := setup(t, DeliverConfig{Timeout: 2 * time.Second, Backoff: 20 * time.Millisecond, MaxAttempts: 3})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	ep := b.endpoint(t, rc.URL+"/hook", ApplicationSubmitted)
	other := b.endpoint(t, rc.URL+"/contracts-only", ContractCreated)
	appID := uuid.New()
	b.emit(t, Event{Type: ApplicationSubmitted, ObjectID: appID, Data: map[string]any{"application_id": appID, "status": "submitted"}})
	b.emit(t, Event{Type: OfferMade, ObjectID: appID}) // nobody subscribed: nothing goes out

	r := next(t, rc)
	if r.path != "/hook" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("request: %s %v", r.path, r.header)
	}
	if !Verify(r.header.Get(SignatureHeader), r.body, []byte(ep.Secret), time.Now(), 5*time.Minute) {
		t.Errorf("signature %q does not verify with the endpoint's secret", r.header.Get(SignatureHeader))
	}
	if Verify(r.header.Get(SignatureHeader), r.body, []byte(other.Secret), time.Now(), 5*time.Minute) ||
		Verify(r.header.Get(SignatureHeader), append(r.body, ' '), []byte(ep.Secret), time.Now(), 5*time.Minute) {
		t.Error("signature verifies with another secret or another body")
	}
	var p Payload
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != ApplicationSubmitted || p.Version != 1 || p.Tenant != b.tenantID || p.ID == uuid.Nil ||
		p.Data["application_id"] != appID.String() || p.Data["status"] != "submitted" || p.OccurredAt.IsZero() ||
		r.header.Get("Kitaportal-Event-Id") != p.ID.String() {
		t.Errorf("payload %s", r.body)
	}
	d := b.settled(t, ep.ID)
	if d.Status != "delivered" || d.Attempts != 1 || len(d.Log) != 1 || d.Log[0].StatusCode == nil || *d.Log[0].StatusCode != 204 ||
		d.EventID != p.ID {
		t.Errorf("delivery %+v", d)
	}
	select {
	case extra := <-rc.got:
		t.Errorf("a second request: %s %s", extra.path, extra.body)
	default:
	}

	// Replay: a new delivery of the same event (same id, so the receiver deduplicates).
	original := d.ID
	rd, err := b.svc.Replay(context.Background(), b.caller, ep.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	again := next(t, rc)
	var p2 Payload
	_ = json.Unmarshal(again.body, &p2)
	if p2.ID != p.ID || string(again.body) != string(r.body) || again.header.Get("Kitaportal-Delivery-Id") != rd.ID.String() {
		t.Errorf("replay sent %s (delivery %s), want the same event", again.body, again.header.Get("Kitaportal-Delivery-Id"))
	}
	if d := b.settled(t, ep.ID); d.ID != rd.ID || d.Status != "delivered" || d.ReplayOf == nil || *d.ReplayOf != original {
		t.Errorf("replayed delivery %+v", d)
	}
}

func TestA500IsRetriedThenDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t, DeliverConfig{Timeout: 2 * time.Second, Backoff: 20 * time.Millisecond, MaxAttempts: 4})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ep := b.endpoint(t, rc.URL, ContractEnded)
	b.emit(t, Event{Type: ContractEnded, Data: map[string]any{"contract_id": uuid.New()}})
	first, second := next(t, rc), next(t, rc)
	if string(first.body) != string(second.body) || first.header.Get("Kitaportal-Delivery-Attempt") != "1" ||
		second.header.Get("Kitaportal-Delivery-Attempt") != "2" {
		t.Errorf("retry sent another body or attempt: %s / %s", first.body, second.body)
	}
	d := b.settled(t, ep.ID)
	if d.Status != "delivered" || d.Attempts != 2 || len(d.Log) != 2 || *d.Log[0].StatusCode != 500 || d.Log[0].Error != "HTTP 500" ||
		*d.Log[1].StatusCode != 200 || d.Log[1].Error != "" {
		t.Errorf("delivery %+v", d)
	}
}

func TestATimeoutCountsAsFailureAndRetriesAreBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, DeliverConfig{Timeout: 200 * time.Millisecond, Backoff: 10 * time.Millisecond, MaxAttempts: 3})
	release := make(chan struct{})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select { // hang until the client gives up
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	ep := b.endpoint(t, rc.URL, OfferExpired)
	b.emit(t, Event{Type: OfferExpired})
	for range 3 {
		next(t, rc)
	}
	d := b.settled(t, ep.ID)
	if d.Status != "failed" || d.Attempts != 3 || len(d.Log) != 3 || d.NextAttemptAt != nil {
		t.Fatalf("delivery %+v", d)
	}
	for _, a := range d.Log {
		if a.StatusCode != nil || !strings.Contains(a.Error, "timeout") {
			t.Errorf("attempt %+v", a)
		}
	}
	select {
	case <-rc.got:
		t.Error("a fourth attempt")
	default:
	}
}

func TestARedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	b := setup(t, DeliverConfig{Timeout: 2 * time.Second, Backoff: 10 * time.Millisecond, MaxAttempts: 2})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hook" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ep := b.endpoint(t, rc.URL+"/hook", OfferAccepted)
	b.emit(t, Event{Type: OfferAccepted})
	d := b.settled(t, ep.ID)
	if d.Status != "failed" || d.Attempts != 2 || *d.Log[0].StatusCode != 302 || !strings.Contains(d.Log[0].Error, "redirect not followed") {
		t.Fatalf("delivery %+v", d)
	}
	close(rc.got)
	for r := range rc.got {
		if r.path != "/hook" {
			t.Errorf("the redirect was followed to %s", r.path)
		}
	}
}

// The dialer refuses a loopback address at delivery even if the registration passed (a
// DNS answer changed since: rebinding), and nothing reaches the address.
func TestDeliveryRefusesLoopbackWithoutTheTestFlag(t *testing.T) {
	t.Parallel()
	b := setup(t, DeliverConfig{})
	hit := make(chan struct{}, 10)
	rc := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit <- struct{}{} }))
	t.Cleanup(rc.Close)
	var ep Endpoint
	var did uuid.UUID
	ctx := context.Background()
	err := database.InTenantTx(ctx, b.db, b.tenantID, func(ctx context.Context, tx bun.Tx) error {
		now := time.Now()
		ep = Endpoint{ID: uuid.New(), URL: rc.URL, Events: []string{OfferMade}, Enabled: true, CreatedAt: now}
		if err := insertEndpoint(ctx, tx, b.tenantID, &ep, b.keys.Seal([]byte("whsec_x"), sealContext(ep.ID))); err != nil {
			return err
		}
		p := Payload{ID: uuid.New(), Type: OfferMade, Version: 1, OccurredAt: now, Tenant: b.tenantID}
		if err := insertEvent(ctx, tx, b.tenantID, &p, uuid.Nil, []byte(`{}`)); err != nil {
			return err
		}
		did = uuid.New()
		return insertDelivery(ctx, tx, b.tenantID, did, ep.ID, p.ID, nil, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	strict := NewDeliverer(b.db, b.keys, nil, nil, DeliverConfig{Timeout: 2 * time.Second, Backoff: time.Hour, MaxAttempts: 1})
	if err := strict.Deliver(ctx, b.tenantID, did, 1); err != nil {
		t.Fatal(err)
	}
	_, ds, _ := b.svc.Get(ctx, b.caller, ep.ID, 10)
	if len(ds) != 1 || ds[0].Status != "failed" || !strings.Contains(ds[0].LastError, "not public") {
		t.Errorf("delivery %+v", ds)
	}
	select {
	case <-hit:
		t.Error("the loopback receiver was reached")
	default:
	}
	// A second run of the same attempt changes nothing.
	if err := strict.Deliver(ctx, b.tenantID, did, 1); err != nil {
		t.Fatal(err)
	}
	if _, again, _ := b.svc.Get(ctx, b.caller, ep.ID, 10); len(again[0].Log) != 1 {
		t.Errorf("attempt logged twice: %+v", again[0].Log)
	}
}

func TestDisabledEndpointGetsNothingAndCrossTenantIsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t, DeliverConfig{})
	ctx := context.Background()
	ep := b.endpoint(t, "http://127.0.0.1:9/hook", ApplicationWithdrawn)
	off := false
	if _, err := b.svc.Update(ctx, b.caller, ep.ID, Change{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	b.emit(t, Event{Type: ApplicationWithdrawn})
	if _, ds, _ := b.svc.Get(ctx, b.caller, ep.ID, 10); len(ds) != 0 {
		t.Errorf("a disabled endpoint got deliveries: %+v", ds)
	}
	// Another city's id does not exist here.
	otherID := uuid.New()
	if _, err := b.db.ExecContext(ctx, `INSERT INTO tenant (id, slug, name) VALUES (?, ?, 'Other')`, otherID, "wh-o-"+otherID.String()[:8]); err != nil {
		t.Fatal(err)
	}
	other := b.caller
	other.Tenant = &tenant.Tenant{ID: otherID}
	other.Principal = &auth.Principal{Kind: auth.KindStaff, ID: uuid.New(), TenantID: otherID, MFADone: true}
	if _, _, err := b.svc.Get(ctx, other, ep.ID, 10); err != ErrNotFound {
		t.Errorf("another city's endpoint: %v", err)
	}
	on := true
	if _, err := b.svc.Update(ctx, other, ep.ID, Change{Enabled: &on}); err != ErrNotFound {
		t.Errorf("update of another city's endpoint: %v", err)
	}
	if _, err := b.svc.Rotate(ctx, other, ep.ID, true); err != ErrNotFound {
		t.Errorf("rotate of another city's endpoint: %v", err)
	}
}

func TestRotationWithGraceSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t, DeliverConfig{Timeout: 2 * time.Second})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	ctx := context.Background()
	ep := b.endpoint(t, rc.URL, ContractCreated)
	rot, err := b.svc.Rotate(ctx, b.caller, ep.ID, true)
	if err != nil || rot.Secret == ep.Secret || rot.PreviousUntil == nil {
		t.Fatalf("rotate: %+v %v", rot, err)
	}
	b.emit(t, Event{Type: ContractCreated})
	r := next(t, rc)
	h := r.header.Get(SignatureHeader)
	if !Verify(h, r.body, []byte(rot.Secret), time.Now(), time.Minute) || !Verify(h, r.body, []byte(ep.Secret), time.Now(), time.Minute) {
		t.Errorf("during the grace period both secrets verify: %q", h)
	}
	b.settled(t, ep.ID)
	now, err := b.svc.Rotate(ctx, b.caller, ep.ID, false)
	if err != nil || now.PreviousUntil != nil {
		t.Fatalf("rotate immediately: %+v %v", now, err)
	}
	b.emit(t, Event{Type: ContractCreated})
	r = next(t, rc)
	h = r.header.Get(SignatureHeader)
	if !Verify(h, r.body, []byte(now.Secret), time.Now(), time.Minute) || Verify(h, r.body, []byte(rot.Secret), time.Now(), time.Minute) ||
		strings.Count(h, "v1=") != 1 {
		t.Errorf("after an immediate rotation only the new secret verifies: %q", h)
	}
}
