package tenant

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// SignIn is how parents of the city may sign in besides their password, which always
// stays available. Absent: local passwords only.
type SignIn struct {
	OIDC *OIDCSignIn `yaml:"oidc,omitempty" json:"oidc,omitempty"`
}

// OIDCSignIn is an OpenID Connect identity provider (BundID, a Land's Servicekonto, a
// city's own Keycloak): the authorization code flow with PKCE against Issuer. The
// client secret is never in the rules: ClientSecretEnv names the environment variable
// that holds it (empty for a public client, which PKCE alone protects).
type OIDCSignIn struct {
	Issuer          string   `yaml:"issuer" json:"issuer"`
	ClientID        string   `yaml:"client_id" json:"client_id"`
	ClientSecretEnv string   `yaml:"client_secret_env,omitempty" json:"client_secret_env,omitempty"`
	Scopes          []string `yaml:"scopes,omitempty" json:"scopes,omitempty"` // "openid" is always asked for
	Label           Text     `yaml:"label" json:"label"`                       // the button, e.g. "Mit BundID anmelden"
	// TrustLevels names the provider's acr values for parents, e.g.
	// "STORK-QAA-Level-3": {de: "substanziell"}; an acr not listed is shown as sent.
	TrustLevels map[string]Text `yaml:"trust_levels,omitempty" json:"trust_levels,omitempty"`
}

// OIDC returns the city's OpenID Connect provider, or nil.
func (r *Rules) OIDC() *OIDCSignIn {
	if r.SignIn == nil {
		return nil
	}
	return r.SignIn.OIDC
}

// TrustLevel is the parents' name of an acr value in lang ("" for none).
func (o *OIDCSignIn) TrustLevel(acr, lang string) string {
	if acr == "" {
		return ""
	}
	if t, ok := o.TrustLevels[acr]; ok {
		return t.In(lang)
	}
	return acr
}

var (
	envNamePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
	scopePattern   = regexp.MustCompile(`^[\x21\x23-\x5b\x5d-\x7e]{1,100}$`) // RFC 6749 scope-token
)

func (r *Rules) validateSignIn(v *validator) {
	o := r.OIDC()
	if o == nil {
		return
	}
	const f = "sign_in.oidc"
	v.check(validIssuer(o.Issuer), f+".issuer", "must be an https URL without query or fragment (http only for localhost)")
	v.check(strings.TrimSpace(o.ClientID) != "" && len(o.ClientID) <= 200 && !strings.ContainsAny(o.ClientID, " \t\r\n"), f+".client_id", "is required (at most 200 characters, no spaces)")
	v.check(o.ClientSecretEnv == "" || envNamePattern.MatchString(o.ClientSecretEnv), f+".client_secret_env",
		"must name an environment variable (upper-case letters, digits, underscores), never hold the secret itself")
	v.check(len(o.Scopes) <= 20, f+".scopes", "at most 20 scopes")
	for i, s := range o.Scopes {
		v.check(scopePattern.MatchString(s), fmt.Sprintf("%s.scopes[%d]", f, i), fmt.Sprintf("%q is not a scope", s))
	}
	v.text(f+".label", o.Label, 60)
	for acr, t := range o.TrustLevels {
		v.check(acr != "" && len(acr) <= 200, f+".trust_levels", "an acr value must be 1 to 200 characters")
		v.text(f+".trust_levels."+acr, t, 60)
	}
}

func validIssuer(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || len(s) > 500 {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		ip := net.ParseIP(h)
		return h == "localhost" || (ip != nil && ip.IsLoopback())
	}
	return false
}

// AllScopes are the scopes to ask for: openid first, then the configured ones.
func (o *OIDCSignIn) AllScopes() []string {
	out := []string{"openid"}
	for _, s := range o.Scopes {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
