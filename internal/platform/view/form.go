package view

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/i18n"
)

// Form is what a form page needs besides its data: what the person typed so far (never
// passwords) and the problems per field, already in the page's language. An invalid form
// is shown again with everything kept, an error summary on top and each message next to
// its field.
type Form struct {
	Values map[string]string
	Errors map[string]string
	Order  []string // fields in the order of their errors, for the summary
}

// NewForm starts a form with the given values.
func NewForm(values map[string]string) *Form {
	if values == nil {
		values = map[string]string{}
	}
	return &Form{Values: values, Errors: map[string]string{}}
}

// Fail records a message for field (the first one per field wins).
func (f *Form) Fail(field, message string) {
	if _, dup := f.Errors[field]; dup {
		return
	}
	f.Errors[field] = message
	f.Order = append(f.Order, field)
}

// HasErrors tells whether any field failed.
func (f *Form) HasErrors() bool { return f != nil && len(f.Errors) > 0 }

// FieldError is one entry of the error summary.
type FieldError struct {
	Field   string
	Message string
}

// Summary lists the errors in order.
func (f *Form) Summary() []FieldError {
	out := make([]FieldError, 0, len(f.Order))
	for _, k := range f.Order {
		out = append(out, FieldError{k, f.Errors[k]})
	}
	return out
}

// Absorb records the field errors in err (an *apperr.Error with a field or an
// apperr.List), translated for p. It returns false when err is not about fields, so the
// caller passes it on to the error handler.
func (p *Page) Absorb(f *Form, err error) bool {
	var list apperr.List
	if errors.As(err, &list) {
		for _, e := range list {
			f.Fail(fieldOr(e.Field), p.r.cat.T(p.Lang, "error."+e.Code, e.Args))
		}
		return len(list) > 0
	}
	if e, ok := apperr.As(err); ok && (e.Field != "" || e.Kind == apperr.KindInvalid || e.Kind == apperr.KindTooMany ||
		e.Kind == apperr.KindUnauthenticated || e.Kind == apperr.KindConflict || e.Code == "csrf_failed") {
		f.Fail(fieldOr(e.Field), p.r.cat.T(p.Lang, "error."+e.Code, e.Args))
		return true
	}
	return false
}

func fieldOr(field string) string {
	if field == "" {
		return "form"
	}
	return field
}

// FieldView is what the "field" partial renders.
type FieldView struct {
	Name, Label, Type, Auto, Value, Err, Hint string
	Required                                  bool
	Max                                       string
	Options                                   []Option // for Type "select"
}

// Option is one choice of a select field.
type Option struct {
	Value, Label string
	Selected     bool
}

// Field describes an input of the page's form: name, label key, input type and the
// autocomplete token. opts: "required", "hint=<key>", "max=<n>".
func (p *Page) Field(name, labelKey, typ, auto string, opts ...string) FieldView {
	v := FieldView{Name: name, Label: p.T(labelKey), Type: typ, Auto: auto}
	if p.Form != nil {
		if typ != "password" {
			v.Value = p.Form.Values[name]
		}
		v.Err = p.Form.Errors[name]
	}
	for _, o := range opts {
		switch {
		case o == "required":
			v.Required = true
		case strings.HasPrefix(o, "hint="):
			v.Hint = p.T(strings.TrimPrefix(o, "hint="))
		case strings.HasPrefix(o, "max="):
			v.Max = strings.TrimPrefix(o, "max=")
		}
	}
	return v
}

// Select is Field for a choice; options alternate value and label key.
func (p *Page) Select(name, labelKey string, options ...string) FieldView {
	v := p.Field(name, labelKey, "select", "off")
	for i := 0; i+1 < len(options); i += 2 {
		v.Options = append(v.Options, Option{Value: options[i], Label: p.T(options[i+1]), Selected: v.Value == options[i]})
	}
	return v
}

// A redirect may ask the next page to show a confirmation (?done=<key>): the text
// "notice.<key>" of the catalogue. Only keys the catalogue has are shown, so the query
// cannot put words on a page.
func (r *Renderer) notice(lang, done string) string {
	if done == "" || !r.cat.Has(i18n.Default, "notice."+done) {
		return ""
	}
	return r.cat.T(lang, "notice."+done, nil)
}

// FormPage renders a page that has a form: csrf is the form token, f what was typed so
// far (nil: an empty form). Such pages are personal and never cached.
func (r *Renderer) FormPage(c *fiber.Ctx, status int, page, titleKey, csrf string, f *Form, data any) error {
	p := r.NewPage(c, "", data)
	p.CSRF = csrf
	p.Title = p.T(titleKey)
	if f == nil {
		f = NewForm(nil)
	}
	p.Form = f
	p.Notice = r.notice(p.Lang, c.Query("done"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return r.RenderPage(c, status, page, p)
}

// FormFailed shows a form again with the problems of err next to its fields (status by
// the error's kind), or returns err when it is not about the form.
func (r *Renderer) FormFailed(c *fiber.Ctx, err error, page, titleKey, csrf string, f *Form, data any) error {
	p := r.NewPage(c, "", data)
	if !p.Absorb(f, err) {
		return err
	}
	status := fiber.StatusUnprocessableEntity
	if e, ok := apperr.As(err); ok {
		switch e.Kind {
		case apperr.KindTooMany:
			status = fiber.StatusTooManyRequests
			if ra, ok := e.Details["retry_after_seconds"].(int); ok {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(ra))
			}
		case apperr.KindUnauthenticated:
			status = fiber.StatusUnauthorized
		case apperr.KindForbidden:
			status = fiber.StatusForbidden
		case apperr.KindNotFound:
			status = fiber.StatusNotFound
		case apperr.KindConflict:
			status = fiber.StatusConflict
		}
	}
	return r.FormPage(c, status, page, titleKey, csrf, f, data)
}

// Forms renders the form pages of one handler: CSRF gives the page's form token.
type Forms struct {
	Views *Renderer
	CSRF  func(*fiber.Ctx) string
}

// Show renders a form page (see FormPage).
func (f Forms) Show(c *fiber.Ctx, status int, page, titleKey string, form *Form, data any) error {
	return f.Views.FormPage(c, status, page, titleKey, f.CSRF(c), form, data)
}

// Failed shows a form again with the problems of err (see FormFailed).
func (f Forms) Failed(c *fiber.Ctx, err error, page, titleKey string, form *Form, data any) error {
	return f.Views.FormFailed(c, err, page, titleKey, f.CSRF(c), form, data)
}
