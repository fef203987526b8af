package branding

import (
	"encoding/base64"
	"html/template"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/portal"
	"kitaportal/internal/tenant"
)

// Handler serves the branding editor (HTML and JSON) and the legal pages of a city that
// gives its imprint and privacy texts itself.
type Handler struct {
	s     *Service
	views *view.Renderer
	forms view.Forms
}

// NewHandler returns the branding handlers; csrf gives the forms' token.
func NewHandler(s *Service, views *view.Renderer, csrf func(*fiber.Ctx) string) *Handler {
	return &Handler{s: s, views: views, forms: view.Forms{Views: views, CSRF: csrf}}
}

// pageData is the editor page.
type pageData struct {
	Version   int
	Languages []string
	Contrast  Ratio // white on the primary colour shown
	Min       Ratio
	LogoURL   string       // the logo in force ("" none)
	LogoNew   template.URL // a new logo during the preview (data: URL)
	LogoCarry string       // the new logo, carried from the preview to the save (base64; checked again)
	Preview   bool
	Imprint   [][]string // paragraphs of the previewed imprint text
	Privacy   [][]string
}

// formOf is the editor's form filled with branding b.
func formOf(b tenant.Branding, version int, languages []string) *view.Form {
	v := map[string]string{"base": strconv.Itoa(version), "display_name": b.DisplayName, "primary_color": b.PrimaryColor,
		"accent_color": b.AccentColor, "imprint_url": b.ImprintURL, "privacy_url": b.PrivacyURL}
	for _, l := range languages {
		v["claim_"+l] = b.Claim[l]
		v["imprint_text_"+l] = b.ImprintText[l]
		v["privacy_text_"+l] = b.PrivacyText[l]
	}
	return view.NewForm(v)
}

func (h *Handler) data(t *tenant.Tenant, primary string) pageData {
	d := pageData{Version: t.RulesVersion, Languages: t.Rules.Languages, Min: Ratio(tenant.MinTextContrast)}
	d.Contrast, _ = TextContrast(strings.ToLower(primary))
	d.LogoURL = portal.Site(t, "de").LogoURL
	return d
}

// Page shows the editor with the branding in force.
func (h *Handler) Page(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	b := t.Rules.Branding
	return h.forms.Show(c, fiber.StatusOK, "staff_branding", "branding.title", formOf(b, t.RulesVersion, t.Rules.Languages), h.data(t, b.PrimaryColor))
}

// inputFromForm reads the editor's form (urlencoded or multipart with the logo file).
func inputFromForm(c *fiber.Ctx, languages []string) (Input, *view.Form, error) {
	in := Input{DisplayName: c.FormValue("display_name"), PrimaryColor: strings.TrimSpace(c.FormValue("primary_color")),
		AccentColor: strings.TrimSpace(c.FormValue("accent_color")), ImprintURL: c.FormValue("imprint_url"),
		PrivacyURL: c.FormValue("privacy_url"), Reason: c.FormValue("reason"), RemoveLogo: c.FormValue("remove_logo") == "yes",
		Claim: tenant.Text{}, ImprintText: tenant.Text{}, PrivacyText: tenant.Text{}}
	base, err := strconv.Atoi(c.FormValue("base"))
	if err == nil {
		in.Base = base
	}
	f := view.NewForm(map[string]string{"base": c.FormValue("base"), "display_name": in.DisplayName, "primary_color": in.PrimaryColor,
		"accent_color": in.AccentColor, "imprint_url": in.ImprintURL, "privacy_url": in.PrivacyURL, "reason": in.Reason,
		"remove_logo": c.FormValue("remove_logo")})
	for _, l := range languages {
		in.Claim[l] = c.FormValue("claim_" + l)
		in.ImprintText[l] = c.FormValue("imprint_text_" + l)
		in.PrivacyText[l] = c.FormValue("privacy_text_" + l)
		f.Values["claim_"+l], f.Values["imprint_text_"+l], f.Values["privacy_text_"+l] = in.Claim[l], in.ImprintText[l], in.PrivacyText[l]
	}
	if fh, ferr := c.FormFile("logo"); ferr == nil && fh.Size > 0 {
		if fh.Size > MaxUpload {
			return in, f, apperr.Invalid("logo", "logo_too_large", map[string]any{"max_kb": MaxUpload >> 10})
		}
		file, err := fh.Open()
		if err != nil {
			return in, f, err
		}
		defer file.Close()
		if in.Logo, err = io.ReadAll(io.LimitReader(file, MaxUpload+1)); err != nil {
			return in, f, err
		}
	} else if carry := c.FormValue("logo_carry"); carry != "" {
		raw, err := base64.StdEncoding.DecodeString(carry)
		if err != nil || len(raw) > MaxUpload {
			return in, f, apperr.Invalid("logo", "logo_unsupported", nil)
		}
		in.Logo = raw
	}
	return in, f, nil
}

