package credential

import (
	"slices"
	"strings"
	"testing"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
)

func TestParseName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, want, code string
	}{
		{"  Fachverfahren   Jugendamt (KiTa-Plus 3.1) ", "Fachverfahren Jugendamt (KiTa-Plus 3.1)", ""},
		{"", "", "credential_name_required"},
		{" \t ", "", "credential_name_required"},
		{strings.Repeat("x", MaxName), strings.Repeat("x", MaxName), ""},
		{strings.Repeat("x", MaxName+1), "", "credential_name_too_long"},
		{"evil\u202ename", "", "credential_name_invalid"},
		{"nul\x00", "", "credential_name_invalid"},
		{"zero\u200bwidth", "", "credential_name_invalid"},
	} {
		got, err := ParseName(c.in)
		if c.code == "" {
			if err != nil || got != c.want {
				t.Errorf("ParseName(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			continue
		}
		if e, ok := apperr.As(err); !ok || e.Code != c.code || e.Field != "name" {
			t.Errorf("ParseName(%q): %v, want %s", c.in, err, c.code)
		}
	}
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	got, err := ParseScopes([]string{"requests.read", "facilities.read", "requests.read"}, Scopes)
	if err != nil || !slices.Equal(got, []string{"facilities.read", "requests.read"}) {
		t.Errorf("ParseScopes: %v %v", got, err)
	}
	for _, c := range []struct {
		in        []string
		available []Scope
		code      string
	}{
		{nil, Scopes, "credential_scopes_required"},
		{[]string{"requests.decide"}, Scopes, "credential_scope_unknown"},
		{[]string{"staff.users.invite"}, Scopes, "credential_scope_unknown"},
		{[]string{"contracts.write"}, Scopes[:2], "credential_scope_unknown"}, // not offered to this admin
		{make([]string, 50), Scopes, "credential_scope_unknown"},
	} {
		_, err := ParseScopes(c.in, c.available)
		if e, ok := apperr.As(err); !ok || e.Code != c.code || e.Field != "scopes" {
			t.Errorf("ParseScopes(%v): %v, want %s", c.in, err, c.code)
		}
	}
}

func TestPermissionsOfScopes(t *testing.T) {
	t.Parallel()
	got := Permissions([]string{"requests.read", "retired.scope", "contracts.write", "requests.read"})
	want := []string{"requests.read", "contract.create", "contract.change", "contract.import"}
	if !slices.Equal(got, want) {
		t.Errorf("Permissions = %v, want %v", got, want)
	}
	if len(Permissions(nil)) != 0 {
		t.Error("no scope grants something")
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	a, prefix, hash := NewSecret()
	b, _, _ := NewSecret()
	if a == b || !strings.HasPrefix(a, auth.MachinePrefix) || !strings.HasPrefix(a, prefix) || len(prefix) != len(auth.MachinePrefix)+4 {
		t.Fatalf("secret %q prefix %q", a, prefix)
	}
	if !slices.Equal(hash, auth.HashToken(a)) || !wellFormed(a) {
		t.Error("hash or form of a fresh secret")
	}
	for _, bad := range []string{"", auth.MachinePrefix, a[:len(a)-1], a + "x", "kp_" + a[8:], strings.Replace(a, a[10:11], "!", 1)} {
		if wellFormed(bad) {
			t.Errorf("%q counts as a secret", bad)
		}
	}
}
