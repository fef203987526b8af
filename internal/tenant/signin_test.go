package tenant

import (
	"strings"
	"testing"
)

func TestValidateSignIn(t *testing.T) {
	good := func() *OIDCSignIn {
		return &OIDCSignIn{Issuer: "https://id.bund.de/idp", ClientID: "kitaportal-kempten", ClientSecretEnv: "KEMPTEN_OIDC_SECRET",
			Scopes: []string{"email", "profile"}, Label: Text{"de": "Mit BundID anmelden"},
			TrustLevels: map[string]Text{"STORK-QAA-Level-3": {"de": "substanziell"}}}
	}
	cases := []struct {
		name  string
		edit  func(o *OIDCSignIn)
		field string // "" = valid
	}{
		{"valid", func(*OIDCSignIn) {}, ""},
		{"http on localhost", func(o *OIDCSignIn) { o.Issuer = "http://127.0.0.1:5556/oidc" }, ""},
		{"public client", func(o *OIDCSignIn) { o.ClientSecretEnv = "" }, ""},
		{"plain http", func(o *OIDCSignIn) { o.Issuer = "http://id.example.de" }, "sign_in.oidc.issuer"},
		{"query in issuer", func(o *OIDCSignIn) { o.Issuer = "https://id.example.de/?x=1" }, "sign_in.oidc.issuer"},
		{"no issuer", func(o *OIDCSignIn) { o.Issuer = "" }, "sign_in.oidc.issuer"},
		{"no client id", func(o *OIDCSignIn) { o.ClientID = " " }, "sign_in.oidc.client_id"},
		{"secret in the file", func(o *OIDCSignIn) { o.ClientSecretEnv = "s3cr3t-value!" }, "sign_in.oidc.client_secret_env"},
		{"bad scope", func(o *OIDCSignIn) { o.Scopes = []string{"email profile"} }, "sign_in.oidc.scopes[0]"},
		{"no German label", func(o *OIDCSignIn) { o.Label = Text{"en": "Sign in"} }, "sign_in.oidc.label.de"},
		{"trust level without German", func(o *OIDCSignIn) { o.TrustLevels["x"] = Text{"en": "x"} }, "sign_in.oidc.trust_levels.x.de"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := good()
			c.edit(o)
			r := &Rules{SignIn: &SignIn{OIDC: o}}
			v := &validator{}
			r.validateSignIn(v)
			err := v.err()
			if c.field == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("want a problem with %s, got %v", c.field, err)
			}
		})
	}
	if (&Rules{}).OIDC() != nil {
		t.Fatal("absent sign_in must mean passwords only")
	}
	if got := good().AllScopes(); strings.Join(got, " ") != "openid email profile" {
		t.Fatalf("scopes %v", got)
	}
}
