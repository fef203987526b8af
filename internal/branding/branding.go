// Package branding is the tenant admins' branding editor: the portal's display name and
// claim, its colours (refused below WCAG AA text contrast), its logo (SVG or PNG, checked
// like photos and like the logo files of tenants/), the imprint and privacy notice (URLs
// or the texts themselves, which the portal then serves at /impressum and /datenschutz),
// a preview that renders the page frame with the new branding without saving, and the
// save: a new version of the city's rules (tenant.Store.SaveVersion) that changes nothing
// but the branding of the version in force, with author and reason, audited.
package branding

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/imaging"
	"kitaportal/internal/tenant"
)

// Service edits a city's branding.
type Service struct {
	db       bun.IDB
	store    *tenant.Store
	registry *tenant.Registry
	log      *slog.Logger
}

// NewService returns the branding service. After a save it reloads registry, so the
// admin's own process shows the change at once (the others follow within their reload
// interval).
func NewService(db bun.IDB, registry *tenant.Registry, log *slog.Logger) *Service {
	return &Service{db: db, store: tenant.NewStore(db), registry: registry, log: log}
}

// Input is what the editor sends: every branding field the admin may change.
type Input struct {
	Base         int         // the version the editor was opened on
	DisplayName  string      // e.g. "Kita-Portal Kempten"
	Claim        tenant.Text // one line under the name, per language
	PrimaryColor string      // #rrggbb; white text sits on it
	AccentColor  string      // #rrggbb; focus rings and highlights
	ImprintURL   string
	PrivacyURL   string
	ImprintText  tenant.Text
	PrivacyText  tenant.Text
	Logo         []byte // a new logo (SVG or PNG, sniffed); nil keeps the current one
	RemoveLogo   bool
	Reason       string // required to save
}

// Limits of the editor's fields.
const (
	maxDisplayName = 80
	maxClaim       = 160
	maxURL         = 500
	minReason      = 3
	maxReason      = 1000 // tenant_rules.reason
	// MaxUpload bounds an uploaded logo file; an SVG must fit tenant.MaxLogoBytes.
	MaxUpload = 1 << 20
)

// logoLimits bound a PNG logo: at most 1 MiB uploaded, 64 KiB stored, 16 to 1024 pixels
// a side (the header shows it at 40 × 40).
var logoLimits = imaging.LogoLimits{MaxBytes: MaxUpload, MaxStored: tenant.MaxLogoBytes, MinSide: 16, MaxSide: 1024}

// Ratio is a contrast ratio as people read it: "4.52" in English, "4,52" in German.
type Ratio float64

// FormatIn writes the ratio with two decimals in lang.
func (r Ratio) FormatIn(lang string) string {
	s := strconv.FormatFloat(float64(r), 'f', 2, 64)
	if lang == "de" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// MarshalJSON writes the ratio as a number with two decimals.
func (r Ratio) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(r), 'f', 2, 64)), nil
}

// white is the text colour on the primary colour (header, buttons; web/static/css/app.css).
const white = "#ffffff"

// TextContrast is the contrast of white text on a valid primary colour; ok is false for
// anything else.
func TextContrast(primary string) (Ratio, bool) {
	r, ok := tenant.ContrastRatio(primary, white)
	return Ratio(r), ok
}

