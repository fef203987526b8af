// Package webhook hands a city's events to its back-office software (Fachverfahren,
// Kita-Verwaltung): a tenant admin registers HTTPS endpoints for the events they want;
// the domain that causes an event calls Emit in its own transaction, which freezes the
// event (one id, one body) and writes a delivery per subscribed endpoint through the
// transactional outbox; the worker POSTs each delivery, signed, and retries with
// exponential backoff up to MaxAttempts. Every attempt is logged; the tenant admin can
// replay a delivery (same event id, so the receiver deduplicates). At least once.
//
// No server-side request forgery: an endpoint must be https and its host must resolve
// to public addresses only, checked at registration and again on every connection (the
// dialer refuses a private address a rebinding DNS answer hands it); redirects are never
// followed. AllowLocal (WEBHOOK_ALLOW_LOCAL, never in production) lifts both for tests
// and local receivers.
//
// The package owns the tables webhook_endpoint, webhook_event, webhook_delivery and
// webhook_attempt.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/platform/apperr"
)

// Event types a city can subscribe to.
const (
	ApplicationSubmitted = "application.submitted"
	ApplicationChanged   = "application.changed"
	ApplicationWithdrawn = "application.withdrawn"
	OfferMade            = "offer.made"
	OfferAccepted        = "offer.accepted"
	OfferDeclined        = "offer.declined"
	OfferExpired         = "offer.expired"
	ContractCreated      = "contract.created"
	ContractEnded        = "contract.ended"
)

// Types are all event types, in the order the forms offer them.
var Types = []string{ApplicationSubmitted, ApplicationChanged, ApplicationWithdrawn, OfferMade, OfferAccepted,
	OfferDeclined, OfferExpired, ContractCreated, ContractEnded}

// PayloadVersion is the version of the JSON body; a breaking change gets a new one.
const PayloadVersion = 1

// SignatureHeader carries t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>;
// during a rotation's grace period a second v1 signs with the previous secret.
const SignatureHeader = "Kitaportal-Signature"

// Event is what a domain emits: its type, the object it is about and the few ids and
// statuses a back office needs to fetch the rest through the API (no more child data).
type Event struct {
	Type     string
	ObjectID uuid.UUID
	Data     map[string]any
	At       time.Time // when it happened; zero: now
}

// Payload is the JSON body of every delivery (web/openapi/openapi.json, WebhookEvent).
type Payload struct {
	ID         uuid.UUID      `json:"id"` // the event's id: the same on every retry and replay
	Type       string         `json:"type"`
	Version    int            `json:"version"`
	OccurredAt time.Time      `json:"occurred_at"`
	Tenant     uuid.UUID      `json:"tenant"`
	Data       map[string]any `json:"data"`
}

// Errors of the endpoints.
var (
	ErrNotFound = apperr.NotFound("not_found")
	ErrNotStaff = apperr.Forbidden("forbidden")
)

// Limits of the input.
const (
	maxURL         = 2000
	maxDescription = 200
)

// Sign answers the signature header's value for body at t with each secret (the current
// one first).
func Sign(t time.Time, body []byte, secrets ...[]byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, s := range secrets {
		m := hmac.New(sha256.New, s)
		m.Write([]byte(ts + "."))
		m.Write(body)
		b.WriteString(",v1=" + hex.EncodeToString(m.Sum(nil)))
	}
	return b.String()
}

// Verify checks a signature header against body and secret, and that its timestamp is
// within tolerance of now: what a receiver does (the README shows it).
func Verify(header string, body, secret []byte, now time.Time, tolerance time.Duration) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return false
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// ParseURL checks an endpoint's URL: absolute, https (http only when allowLocal), a host,
// no user info or fragment, at most maxURL characters. Where the host points is checked
// by the service (it resolves it).
func ParseURL(raw string, allowLocal bool) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	bad := func(code string) error { return apperr.Invalid("url", code, nil) }
	if raw == "" {
		return nil, bad("webhook_url_required")
	}
	if len(raw) > maxURL {
		return nil, apperr.Invalid("url", "webhook_url_too_long", map[string]any{"max": maxURL})
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("webhook_url_invalid")
	}
	if !u.IsAbs() {
		return nil, bad("webhook_url_not_https")
	}
	if u.Opaque != "" {
		return nil, bad("webhook_url_invalid")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowLocal:
	default:
		return nil, bad("webhook_url_not_https")
	}
	if u.Hostname() == "" || u.User != nil || u.Fragment != "" || strings.ContainsAny(raw, " \t\r\n") {
		return nil, bad("webhook_url_invalid")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, bad("webhook_url_invalid")
		}
	}
	return u, nil
}

// notPublic are ranges outside the public internet that the IP type's own tests miss.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: would reach IPv4 inside
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("fec0::/10"),     // site-local (deprecated)
}

// Public tells whether a is an address on the public internet: not loopback, private,
// link-local, multicast, unspecified or otherwise reserved.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// ParseTypes checks the chosen event types: at least one, each known; the answer is in
// the order of Types.
func ParseTypes(raw []string) ([]string, error) {
	if len(raw) == 0 {
		return nil, apperr.Invalid("events", "webhook_events_required", nil)
	}
	if len(raw) > 2*len(Types) {
		return nil, apperr.Invalid("events", "webhook_event_unknown", map[string]any{"event": "…"})
	}
	for _, r := range raw {
		if !slices.Contains(Types, strings.TrimSpace(r)) {
			if len(r) > 40 {
				r = r[:40] + "…"
			}
			return nil, apperr.Invalid("events", "webhook_event_unknown", map[string]any{"event": r})
		}
	}
	var out []string
	for _, t := range Types {
		for _, r := range raw {
			if strings.TrimSpace(r) == t {
				out = append(out, t)
				break
			}
		}
	}
	return out, nil
}

// Backoff is the wait before attempt n+1 after attempt n failed: base·3^(n-1). With the
// default base of one minute and MaxAttempts 8 the last attempt runs about 18 hours
// after the first.
func Backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n; i++ {
		d *= 3
	}
	return d
}

// MaxAttempts bounds the attempts of one delivery; then it is failed (replay sends it again).
const MaxAttempts = 8

// GracePeriod is how long the previous secret still signs after a rotation with grace.
const GracePeriod = 24 * time.Hour

func describe(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}