// Submit previews (intent=preview) or saves (intent=save) the form.
func (h *Handler) Submit(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	call := auth.CallerOf(c)
	in, f, err := inputFromForm(c, t.Rules.Languages)
	d := h.data(t, in.PrimaryColor)
	if err != nil {
		return h.forms.Failed(c, err, "staff_branding", "branding.title", f, d)
	}
	if c.FormValue("intent") == "preview" {
		return h.preview(c, call, in, f, d)
	}
	if c.FormValue("intent") != "save" {
		return h.forms.Failed(c, apperr.Invalid("form", "intent_invalid", nil), "staff_branding", "branding.title", f, d)
	}
	if _, _, err := h.s.Save(c.UserContext(), call, in); err != nil {
		if in.Logo != nil && !hasField(err, "logo") {
			d.LogoCarry = base64.StdEncoding.EncodeToString(in.Logo) // the file needs no second upload
		}
		return h.forms.Failed(c, err, "staff_branding", "branding.title", f, d)
	}
	return c.Redirect("/staff/branding?done=branding_saved", fiber.StatusSeeOther)
}

// hasField tells whether err names field.
func hasField(err error, field string) bool {
	var list apperr.List
	if e, ok := apperr.As(err); ok && e.Field == field {
		return true
	}
	if l, ok := err.(apperr.List); ok {
		list = l
	}
	for _, e := range list {
		if e.Field == field {
			return true
		}
	}
	return false
}

// preview renders the editor inside the page frame of the new branding: header (name,
// claim, logo, colours through a preview stylesheet) and footer (legal links). Nothing
// is stored.
func (h *Handler) preview(c *fiber.Ctx, call auth.Caller, in Input, f *view.Form, d pageData) error {
	pt, err := h.s.Preview(call, in)
	if err != nil {
		if in.Logo != nil && !hasField(err, "logo") {
			d.LogoCarry = base64.StdEncoding.EncodeToString(in.Logo)
		}
		return h.forms.Failed(c, err, "staff_branding", "branding.title", f, d)
	}
	lang, _ := c.Locals(view.LocalLang).(string)
	site := portal.Site(pt, lang)
	b := pt.Rules.Branding
	site.ThemeURL = "/staff/branding/preview.css?" + url.Values{"primary": {b.PrimaryColor}, "accent": {b.AccentColor}}.Encode()
	switch {
	case in.Logo != nil && b.LogoSVG != "":
		d.LogoNew = template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(b.LogoSVG)))
	case in.Logo != nil && len(b.LogoPNG) > 0:
		d.LogoNew = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.LogoPNG))
	case in.RemoveLogo:
		site.LogoURL = ""
	}
	if d.LogoNew != "" {
		site.LogoPreview = d.LogoNew
		d.LogoCarry = base64.StdEncoding.EncodeToString(in.Logo)
	}
	c.Locals(view.LocalSite, site)
	d.Preview = true
	d.Imprint, d.Privacy = Paragraphs(b.ImprintText.In(lang)), Paragraphs(b.PrivacyText.In(lang))
	f.Values["remove_logo"] = c.FormValue("remove_logo")
	return h.forms.Show(c, fiber.StatusOK, "staff_branding", "branding.preview.title", f, d)
}

// PreviewCSS is the theme stylesheet of colours not saved yet, for the preview.
func (h *Handler) PreviewCSS(c *fiber.Ctx) error {
	primary, accent := strings.ToLower(c.Query("primary")), strings.ToLower(c.Query("accent"))
	if !tenant.IsColor(primary) || !tenant.IsColor(accent) {
		return apperr.Invalid("primary", "color_invalid", nil)
	}
	c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString(":root{--brand:" + primary + ";--accent:" + accent + "}\n")
}

// Paragraphs splits a plain text into paragraphs (blank lines) of lines.
func Paragraphs(s string) [][]string {
	var out [][]string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		var lines []string
		for _, l := range strings.Split(p, "\n") {
			lines = append(lines, strings.TrimSpace(l))
		}
		out = append(out, lines)
	}
	return out
}

// legalData is an imprint or privacy page.
type legalData struct {
	Heading    string
	Lang       string // of the text: German when there is none in the page's language
	Paragraphs [][]string
}

// Imprint serves the city's Impressum when it gives the text (404 otherwise: the footer
// then links the city's own page).
func (h *Handler) Imprint(c *fiber.Ctx) error {
	return h.legal(c, tenant.FromFiber(c).Rules.Branding.ImprintText, "legal.imprint.title")
}

// Privacy serves the city's Datenschutzerklärung when it gives the text.
func (h *Handler) Privacy(c *fiber.Ctx) error {
	return h.legal(c, tenant.FromFiber(c).Rules.Branding.PrivacyText, "legal.privacy.title")
}

