package view

import (
	"sync"

	"github.com/gofiber/fiber/v2"
)

// LocalViewer is set by the session middleware for a signed-in visitor (a *Viewer); such
// pages are personal and never shared.
const LocalViewer = "viewer"

// Viewer is the signed-in person a page is rendered for, as the layout shows them.
type Viewer struct {
	Name      string
	Kind      string // parent, staff, support, operator
	HomeURL   string // their own start page
	LogoutURL string // the sign-out form's action
}

// sharedPages keeps rendered pages that every anonymous visitor gets alike (a city's home
// page). Rendering html/template costs far more than serving bytes; keys carry everything
// the page depends on, so a changed input is simply a different key.
type sharedPages struct {
	mu    sync.RWMutex
	pages map[string][]byte
}

const maxSharedPages = 2000 // a few per tenant and language; cleared when full

func (s *sharedPages) get(key string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.pages[key]
	return b, ok
}

func (s *sharedPages) put(key string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pages == nil || len(s.pages) >= maxSharedPages {
		s.pages = map[string][]byte{}
	}
	s.pages[key] = body
}

// shareable tells whether the response may be served to anyone asking the same thing:
// a plain GET without query, viewer or form token.
func shareable(c *fiber.Ctx) bool {
	return (c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead) &&
		len(c.Request().URI().QueryString()) == 0 &&
		c.Locals(LocalViewer) == nil && c.Locals(LocalCSRF) == nil
}

// RenderShared renders page like RenderPage, but reuses the bytes of an earlier
// rendering with the same key, language and path when the request is shareable. key must
// identify every input of the page besides language and path (tenant, rules version,
// data generation). build fills the page data on a miss.
func (r *Renderer) RenderShared(c *fiber.Ctx, key, page string, build func(p *Page)) error {
	if !shareable(c) {
		p := r.NewPage(c, "", nil)
		build(p)
		return r.RenderPage(c, fiber.StatusOK, page, p)
	}
	lang, _ := c.Locals(LocalLang).(string)
	full := key + "|" + lang + "|" + page + "|" + c.Path()
	if body, ok := r.shared.get(full); ok {
		c.Response().Header.SetContentType(fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderContentLanguage, lang)
		c.Response().SetBodyRaw(body) // never modified once stored
		return nil
	}
	p := r.NewPage(c, "", nil)
	build(p)
	if err := r.RenderPage(c, fiber.StatusOK, page, p); err != nil {
		return err
	}
	r.shared.put(full, append([]byte(nil), c.Response().Body()...))
	return nil
}
