package billing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stripe/stripe-go/v76/webhook"

	"kitaportal/internal/billing"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/tenant/tenanttest"
)

const secret = "whsec_test_kitaportal"

func setup(t *testing.T) (*fiber.App, func(query string, dest ...any)) {
	t.Helper()
	db, _ := tenanttest.DB(t)
	svc := billing.NewService(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := svc.Link(context.Background(), "bochum", "cus_bochum"); err != nil {
		t.Fatal(err)
	}
	app := newApp()
	app.Post("/hook", billing.NewHandler(svc, secret).Webhook)
	query := func(q string, dest ...any) {
		t.Helper()
		if err := db.QueryRowContext(context.Background(), q).Scan(dest...); err != nil {
			t.Fatal(err)
		}
	}
	return app, query
}

// newApp has the project's error handler, which turns classified errors into statuses.
func newApp() *fiber.App {
	return httpserver.New(httpserver.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RequestTimeout: 5 * time.Second})
}

func event(id, typ, customer, status string) []byte {
	raw, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": "2025-01-27.acacia", "created": time.Now().Unix(),
		"data": map[string]any{"object": map[string]any{
			"id": "sub_1", "object": "subscription", "customer": customer, "status": status,
			"current_period_end": time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Unix(),
		}},
	})
	return raw
}

func post(t *testing.T, app *fiber.App, payload []byte, at time.Time, key string) (int, string) {
	t.Helper()
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: key, Timestamp: at})
	req := httptest.NewRequest("POST", "/hook", strings.NewReader(string(payload)))
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func TestSubscriptionEventsAreAppliedExactlyOnce(t *testing.T) {
	t.Parallel()
	app, query := setup(t)
	status, body := post(t, app, event("evt_1", "customer.subscription.updated", "cus_bochum", "past_due"), time.Now(), secret)
	if status != 200 || !strings.Contains(body, `"outcome":"applied"`) {
		t.Fatalf("%d %s", status, body)
	}
	var sub, state string
	query(`SELECT stripe_subscription_id, subscription_status FROM billing_account`, &sub, &state)
	if sub != "sub_1" || state != "past_due" {
		t.Errorf("account: %s %s", sub, state)
	}
	// Stripe redelivers the same event after we answered: nothing happens twice.
	status, body = post(t, app, event("evt_1", "customer.subscription.updated", "cus_bochum", "active"), time.Now(), secret)
	if status != 200 || !strings.Contains(body, `"outcome":"duplicate"`) {
		t.Fatalf("%d %s", status, body)
	}
	query(`SELECT subscription_status FROM billing_account`, &state)
	if state != "past_due" {
		t.Errorf("a redelivered event changed the account: %s", state)
	}
	var events int
	query(`SELECT count(*) FROM stripe_event`, &events)
	if events != 1 {
		t.Errorf("%d events recorded", events)
	}
}

func TestForgedStaleAndUnknownEvents(t *testing.T) {
	t.Parallel()
	app, query := setup(t)
	payload := event("evt_2", "customer.subscription.deleted", "cus_bochum", "canceled")
	if status, body := post(t, app, payload, time.Now(), "whsec_someone_else"); status != 400 || !strings.Contains(body, "invalid_signature") {
		t.Errorf("forged: %d %s", status, body)
	}
	if status, _ := post(t, app, payload, time.Now().Add(-10*time.Minute), secret); status != 400 {
		t.Errorf("replayed after ten minutes: %d", status)
	}
	var state string
	query(`SELECT subscription_status FROM billing_account`, &state)
	if state != "none" {
		t.Errorf("a refused event changed the account: %s", state)
	}
	status, body := post(t, app, event("evt_3", "customer.subscription.updated", "cus_nobody", "active"), time.Now(), secret)
	if status != 200 || !strings.Contains(body, `"outcome":"ignored"`) {
		t.Errorf("unknown customer: %d %s", status, body)
	}
	if status, body := post(t, app, []byte(`{"id":"evt_4","object":"event","type":"invoice.paid","data":{"object":{}}}`), time.Now(), secret); status != 200 || !strings.Contains(body, "ignored") {
		t.Errorf("other event types are acknowledged: %d %s", status, body)
	}
}

func TestDisabledWithoutSecret(t *testing.T) {
	t.Parallel()
	app := newApp()
	app.Post("/hook", billing.NewHandler(nil, "").Webhook)
	res, _ := app.Test(httptest.NewRequest("POST", "/hook", strings.NewReader("{}")), -1)
	if res.StatusCode != 404 {
		t.Errorf("status %d", res.StatusCode)
	}
}

func TestLinkUnknownTenant(t *testing.T) {
	t.Parallel()
	db, _ := tenanttest.DB(t)
	err := billing.NewService(db, slog.Default()).Link(context.Background(), "atlantis", "cus_x")
	if err == nil || !strings.Contains(fmt.Sprint(err), "unknown_tenant") {
		t.Errorf("got %v", err)
	}
}
