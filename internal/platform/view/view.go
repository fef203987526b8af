// Package view renders the server-side HTML pages: one layout, one template per page,
// texts from the i18n catalogue, the tenant's branding, static assets with cache-busting
// URLs. It knows nothing about tenants; the request's Site and language come from Locals
// set by earlier middleware.
package view

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/i18n"
)

// Locals keys that middleware fills before handlers render.
const (
	LocalLang = "lang"
	LocalSite = "site"
	LocalCSRF = "csrf"
)

// Site is what the layout needs to know about the portal a page belongs to.
type Site struct {
	Name         string
	Claim        string
	PrimaryColor template.CSS // validated #rrggbb
	AccentColor  template.CSS
	LogoURL      string
	LogoPreview  template.URL // a data: URL of a logo not saved yet (the branding preview); wins over LogoURL
	ThemeURL     string       // per-tenant stylesheet with the brand colours; "" on the vendor surface
	Languages    []string
	ContactName  string
	ContactEmail string
	ContactPhone string
	ImprintURL   string
	PrivacyURL   string
	IsVendor     bool
}

// Page is the data every template sees as ".".
type Page struct {
	Lang   string
	Title  string
	Site   Site
	Path   string // the request's path and query, for the language switch
	CSRF   string
	Viewer *Viewer // nil: anonymous
	Form   *Form   // the page's form state, if it has a form
	Notice string  // a confirmation shown above the content ("Password changed")
	Status int
	Data   any

	r *Renderer
}

// T translates key into the page's language; kv are placeholder name/value pairs.
func (p *Page) T(key string, kv ...any) string {
	var args map[string]any
	if len(kv) > 1 {
		args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			args[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return p.r.cat.T(p.Lang, key, args)
}

// Num formats a whole number the way the page's language writes it: 14.273 in German,
// 14,273 in English.
func (p *Page) Num(n int) string {
	sep := byte('.')
	if p.Lang == "en" {
		sep = ','
	}
	digits := strconv.Itoa(n)
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b []byte
	if neg {
		b = append(b, '-')
	}
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b = append(b, sep)
		}
		b = append(b, digits[i])
	}
	return string(b)
}

// Message words error code with its arguments, as the error handler would (for
// problems listed on a page, e.g. the refused rows of an import).
func (p *Page) Message(code string, args map[string]any) string {
	return p.r.cat.T(p.Lang, "error."+code, args)
}

// Asset is the cache-busted URL of a file in web/static.
func (p *Page) Asset(name string) string { return p.r.assetURL(name) }

// LanguageLink is one entry of the language switch.
type LanguageLink struct {
	Lang    string
	Label   string
	URL     string
	Current bool
}

// LanguageLinks lists the site's languages; each link sets the language and returns to
// the current page, so the switch works without JavaScript.
func (p *Page) LanguageLinks() []LanguageLink {
	out := make([]LanguageLink, 0, len(p.Site.Languages))
	for _, l := range p.Site.Languages {
		out = append(out, LanguageLink{
			Lang:    l,
			Label:   p.r.cat.T(l, "language.name", nil),
			URL:     "/language?lang=" + url.QueryEscape(l) + "&next=" + url.QueryEscape(p.Path),
			Current: l == p.Lang,
		})
	}
	return out
}

// Renderer holds the parsed templates.
type Renderer struct {
	pages  map[string]*template.Template
	cat    *i18n.Catalogue
	assets map[string]string // name → ?v=hash URL
	pool   sync.Pool
	shared sharedPages
}

// New parses templates/layout.html and templates/partials/*.html once, then every
// templates/pages/<name>.html on top of them, and fingerprints static/**.
func New(fsys fs.FS, cat *i18n.Catalogue) (*Renderer, error) {
	r := &Renderer{pages: map[string]*template.Template{}, cat: cat, assets: map[string]string{}}
	r.pool.New = func() any { return new(bytes.Buffer) }
	funcs := template.FuncMap{
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
		"list": func(xs ...string) []string { return xs },
	}
	base := template.New("layout").Funcs(funcs)
	if _, err := base.ParseFS(fsys, "templates/layout.html"); err != nil {
		return nil, fmt.Errorf("view: layout: %w", err)
	}
	if partials, _ := fs.Glob(fsys, "templates/partials/*.html"); len(partials) > 0 {
		if _, err := base.ParseFS(fsys, partials...); err != nil {
			return nil, fmt.Errorf("view: partials: %w", err)
		}
	}
	pages, err := fs.Glob(fsys, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		t, err := template.Must(base.Clone()).ParseFS(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("view: %s: %w", p, err)
		}
		r.pages[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	err = fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(raw)
		name := strings.TrimPrefix(p, "static/")
		r.assets[name] = "/static/" + name + "?v=" + hex.EncodeToString(sum[:6])
		return nil
	})
	return r, err
}

func (r *Renderer) assetURL(name string) string {
	if u, ok := r.assets[name]; ok {
		return u
	}
	return "/static/" + name
}

// Has tells whether a page template exists.
func (r *Renderer) Has(page string) bool {
	_, ok := r.pages[page]
	return ok
}

// Catalogue exposes the messages, for handlers that translate outside a page.
func (r *Renderer) Catalogue() *i18n.Catalogue { return r.cat }

// NewPage builds the page data for the current request from Locals.
func (r *Renderer) NewPage(c *fiber.Ctx, title string, data any) *Page {
	p := &Page{Title: title, Data: data, Path: string(c.Request().URI().RequestURI()), r: r}
	p.Lang, _ = c.Locals(LocalLang).(string)
	if p.Lang == "" {
		p.Lang = i18n.Default
	}
	if s, ok := c.Locals(LocalSite).(*Site); ok {
		p.Site = *s
	}
	p.CSRF, _ = c.Locals(LocalCSRF).(string)
	p.Viewer, _ = c.Locals(LocalViewer).(*Viewer)
	return p
}

// Render writes page with status as the response. Title keys are translated.
func (r *Renderer) Render(c *fiber.Ctx, status int, page, titleKey string, data any) error {
	p := r.NewPage(c, "", data)
	if titleKey != "" {
		p.Title = p.T(titleKey)
	}
	return r.RenderPage(c, status, page, p)
}

// RenderPage writes a prepared page.
func (r *Renderer) RenderPage(c *fiber.Ctx, status int, page string, p *Page) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("view: no page %q", page)
	}
	p.Status = status
	buf := r.pool.Get().(*bytes.Buffer)
	buf.Reset()
	defer r.pool.Put(buf)
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("view: render %s: %w", page, err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentLanguage, p.Lang)
	c.Response().SetBody(buf.Bytes()) // copies: the buffer goes back to the pool
	return nil
}

// Day writes a calendar day the way the page's language does: 04.03.2022 in German,
// 4 Mar 2022 in English. The zero date is empty.
func (p *Page) Day(d date.Date) string {
	return d.FormatIn(p.Lang)
}

// Time writes a moment in German time, to the minute and second.
func (p *Page) Time(t time.Time) string {
	t = t.In(clock.Berlin)
	if p.Lang == "de" {
		return t.Format("02.01.2006 15:04:05")
	}
	return t.Format("2 Jan 2006, 15:04:05")
}
