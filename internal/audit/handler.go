package audit

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// Handler serves the audit log to tenant admins: the page (/staff/audit) and the API
// (/api/v1/staff/audit).
type Handler struct {
	s     *Service
	forms view.Forms
}

// NewHandler returns the audit log handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// auditPage is how many entries one page of the audit log shows.
const auditPage = 50

// auditData is the audit log page.
type auditData struct {
	Entries   []Entry
	NextURL   string // the next (older) page with the same filter
	NewestURL string // the first (newest) page with the same filter, when this is not it
}

// FilterFrom reads the audit filter from the query string; bad values are refused
// with their field.
func FilterFrom(c *fiber.Ctx) (Filter, error) {
	f := Filter{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action")),
		Object: strings.TrimSpace(c.Query("object")), Before: c.Query("before")}
	var errs apperr.List
	if len(f.Actor) > 254 || len(f.Action) > 100 || len(f.Object) > 100 {
		errs = append(errs, apperr.Invalid("actor", "field_too_long", map[string]any{"max": 254}))
	}
	if v := strings.TrimSpace(c.Query("child")); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			errs = append(errs, apperr.Invalid("child", "id_invalid", nil))
		}
		f.Child = id
	}
	for _, d := range []struct {
		field string
		to    *date.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.Query(d.field); v != "" {
			parsed, err := date.Parse(v)
			if err != nil {
				errs = append(errs, apperr.Invalid(d.field, "date_invalid", nil))
			}
			*d.to = parsed
		}
	}
	return f, errs.Err()
}

// Audit shows the audit log with filters.
func (h *Handler) Audit(c *fiber.Ctx) error {
	form := view.NewForm(map[string]string{"actor": c.Query("actor"), "action": c.Query("action"), "child": c.Query("child"),
		"object": c.Query("object"), "from": c.Query("from"), "to": c.Query("to")})
	f, err := FilterFrom(c)
	if err != nil {
		return h.forms.Failed(c, err, "staff_audit", "staff.audit.title", form, auditData{})
	}
	// A page of at most 50 entries (List's default), each capped (Filter.Brief).
	f.Limit, f.Brief = auditPage, true
	entries, next, err := h.s.AuditLog(c.UserContext(), auth.CallerOf(c), f)
	if err != nil {
		return err
	}
	d := auditData{Entries: entries}
	pageURL := func(before string) string {
		q := url.Values{}
		for k, v := range form.Values {
			if v != "" {
				q.Set(k, v)
			}
		}
		if before != "" {
			q.Set("before", before)
		}
		if len(q) == 0 {
			return "/staff/audit"
		}
		return "/staff/audit?" + q.Encode()
	}
	if next != "" {
		d.NextURL = pageURL(next)
	}
	if f.Before != "" {
		d.NewestURL = pageURL("")
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_audit", "staff.audit.title", form, d)
}

// APIAudit handles GET /api/v1/staff/audit (filters as query: actor, action, child,
// object, from, to, before).
func (h *Handler) APIAudit(c *fiber.Ctx) error {
	f, err := FilterFrom(c)
	if err != nil {
		return err
	}
	entries, next, err := h.s.AuditLog(c.UserContext(), auth.CallerOf(c), f)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": httpserver.List(entries), "next": next})
}