func (h *Handler) legal(c *fiber.Ctx, t tenant.Text, titleKey string) error {
	lang, _ := c.Locals(view.LocalLang).(string)
	textLang := lang
	if strings.TrimSpace(t[lang]) == "" {
		textLang = "de"
	}
	paras := Paragraphs(t[textLang])
	if len(paras) == 0 {
		return fiber.ErrNotFound
	}
	return h.views.Render(c, fiber.StatusOK, "legal_text", titleKey, legalData{Lang: textLang, Paragraphs: paras})
}

// ---- JSON API.

// View is the branding as the API shows it.
type View struct {
	Version      int         `json:"version"`
	DisplayName  string      `json:"display_name"`
	Claim        tenant.Text `json:"claim"`
	PrimaryColor string      `json:"primary_color"`
	AccentColor  string      `json:"accent_color"`
	TextContrast Ratio       `json:"text_contrast"` // white on the primary colour
	MinContrast  Ratio       `json:"min_contrast"`
	LogoType     string      `json:"logo_type"` // svg, png or ""
	LogoURL      string      `json:"logo_url,omitempty"`
	ImprintURL   string      `json:"imprint_url"`
	PrivacyURL   string      `json:"privacy_url"`
	ImprintText  tenant.Text `json:"imprint_text"`
	PrivacyText  tenant.Text `json:"privacy_text"`
}

func viewOf(t *tenant.Tenant) View {
	b := t.Rules.Branding
	v := View{Version: t.RulesVersion, DisplayName: b.DisplayName, Claim: b.Claim, PrimaryColor: b.PrimaryColor, AccentColor: b.AccentColor,
		MinContrast: Ratio(tenant.MinTextContrast), ImprintURL: b.ImprintURL, PrivacyURL: b.PrivacyURL,
		ImprintText: b.ImprintText, PrivacyText: b.PrivacyText}
	v.TextContrast, _ = TextContrast(b.PrimaryColor)
	switch {
	case b.LogoSVG != "":
		v.LogoType = "svg"
	case len(b.LogoPNG) > 0:
		v.LogoType = "png"
	}
	v.LogoURL = portal.Site(t, "de").LogoURL
	for _, p := range []*tenant.Text{&v.Claim, &v.ImprintText, &v.PrivacyText} {
		if *p == nil {
			*p = tenant.Text{}
		}
	}
	return v
}

// APIGet handles GET /api/v1/staff/branding.
func (h *Handler) APIGet(c *fiber.Ctx) error {
	return c.JSON(viewOf(tenant.FromFiber(c)))
}

// body is the editor's input as JSON: the whole branding (read it with GET first).
type body struct {
	BaseVersion  int         `json:"base_version"`
	Reason       string      `json:"reason"`
	DisplayName  string      `json:"display_name"`
	Claim        tenant.Text `json:"claim"`
	PrimaryColor string      `json:"primary_color"`
	AccentColor  string      `json:"accent_color"`
	ImprintURL   string      `json:"imprint_url"`
	PrivacyURL   string      `json:"privacy_url"`
	ImprintText  tenant.Text `json:"imprint_text"`
	PrivacyText  tenant.Text `json:"privacy_text"`
	LogoBase64   string      `json:"logo_base64"` // a new SVG or PNG logo; empty keeps the current one
	RemoveLogo   bool        `json:"remove_logo"`
}

func (b body) input() (Input, error) {
	in := Input{Base: b.BaseVersion, Reason: b.Reason, DisplayName: b.DisplayName, Claim: b.Claim, PrimaryColor: b.PrimaryColor,
		AccentColor: b.AccentColor, ImprintURL: b.ImprintURL, PrivacyURL: b.PrivacyURL, ImprintText: b.ImprintText,
		PrivacyText: b.PrivacyText, RemoveLogo: b.RemoveLogo}
	if b.LogoBase64 != "" {
		if len(b.LogoBase64) > base64.StdEncoding.EncodedLen(MaxUpload) {
			return in, apperr.Invalid("logo", "logo_too_large", map[string]any{"max_kb": MaxUpload >> 10})
		}
		raw, err := base64.StdEncoding.DecodeString(b.LogoBase64)
		if err != nil {
			return in, apperr.Invalid("logo", "logo_unsupported", nil)
		}
		in.Logo = raw
	}
	return in, nil
}

// APIPreview handles POST /api/v1/staff/branding/preview: the branding that saving would
// give, with its contrast; nothing is stored.
func (h *Handler) APIPreview(c *fiber.Ctx) error {
	var b body
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	in, err := b.input()
	if err != nil {
		return err
	}
	pt, err := h.s.Preview(auth.CallerOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(viewOf(pt))
}

// APISave handles PUT /api/v1/staff/branding: a new rules version.
func (h *Handler) APISave(c *fiber.Ctx) error {
	var b body
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	in, err := b.input()
	if err != nil {
		return err
	}
	version, r, err := h.s.Save(c.UserContext(), auth.CallerOf(c), in)
	if err != nil {
		return err
	}
	t := *tenant.FromFiber(c)
	t.Rules, t.RulesVersion = r, version
	return c.JSON(viewOf(&t))
}
