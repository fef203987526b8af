package httpserver

import "testing"

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"kempten.localhost", "kempten.localhost", true},
		{"Kempten.LOCALHOST:8080", "kempten.localhost", true},
		{"kempten.localhost.", "kempten.localhost", true},
		{" kempten.localhost ", "kempten.localhost", true},
		{"kempten.localhost:", "", false},
		{"kempten.localhost:80x", "", false},
		{"kempten.localhost:123456", "", false},
		{"kemp ten.localhost", "", false},
		{"kempten..localhost", "", false},
		{".localhost", "", false},
		{"", "", false},
		{"[::1]:8080", "", false},
		{"kempten.localhost/evil", "", false},
		{"küche.localhost", "", false},
		{string(make([]byte, 300)), "", false},
	}
	for _, c := range cases {
		got, ok := NormalizeHost(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestAbsoluteURIHost(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, want string
		abs      bool
	}{
		{"/", "", false},
		{"/path?next=http://evil.example/", "", false},
		{"http://kempten.localhost/", "kempten.localhost", true},
		{"HTTPS://evil@kempten.localhost:8080?x", "evil@kempten.localhost:8080", true},
		{"http://kempten.localhost", "kempten.localhost", true},
	} {
		got, abs := absoluteURIHost(c.in)
		if got != c.want || abs != c.abs {
			t.Errorf("absoluteURIHost(%q) = %q, %v", c.in, got, abs)
		}
	}
	if _, ok := NormalizeHost("evil@kempten.localhost"); ok {
		t.Error("a host with userinfo is accepted")
	}
}
