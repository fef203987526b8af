package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawGet sends one request exactly as written (request line and Host header) to a real
// socket, so that neither net/http nor fiber's test helper tidies it first.
func rawGet(t *testing.T, base, target, host string, headers ...string) response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var sb strings.Builder
	sb.WriteString("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n")
	for i := 0; i+1 < len(headers); i += 2 {
		sb.WriteString(headers[i] + ": " + headers[i+1] + "\r\n")
	}
	sb.WriteString("\r\n")
	if _, err := io.WriteString(conn, sb.String()); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(body)}
}

// The city is decided by the Host header alone: a host with userinfo, or an absolute
// request URI naming another host than the Host header, is refused with 400.
func TestHostWithUserinfoOrAnotherAbsoluteURIIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	base := b.listen(t)
	for _, tc := range []struct {
		name, target, host string
		status             int
		want               string
	}{
		{"userinfo", "/", "evil@kempten.localhost", 400, ""},
		{"userinfo with port", "/", "evil@kempten.localhost:8080", 400, ""},
		{"userinfo naming a city", "/", "bochum.localhost@kempten.localhost", 400, ""},
		{"absolute URI of another city", "http://kempten.localhost/", "bochum.localhost", 400, ""},
		{"absolute URI with userinfo", "http://evil@kempten.localhost/", "kempten.localhost", 400, ""},
		{"absolute URI of the same host", "http://kempten.localhost:8080/", "kempten.localhost:8080", 200, "Kinderbetreuung Kempten"},
		{"plain", "/", "kempten.localhost", 200, "Kinderbetreuung Kempten"},
	} {
		r := rawGet(t, base, tc.target, tc.host)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.status)
		}
		if tc.want != "" && !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: body lacks %q", tc.name, tc.want)
		}
		if tc.status == 400 && (strings.Contains(r.body, "Kinderbetreuung Kempten") || strings.Contains(r.body, "Kita-Portal Bochum")) {
			t.Errorf("%s: answered with a city's page:\n%.300s", tc.name, r.body)
		}
	}
	// Behind a trusted proxy the same rules hold for the header it forwards.
	trusted := setup(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"})
	tb := trusted.listen(t)
	if r := rawGet(t, tb, "/", "internal-lb:8080", "X-Forwarded-Host", "evil@kempten.localhost"); r.status != 400 {
		t.Errorf("forwarded userinfo: %d", r.status)
	}
	if r := rawGet(t, tb, "/", "internal-lb:8080", "X-Forwarded-Host", "kempten.localhost"); r.status != 200 || !strings.Contains(r.body, "Kinderbetreuung Kempten") {
		t.Errorf("forwarded host: %d", r.status)
	}
}
