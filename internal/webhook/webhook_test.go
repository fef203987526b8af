package webhook

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"kitaportal/internal/platform/apperr"
)

func TestPublicAddresses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		addr   string
		public bool
	}{
		{"93.184.216.34", true}, {"2a00:1450:4001:82a::200e", true},
		{"127.0.0.1", false}, {"127.8.9.1", false}, {"::1", false}, {"10.1.2.3", false}, {"172.16.0.1", false},
		{"192.168.178.1", false}, {"169.254.169.254", false}, {"fe80::1", false}, {"fc00::1", false}, {"fd12::1", false},
		{"0.0.0.0", false}, {"::", false}, {"224.0.0.1", false}, {"ff02::1", false}, {"100.64.0.1", false},
		{"255.255.255.255", false}, {"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false}, {"64:ff9b::a00:1", false},
		{"198.18.0.1", false}, {"0.1.2.3", false},
	} {
		if got := Public(netip.MustParseAddr(c.addr)); got != c.public {
			t.Errorf("Public(%s) = %v", c.addr, got)
		}
	}
}

// fakeResolver answers fixed addresses per host.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	as, ok := f[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range as {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func TestRegistrationRefusesURLsThatAreNotHTTPSOrNotPublic(t *testing.T) {
	t.Parallel()
	strict := NewService(Deps{Resolver: fakeResolver{
		"fachverfahren.example.de": {"93.184.216.34"},
		"localhost":                {"127.0.0.1", "::1"},
		"intranet.example.de":      {"93.184.216.34", "10.0.0.5"}, // one private answer is enough to refuse
		"metadata.example.de":      {"169.254.169.254"},
	}})
	ctx := context.Background()
	if u, err := strict.CheckURL(ctx, " https://fachverfahren.example.de/hooks/kita?x=1 "); err != nil || u.String() != "https://fachverfahren.example.de/hooks/kita?x=1" {
		t.Errorf("a public https URL: %v %v", u, err)
	}
	for _, c := range []struct{ url, code string }{
		{"", "webhook_url_required"},
		{"http://fachverfahren.example.de/hook", "webhook_url_not_https"},
		{"ftp://fachverfahren.example.de/", "webhook_url_not_https"},
		{"fachverfahren.example.de/hook", "webhook_url_not_https"},
		{"https://", "webhook_url_invalid"},
		{"https://user:pw@fachverfahren.example.de/", "webhook_url_invalid"},
		{"https://fachverfahren.example.de/#x", "webhook_url_invalid"},
		{"https://fachverfahren.example.de:99999/", "webhook_url_invalid"},
		{"https://" + strings.Repeat("a", 2100) + ".de/", "webhook_url_too_long"},
		{"https://127.0.0.1/hook", "webhook_url_not_public"},
		{"https://[::1]:8443/hook", "webhook_url_not_public"},
		{"https://10.0.0.1/hook", "webhook_url_not_public"},
		{"https://192.168.1.10/hook", "webhook_url_not_public"},
		{"https://169.254.169.254/latest/meta-data", "webhook_url_not_public"},
		{"https://0.0.0.0/", "webhook_url_not_public"},
		{"https://[ff02::1]/", "webhook_url_not_public"},
		{"https://localhost/hook", "webhook_url_not_public"},
		{"https://intranet.example.de/hook", "webhook_url_not_public"},
		{"https://metadata.example.de/", "webhook_url_not_public"},
		{"https://unknown.example.de/", "webhook_url_unresolvable"},
	} {
		_, err := strict.CheckURL(ctx, c.url)
		if e, ok := apperr.As(err); !ok || e.Code != c.code || e.Field != "url" {
			t.Errorf("CheckURL(%.60q) = %v, want %s", c.url, err, c.code)
		}
	}
	// The test flag lets the local receiver in, http included.
	local := NewService(Deps{AllowLocal: true})
	if _, err := local.CheckURL(ctx, "http://127.0.0.1:8080/hook"); err != nil {
		t.Errorf("with the flag: %v", err)
	}
	if _, err := local.CheckURL(ctx, "ftp://127.0.0.1/"); err == nil {
		t.Error("with the flag ftp is still refused")
	}
}

func TestParseTypes(t *testing.T) {
	t.Parallel()
	got, err := ParseTypes([]string{"offer.made", "application.submitted", "offer.made"})
	if err != nil || strings.Join(got, ",") != "application.submitted,offer.made" {
		t.Errorf("ParseTypes: %v %v", got, err)
	}
	for _, in := range [][]string{nil, {"application.deleted"}, {"x"}, make([]string, 40)} {
		if _, err := ParseTypes(in); err == nil {
			t.Errorf("ParseTypes(%v) passed", in)
		}
	}
}

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	at := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"x"}`)
	h := Sign(at, body, []byte("new"), []byte("old"))
	if !strings.HasPrefix(h, "t=1800000000,v1=") || strings.Count(h, ",v1=") != 2 {
		t.Fatalf("header %q", h)
	}
	for _, c := range []struct {
		name   string
		header string
		body   []byte
		secret string
		now    time.Time
		ok     bool
	}{
		{"new secret", h, body, "new", at, true},
		{"old secret in grace", h, body, "old", at.Add(time.Minute), true},
		{"other secret", h, body, "other", at, false},
		{"changed body", h, []byte(`{"id":"y"}`), "new", at, false},
		{"too old", h, body, "new", at.Add(10 * time.Minute), false},
		{"garbage", "v1=zz", body, "new", at, false},
		{"no signature", "t=1800000000", body, "new", at, false},
	} {
		if got := Verify(c.header, c.body, []byte(c.secret), c.now, 5*time.Minute); got != c.ok {
			t.Errorf("%s: Verify = %v", c.name, got)
		}
	}
}

func TestBackoffIsBoundedToAboutADay(t *testing.T) {
	t.Parallel()
	var total time.Duration
	for n := 1; n < MaxAttempts; n++ {
		total += Backoff(time.Minute, n)
	}
	if Backoff(time.Minute, 1) != time.Minute || Backoff(time.Minute, 3) != 9*time.Minute || total < 12*time.Hour || total > 30*time.Hour {
		t.Errorf("backoff total %s", total)
	}
}
