package cityadmin

import (
	"errors"
	"sort"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// Handler serves the rules editor's pages (/staff/rules…) and their JSON twins
// (/api/v1/staff/rules…).
type Handler struct {
	s     *Service
	views *view.Renderer
	forms view.Forms
}

// NewHandler returns the rules editor's handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, views: views, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// formData is the form page.
type formData struct {
	Base     int // the version the form was opened on (hidden field)
	Source   string
	Sections []Section
	Stale    bool // another admin saved meanwhile: the input is kept, the base moved on
	CanEdit  bool
	Problems []problem // the error summary, each problem with the label of its input
}

// problem is one entry of the form's error summary.
type problem struct{ Field, Label, Message string }

// skipped are posted fields that are no rule and never carried on.
var skipped = []string{"_csrf", "_more", "reason"}

// Form shows the version in force as the form.
func (h *Handler) Form(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	cur, err := h.s.Current(c.UserContext(), call)
	if err != nil {
		return err
	}
	v := Encode(cur.Rules)
	v["base"] = strconv.Itoa(cur.Version)
	return h.form(c, fiber.StatusOK, view.NewForm(v), cur, nil, false)
}

// form renders the form with values f (as typed) and the problems of failure.
func (h *Handler) form(c *fiber.Ctx, status int, f *view.Form, cur *InForce, failure error, stale bool) error {
	call := auth.CallerOf(c)
	m := formModel{cat: h.views.Catalogue(), lang: call.Lang, f: f}
	base, _ := strconv.Atoi(f.Values["base"])
	d := formData{Base: base, Source: cur.Source, Stale: stale, CanEdit: true}
	if failure != nil {
		p := h.views.NewPage(c, "", nil)
		if !p.Absorb(f, failure) {
			return failure
		}
	}
	d.Sections = m.sections(cur.Rules)
	for _, e := range f.Summary() {
		pr := problem{Field: e.Field, Message: e.Message}
		if e.Field != "form" {
			pr.Label = m.label(e.Field)
		}
		d.Problems = append(d.Problems, pr)
	}
	return h.forms.Show(c, status, "staff_rules", "rules.title", f, d)
}

// posted is the form as sent.
func posted(c *fiber.Ctx) Values { return Values(httpserver.PostedValues(c, skipped...)) }

// Edit shows the posted form again: "more rows" of a table, or back from the preview.
func (h *Handler) Edit(c *fiber.Ctx) error {
	cur, err := h.s.Current(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	v := posted(c)
	if t := c.FormValue("_more"); t != "" {
		v.More(t)
	}
	return h.form(c, fiber.StatusOK, view.NewForm(v), cur, nil, false)
}

// parsed reads the posted form on top of the version in force.
func (h *Handler) parsed(c *fiber.Ctx) (Values, *InForce, *tenant.Rules, rowIndex, int, error) {
	cur, err := h.s.Current(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return nil, nil, nil, nil, 0, err
	}
	v := posted(c)
	base, err := strconv.Atoi(v["base"])
	if err != nil {
		base = -1 // no base: stale against any version
	}
	r, idx, err := Parse(v, cur.Rules)
	return v, cur, r, idx, base, err
}

// failed shows the form again after err: the problems next to their inputs (422), or a
// stale base (409: the input kept, the base moved to the version in force now).
func (h *Handler) failed(c *fiber.Ctx, v Values, cur *InForce, idx rowIndex, err error) error {
	f := view.NewForm(v)
	if errors.Is(err, ErrStale) {
		if latest, cerr := h.s.Current(c.UserContext(), auth.CallerOf(c)); cerr == nil {
			cur = latest
		}
		v["base"] = strconv.Itoa(cur.Version)
		return h.form(c, fiber.StatusConflict, f, cur, err, true)
	}
	err = classify(err, idx.FormField)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		return err
	}
	return h.form(c, fiber.StatusUnprocessableEntity, f, cur, err, false)
}

// previewData is the preview page.
type previewData struct {
	*Preview
	Hidden []hidden // the form as typed, carried to the save
	Stale  bool
}

type hidden struct{ Name, Value string }

func hiddenOf(v Values) []hidden {
	out := make([]hidden, 0, len(v))
	for k, val := range v {
		if val != "" || k == "base" {
			out = append(out, hidden{k, val})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Preview checks the posted form and shows what saving it would do.
func (h *Handler) Preview(c *fiber.Ctx) error {
	v, cur, r, idx, base, err := h.parsed(c)
	if cur == nil {
		return err
	}
	if err != nil {
		return h.failed(c, v, cur, idx, err)
	}
	p, err := h.s.Preview(c.UserContext(), auth.CallerOf(c), base, r)
	if err != nil {
		return h.failed(c, v, cur, idx, err)
	}
	return h.preview(c, fiber.StatusOK, v, p, nil)
}

func (h *Handler) preview(c *fiber.Ctx, status int, v Values, p *Preview, failure error) error {
	f := view.NewForm(map[string]string{"reason": c.FormValue("reason")})
	d := previewData{Preview: p, Hidden: hiddenOf(v)}
	if failure != nil {
		return h.forms.Failed(c, failure, "staff_rules_preview", "rules.preview.title", f, d)
	}
	return h.forms.Show(c, status, "staff_rules_preview", "rules.preview.title", f, d)
}

// Save writes the posted form as a new version, with its reason.
func (h *Handler) Save(c *fiber.Ctx) error {
	v, cur, r, idx, base, err := h.parsed(c)
	if cur == nil {
		return err
	}
	if err != nil {
		return h.failed(c, v, cur, idx, err)
	}
	call := auth.CallerOf(c)
	if _, err := h.s.Save(c.UserContext(), call, base, r, c.FormValue("reason")); err != nil {
		if errors.Is(err, ErrReason) {
			p, perr := h.s.Preview(c.UserContext(), call, base, r)
			if perr != nil {
				return h.failed(c, v, cur, idx, perr)
			}
			return h.preview(c, 0, v, p, err)
		}
		return h.failed(c, v, cur, idx, err)
	}
	return c.Redirect("/staff/rules?done=rules_saved", fiber.StatusSeeOther)
}

// versionsData is the list of versions.
type versionsData struct {
	Versions []VersionRow
}

// Versions lists every stored version of the city's rules.
func (h *Handler) Versions(c *fiber.Ctx) error {
	vs, err := h.s.Versions(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_rules_versions", "rules.versions.title", nil, versionsData{Versions: vs})
}

// Version shows an earlier version against the one in force, with the restore form.
func (h *Handler) Version(c *fiber.Ctx) error { return h.version(c, 0, nil) }

func (h *Handler) version(c *fiber.Ctx, status int, failure error) error {
	n, err := httpserver.PathNumber(c, "v", 1, 1<<30)
	if err != nil {
		return err
	}
	cmp, err := h.s.Compare(c.UserContext(), auth.CallerOf(c), n)
	if err != nil {
		return err
	}
	f := view.NewForm(map[string]string{"reason": c.FormValue("reason")})
	if failure != nil {
		return h.forms.Failed(c, failure, "staff_rules_version", "rules.version.title", f, cmp)
	}
	if status == 0 {
		status = fiber.StatusOK
	}
	return h.forms.Show(c, status, "staff_rules_version", "rules.version.title", f, cmp)
}

// Restore makes an earlier version the version in force again, as a new version.
func (h *Handler) Restore(c *fiber.Ctx) error {
	n, err := httpserver.PathNumber(c, "v", 1, 1<<30)
	if err != nil {
		return err
	}
	base, err := strconv.Atoi(c.FormValue("base"))
	if err != nil {
		base = -1
	}
	if _, err := h.s.Restore(c.UserContext(), auth.CallerOf(c), n, base, c.FormValue("reason")); err != nil {
		if errors.Is(err, ErrNoVersion) {
			return err
		}
		return h.version(c, 0, classify(err, func(f string) string { return f }))
	}
	return c.Redirect("/staff/rules/versions?done=rules_restored", fiber.StatusSeeOther)
}

// API: the same operations for a tenant admin's bearer token.

// rulesBody is the body of PUT /api/v1/staff/rules and POST …/preview.
type rulesBody struct {
	Rules       *tenant.Rules `json:"rules"`
	BaseVersion *int          `json:"base_version"`
	Reason      string        `json:"reason"`
}

var (
	errNoRules = apperr.Invalid("rules", "rules_body_required", nil)
	errNoBase  = apperr.Invalid("base_version", "rules_base_required", nil)
)

func (b rulesBody) check() error {
	var errs apperr.List
	if b.Rules == nil {
		errs = append(errs, errNoRules)
	}
	if b.BaseVersion == nil {
		errs = append(errs, errNoBase)
	}
	return errs.Err()
}

// apiField names a validator's field as it is in the body.
func apiField(f string) string { return "rules." + f }

// APIGet handles GET /api/v1/staff/rules: the version in force with its rules.
func (h *Handler) APIGet(c *fiber.Ctx) error {
	cur, err := h.s.Current(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(cur)
}

// APIPreview handles POST /api/v1/staff/rules/preview {rules, base_version}: the
// changed fields and what they do to filed requests, nothing saved.
func (h *Handler) APIPreview(c *fiber.Ctx) error {
	var b rulesBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	p, err := h.s.Preview(c.UserContext(), auth.CallerOf(c), *b.BaseVersion, b.Rules)
	if err != nil {
		return classify(err, apiField)
	}
	p.Changes = nonNil(p.Changes)
	return c.JSON(p)
}

// APIPut handles PUT /api/v1/staff/rules {rules, base_version, reason}: a new version
// (201), 409 when base_version is no longer in force, 422 naming every broken field.
func (h *Handler) APIPut(c *fiber.Ctx) error {
	var b rulesBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	v, err := h.s.Save(c.UserContext(), auth.CallerOf(c), *b.BaseVersion, b.Rules, b.Reason)
	if err != nil {
		return classify(err, apiField)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"version": v})
}

// APIVersions handles GET /api/v1/staff/rules/versions.
func (h *Handler) APIVersions(c *fiber.Ctx) error {
	vs, err := h.s.Versions(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": httpserver.List(vs)})
}

// restoreBody is the body of POST /api/v1/staff/rules/versions/{v}/restore.
type restoreBody struct {
	BaseVersion *int   `json:"base_version"`
	Reason      string `json:"reason"`
}

// APIRestore handles POST /api/v1/staff/rules/versions/{v}/restore {base_version,
// reason}: version v again, as a new version (201).
func (h *Handler) APIRestore(c *fiber.Ctx) error {
	n, err := httpserver.PathNumber(c, "v", 1, 1<<30)
	if err != nil {
		return err
	}
	var b restoreBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if b.BaseVersion == nil {
		return errNoBase
	}
	v, err := h.s.Restore(c.UserContext(), auth.CallerOf(c), n, *b.BaseVersion, b.Reason)
	if err != nil {
		return classify(err, apiField)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"version": v, "restored_from": n})
}

func nonNil(cs []Change) []Change {
	if cs == nil {
		return []Change{}
	}
	return cs
}