// Apply answers base (the rules in force) with the branding of in: every other rule
// stays as it is. It checks each field (all problems at once, as an apperr.List), then
// the whole rules as a file is checked, and a live city (t) must keep its imprint and
// privacy notice. Nothing is stored.
func Apply(t *tenant.Tenant, base *tenant.Rules, in Input) (*tenant.Rules, error) {
	r, err := copyRules(base)
	if err != nil {
		return nil, err
	}
	var errs apperr.List
	add := func(err error) { apperr.Collect(&errs, err) }
	b := &r.Branding
	if b.DisplayName, err = text("display_name", in.DisplayName, 1, maxDisplayName, false); err != nil {
		add(err)
	}
	claim := tenant.Text{}
	for _, lang := range r.Languages {
		s, err := text("claim_"+lang, in.Claim[lang], 0, maxClaim, false)
		add(err)
		if s != "" {
			claim[lang] = s
		}
	}
	b.Claim = claim
	add(checkColors(in.PrimaryColor, in.AccentColor))
	b.PrimaryColor, b.AccentColor = strings.ToLower(in.PrimaryColor), strings.ToLower(in.AccentColor)
	for _, u := range []struct {
		field string
		raw   string
		dst   *string
	}{{"imprint_url", in.ImprintURL, &b.ImprintURL}, {"privacy_url", in.PrivacyURL, &b.PrivacyURL}} {
		s, err := httpsURL(u.field, u.raw)
		add(err)
		*u.dst = s
	}
	var imprint, privacy tenant.Text
	imprint, err = legalText("imprint_text", in.ImprintText, r.Languages)
	add(err)
	privacy, err = legalText("privacy_text", in.PrivacyText, r.Languages)
	add(err)
	b.ImprintText, b.PrivacyText = imprint, privacy
	switch {
	case in.Logo != nil:
		add(setLogo(b, in.Logo))
	case in.RemoveLogo:
		b.Logo, b.LogoSVG, b.LogoPNG = "", "", nil
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	// The rest is the validator of the rules files: anything it still finds is named.
	if err := r.Validate(); err != nil {
		return nil, rulesErrors(err)
	}
	if t.Status == tenant.StatusActive {
		if err := r.LaunchError(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// copyRules is a deep copy, through the JSON form the database keeps.
func copyRules(r *tenant.Rules) (*tenant.Rules, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("branding: copy rules: %w", err)
	}
	var out tenant.Rules
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("branding: copy rules: %w", err)
	}
	return &out, nil
}

// text checks a one-line (or, multiline, a multi-line) text: NFC, trimmed, within
// bounds, no control or bidi characters.
func text(field, raw string, minLen, maxLen int, multiline bool) (string, error) {
	s := strings.TrimSpace(norm.NFC.String(raw))
	n := utf8.RuneCountInString(s)
	switch {
	case n < minLen && minLen == 1:
		return "", apperr.Invalid(field, "required", nil)
	case n < minLen:
		return "", apperr.Invalid(field, "text_too_short", map[string]any{"min": minLen})
	case n > maxLen:
		return "", apperr.Invalid(field, "field_too_long", map[string]any{"max": maxLen})
	}
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' {
			if multiline {
				continue
			}
			return "", apperr.Invalid(field, "text_invalid_characters", nil)
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", apperr.Invalid(field, "text_invalid_characters", nil)
		}
	}
	return s, nil
}

// checkColors checks the colours' form and the contrast of white text on the primary
// colour (WCAG 2.x AA for normal text, 4.5:1), naming the ratio found.
func checkColors(primary, accent string) error {
	var errs apperr.List
	if !tenant.IsColor(primary) {
		errs = append(errs, apperr.Invalid("primary_color", "color_invalid", nil))
	} else if ratio, _ := TextContrast(primary); float64(ratio) < tenant.MinTextContrast {
		errs = append(errs, apperr.Invalid("primary_color", "contrast_too_low",
			map[string]any{"ratio": ratio, "min": Ratio(tenant.MinTextContrast)}))
	}
	if !tenant.IsColor(accent) {
		errs = append(errs, apperr.Invalid("accent_color", "color_invalid", nil))
	}
	return errs.Err()
}

// httpsURL checks an optional absolute https URL.
func httpsURL(field, raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || len(s) > maxURL || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.ContainsAny(s, " \t\r\n<>\"") {
		return "", apperr.Invalid(field, "url_https", nil)
	}
	return s, nil
}

