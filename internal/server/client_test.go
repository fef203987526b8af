package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser is a visitor of one host with its own cookies, as a real browser keeps them:
// per host, so a cookie of kempten.localhost is never sent to bochum.localhost.
type browser struct {
	b       *bundle
	host    string
	cookies map[string]string
	ip      string // X-Forwarded-For when the bundle trusts the test peer
}

func (b *bundle) browser(host string) *browser {
	return &browser{b: b, host: host, cookies: map[string]string{}}
}

func (br *browser) do(t *testing.T, method, path string, body io.Reader, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	req.Host = br.host
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if br.ip != "" {
		req.Header.Set("X-Forwarded-For", br.ip)
	}
	for k, v := range br.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res := br.b.do(t, req)
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(br.cookies, c.Name)
		} else {
			br.cookies[c.Name] = c.Value
		}
	}
	return res
}

func (br *browser) get(t *testing.T, path string) response {
	t.Helper()
	return br.do(t, "GET", path, nil)
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// submit posts a form the way the page at page renders it: with its CSRF token.
func (br *browser) submit(t *testing.T, page, action string, fields map[string]string) response {
	t.Helper()
	form := br.get(t, page)
	m := csrfField.FindStringSubmatch(form.body)
	if m == nil {
		t.Fatalf("no CSRF token on %s (status %d)\n%.500s", page, form.status, form.body)
	}
	return br.post(t, action, fields, m[1])
}

// post sends a form with the given token ("" = none).
func (br *browser) post(t *testing.T, action string, fields map[string]string, token string) response {
	t.Helper()
	v := url.Values{}
	for k, val := range fields {
		v.Set(k, val)
	}
	if token != "" {
		v.Set("_csrf", token)
	}
	return br.do(t, "POST", action, strings.NewReader(v.Encode()), "Content-Type", "application/x-www-form-urlencoded")
}

// api is a JSON API client of one host, with an optional bearer token.
type api struct {
	b     *bundle
	host  string
	token string
	lang  string
	ip    string
}

func (b *bundle) api(host string) *api { return &api{b: b, host: host} }

func (a *api) call(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = strings.NewReader(string(raw))
	}
	req := httptest.NewRequest(method, path, rd)
	req.Host = a.host
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if a.lang != "" {
		req.Header.Set("Accept-Language", a.lang)
	}
	if a.ip != "" {
		req.Header.Set("X-Forwarded-For", a.ip)
	}
	res := a.b.do(t, req)
	out := map[string]any{}
	_ = json.Unmarshal([]byte(res.body), &out)
	return res.status, out
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// mail is one mail the portal recorded in the outbox.
type mail struct {
	To, Subject, Text, HTML, Lang string
}

// mails returns the mails of kind in the outbox, oldest first.
func (b *bundle) mails(t *testing.T, kind string) []mail {
	t.Helper()
	var rows []string
	err := b.db.NewRaw(`SELECT payload::text FROM outbox WHERE task_type = 'mail:send' AND payload->>'kind' = ? ORDER BY id`, kind).
		Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	var out []mail
	for _, r := range rows {
		var job struct{ Message mail }
		if err := json.Unmarshal([]byte(r), &job); err != nil {
			t.Fatal(err)
		}
		out = append(out, job.Message)
	}
	return out
}

var linkToken = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// lastToken is the token of the newest mail of kind to address to.
func (b *bundle) lastToken(t *testing.T, kind, to string) string {
	t.Helper()
	ms := b.mails(t, kind)
	for i := len(ms) - 1; i >= 0; i-- {
		if strings.EqualFold(ms[i].To, to) {
			if m := linkToken.FindStringSubmatch(ms[i].Text); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no %s mail with a link to %s", kind, to)
	return ""
}
