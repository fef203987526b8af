// Package credential is the machine credentials of a city: scoped API keys with which the
// city's back-office software (Fachverfahren, Kita-Verwaltung) calls the JSON API of the
// city's host instead of a person signing in with password and TOTP code. A tenant admin
// creates, rotates and revokes them (audited); the secret is shown once and only its
// SHA-256 is kept. A key is bound to its tenant (it is looked up inside the host's tenant
// transaction) and allowed only the route permissions of its scopes (auth.KindMachine,
// checked by authz.Enforcer.Allowed on top of the catalogue's "machine" ceiling).
//
// The package owns the table machine_credential.
package credential

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
)

// Scope is a named set of catalogue actions (config/permissions.yaml) that a back-office
// system may be given: least privilege, each scope as small as one kind of job.
type Scope struct {
	Name        string
	Permissions []string
}

// Scopes lists every scope in the order the forms offer them. Only actions that make
// sense for software are here (no sign-in, roles, decisions, offers to families or audit
// log); each is also granted to "machine" in the catalogue, the ceiling a scope cannot
// pass.
var Scopes = []Scope{
	{"facilities.read", []string{"staff.home", "provider.read", "provider.occupancy.read"}},
	{"children.read", []string{"staff.facility.read", "staff.child.read"}},
	{"requests.read", []string{"requests.read"}},
	{"offers.read", []string{"offers.staff_read"}},
	{"contracts.read", []string{"contract.read"}},
	{"contracts.write", []string{"contract.create", "contract.change", "contract.import"}},
	{"availability.write", []string{"provider.group.manage"}},
}

// ScopeByName finds a scope.
func ScopeByName(name string) (Scope, bool) {
	for _, s := range Scopes {
		if s.Name == name {
			return s, true
		}
	}
	return Scope{}, false
}

// Permissions lists the catalogue actions of the named scopes, each once; unknown names
// (a scope retired since the key was made) grant nothing.
func Permissions(scopes []string) []string {
	var out []string
	for _, n := range scopes {
		s, ok := ScopeByName(n)
		if !ok {
			continue
		}
		for _, p := range s.Permissions {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Limits of the input.
const (
	MaxName   = 100
	maxScopes = 20
)

// Errors of the credentials.
var (
	ErrNotFound = apperr.NotFound("not_found")
	// ErrRevoked answers a rotation or revocation of a key that is revoked already.
	ErrRevoked = apperr.Conflict("credential_revoked")
	// ErrNotStaff refuses managing credentials to anyone but a signed-in staff member
	// (never a machine, whatever the catalogue says).
	ErrNotStaff = apperr.Forbidden("forbidden")
)

// ParseName checks and normalises a credential's name: NFC, inner spaces collapsed,
// 1 to MaxName characters, printable (letters, digits, punctuation, symbols, spaces),
// no control, bidi or invisible characters.
func ParseName(raw string) (string, error) {
	s := strings.Join(strings.Fields(norm.NFC.String(raw)), " ")
	if s == "" {
		return "", apperr.Invalid("name", "credential_name_required", nil)
	}
	if utf8.RuneCountInString(s) > MaxName || len(raw) > 8*MaxName {
		return "", apperr.Invalid("name", "credential_name_too_long", map[string]any{"max": MaxName})
	}
	for _, r := range s {
		if r == ' ' {
			continue
		}
		if !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S) || unicode.Is(unicode.Bidi_Control, r) {
			return "", apperr.Invalid("name", "credential_name_invalid", nil)
		}
	}
	return s, nil
}

// ParseScopes checks the chosen scopes against those offered (available): at least one,
// each known and offered; duplicates collapse. The answer is in the order of Scopes.
func ParseScopes(raw []string, available []Scope) ([]string, error) {
	if len(raw) == 0 {
		return nil, apperr.Invalid("scopes", "credential_scopes_required", nil)
	}
	if len(raw) > maxScopes {
		return nil, apperr.Invalid("scopes", "credential_scope_unknown", map[string]any{"scope": raw[maxScopes]})
	}
	chosen := map[string]bool{}
	for _, r := range raw {
		r = strings.TrimSpace(r)
		ok := false
		for _, a := range available {
			if a.Name == r {
				ok = true
			}
		}
		if !ok {
			if len(r) > 40 {
				r = r[:40] + "…"
			}
			return nil, apperr.Invalid("scopes", "credential_scope_unknown", map[string]any{"scope": r})
		}
		chosen[r] = true
	}
	var out []string
	for _, s := range Scopes {
		if chosen[s.Name] {
			out = append(out, s.Name)
		}
	}
	return out, nil
}

// secretBody is the length of the random part of a secret (32 bytes, base64url).
const secretBody = 43

// prefixLen is how much of the secret the list shows: MachinePrefix and four characters
// (24 of 256 random bits), enough to tell keys apart, useless for guessing.
var prefixLen = len(auth.MachinePrefix) + 4

// NewSecret returns a fresh secret, the prefix the list shows and the hash stored.
func NewSecret() (secret, prefix string, hash []byte) {
	raw, _ := auth.NewToken()
	secret = auth.MachinePrefix + raw
	return secret, secret[:prefixLen], auth.HashToken(secret)
}

// wellFormed tells whether s can be a secret at all (before any lookup).
func wellFormed(s string) bool {
	if len(s) != len(auth.MachinePrefix)+secretBody || !strings.HasPrefix(s, auth.MachinePrefix) {
		return false
	}
	for _, r := range s[len(auth.MachinePrefix):] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Credential is one machine credential as the list shows it: never its secret.
type Credential struct {
	ID            uuid.UUID  `bun:"id" json:"id"`
	Name          string     `bun:"name" json:"name"`
	Scopes        []string   `bun:"scopes,array" json:"scopes"`
	Prefix        string     `bun:"secret_prefix" json:"prefix"`
	CreatedBy     *uuid.UUID `bun:"created_by" json:"created_by,omitempty"`
	CreatedByName string     `bun:"-" json:"created_by_name,omitempty"`
	CreatedAt     time.Time  `bun:"created_at" json:"created_at"`
	RotatedAt     *time.Time `bun:"rotated_at" json:"rotated_at,omitempty"`
	LastUsedAt    *time.Time `bun:"last_used_at" json:"last_used_at,omitempty"`
	RevokedAt     *time.Time `bun:"revoked_at" json:"revoked_at,omitempty"`
	Revoked       bool       `bun:"-" json:"revoked"`
}

// Issued is a credential with its secret, answered once: at creation and rotation.
type Issued struct {
	Credential
	Secret string `json:"secret"`
}