// legalText checks an imprint or privacy text: per offered language, plain text up to
// tenant.MaxLegalText; German is required when any language is given. Empty languages
// are dropped; all empty is no text.
func legalText(field string, in tenant.Text, languages []string) (tenant.Text, error) {
	out := tenant.Text{}
	for lang, raw := range in {
		if !slices.Contains(languages, lang) {
			if strings.TrimSpace(raw) != "" {
				return nil, apperr.Invalid(field+"_"+lang, "language_not_offered", nil)
			}
			continue
		}
		s, err := text(field+"_"+lang, strings.ReplaceAll(raw, "\r\n", "\n"), 0, tenant.MaxLegalText, true)
		if err != nil {
			return nil, err
		}
		if s != "" {
			out[lang] = s
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	if out["de"] == "" {
		return nil, apperr.Invalid(field+"_de", "legal_text_german_required", nil)
	}
	return out, nil
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// setLogo checks an uploaded logo by its content: a PNG is decoded, bounded and
// re-encoded; anything else must be an SVG that passes the check of the logo files
// (tenant.CheckLogoSVG: no scripts, handlers, external references or entities).
func setLogo(b *tenant.Branding, raw []byte) error {
	if bytes.HasPrefix(raw, pngSignature) {
		png, _, _, err := imaging.Logo(raw, logoLimits)
		if err != nil {
			return err
		}
		b.Logo, b.LogoSVG, b.LogoPNG = "", "", png
		return nil
	}
	if len(raw) > tenant.MaxLogoBytes {
		return apperr.Invalid("logo", "logo_too_large", map[string]any{"max_kb": tenant.MaxLogoBytes >> 10})
	}
	svg, err := tenant.CheckLogoSVG(raw)
	switch {
	case errors.Is(err, tenant.ErrLogoUnsafe):
		return apperr.Invalid("logo", "logo_unsafe", nil).Wrap(err)
	case err != nil:
		return apperr.Invalid("logo", "logo_unsupported", nil).Wrap(err)
	}
	b.Logo, b.LogoSVG, b.LogoPNG = "", svg, nil
	return nil
}

// formField maps a branding field of the rules to the editor's field.
var formField = map[string]string{
	"branding.display_name": "display_name", "branding.primary_color": "primary_color", "branding.accent_color": "accent_color",
	"branding.imprint_url": "imprint_url", "branding.privacy_url": "privacy_url", "branding.logo": "logo",
}

// rulesErrors turns the validator's FieldErrors into the editor's field errors (the
// reason in English, as the validator words it).
func rulesErrors(err error) error {
	var errs apperr.List
	for _, e := range unjoin(err) {
		var fe tenant.FieldError
		if !errors.As(e, &fe) {
			return err
		}
		field := formField[fe.Field]
		if field == "" {
			field = "form"
		}
		errs = append(errs, apperr.Invalid(field, "branding_rules_invalid", map[string]any{"field": fe.Field, "reason": fe.Reason}))
	}
	return errs.Err()
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// changedFields names the branding fields that differ between a and b, for the audit.
func changedFields(a, b tenant.Branding) []string {
	var out []string
	same := func(x, y any) bool {
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		return bytes.Equal(jx, jy)
	}
	for _, f := range []struct {
		name string
		x, y any
	}{
		{"display_name", a.DisplayName, b.DisplayName}, {"claim", a.Claim, b.Claim},
		{"primary_color", a.PrimaryColor, b.PrimaryColor}, {"accent_color", a.AccentColor, b.AccentColor},
		{"logo", []any{a.Logo, a.LogoSVG, a.LogoPNG}, []any{b.Logo, b.LogoSVG, b.LogoPNG}},
		{"imprint_url", a.ImprintURL, b.ImprintURL}, {"privacy_url", a.PrivacyURL, b.PrivacyURL},
		{"imprint_text", a.ImprintText, b.ImprintText}, {"privacy_text", a.PrivacyText, b.PrivacyText},
	} {
		if !same(f.x, f.y) {
			out = append(out, f.name)
		}
	}
	return out
}

// Preview answers the caller's city as it would look with the branding of in; nothing
// is stored.
func (s *Service) Preview(c auth.Caller, in Input) (*tenant.Tenant, error) {
	r, err := Apply(c.Tenant, c.Tenant.Rules, in)
	if err != nil {
		return nil, err
	}
	t := *c.Tenant
	t.Rules = r
	return &t, nil
}

// Save stores the branding of in as a new version of the city's rules, if in.Base is
// still the version in force (otherwise rules_stale and nothing is written), with the
// caller as author and the reason given, and audits which fields changed. It answers the
// new version.
func (s *Service) Save(ctx context.Context, c auth.Caller, in Input) (int, *tenant.Rules, error) {
	t := c.Tenant
	if c.Principal == nil || c.Principal.Kind != auth.KindStaff {
		return 0, nil, apperr.Forbidden("forbidden")
	}
	// The editor starts from the version it was opened on, read from the database (the
	// registry of this process may lag); SaveVersion refuses it unless still in force.
	base, err := s.store.Version(ctx, t.ID, in.Base)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, apperr.Conflict("branding_stale")
	}
	if err != nil {
		return 0, nil, err
	}
	reason, rerr := text("reason", in.Reason, minReason, maxReason, true)
	r, err := Apply(t, base, in)
	if err != nil || rerr != nil {
		var errs apperr.List
		apperr.Collect(&errs, rerr)
		apperr.Collect(&errs, err)
		if len(errs) == 0 {
			return 0, nil, err
		}
		return 0, nil, errs.Err()
	}
	changed := changedFields(base.Branding, r.Branding)
	if len(changed) == 0 {
		return 0, nil, apperr.Invalid("form", "branding_unchanged", nil)
	}
	version, err := s.store.SaveVersion(ctx, t.ID, in.Base, r, c.Principal.ID, reason)
	switch {
	case errors.Is(err, tenant.ErrStaleVersion):
		return 0, nil, apperr.Conflict("branding_stale")
	case err != nil:
		if _, ok := apperr.As(err); ok {
			return 0, nil, err
		}
		var fe tenant.FieldError
		if errors.As(err, &fe) {
			return 0, nil, rulesErrors(err)
		}
		return 0, nil, fmt.Errorf("branding: save: %w", err)
	}
	// SaveVersion commits on its own (the tenant tables are not the app role's to write),
	// so the entry follows in the tenant's transaction right after; the version row
	// itself names author and reason should this write fail.
	err = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionBrandingChanged, ObjectKind: "tenant_rules",
			ObjectID: strconv.Itoa(version), Details: map[string]any{"version": version, "base": in.Base, "fields": changed, "reason": reason}})
	})
	if err != nil {
		s.log.Error("branding: audit entry after save failed", "tenant", t.Slug, "version", version, "err", err)
	}
	if s.registry != nil {
		if err := s.registry.Reload(ctx); err != nil {
			s.log.Warn("branding: registry reload after save failed; the periodic reload follows", "err", err)
		}
	}
	return version, r, nil
}
