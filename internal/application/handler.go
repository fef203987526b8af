package application

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/care"
	"kitaportal/internal/favourite"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// Handler serves the parents' application pages and API, and the staff's request
// pages (staff_handler.go).
type Handler struct {
	s     *Service
	views *view.Renderer
	forms view.Forms
	lists *favourite.Lists
}

// NewHandler returns the application handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator, lists *favourite.Lists) *Handler {
	return &Handler{s: s, views: views, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}, lists: lists}
}

// FormData is the application form: the options, the city's rules and, when editing,
// the application (staff fill the same form in for a walk-in).
type FormData struct {
	Options     *FormOptions
	Rules       *tenant.Rules
	Application *Application
	KitaSlots   []int // indexes of the choice selects
	ExtraSlots  []int // Kindertagespflege on top (where the city allows it)
	Criteria    []tenant.Criterion
	Outlook     *Outlook // a waiting request's "what happens next" (outlook.go)
}

func (h *Handler) formData(c *fiber.Ctx, a *Application) (*FormData, error) {
	call := auth.CallerOf(c)
	favs, _ := h.lists.Get(c)
	opts, err := h.s.Options(c.UserContext(), call, favs)
	if err != nil {
		return nil, err
	}
	r := call.Tenant.Rules
	d := &FormData{Options: opts, Rules: r, Application: a, Criteria: r.Criteria.Catalogue}
	for i := 0; i < r.Registration.MaxChoices; i++ {
		d.KitaSlots = append(d.KitaSlots, i)
	}
	if r.Registration.TagespflegeExtraChoice {
		for i := 0; i < r.Registration.MaxChoices; i++ {
			d.ExtraSlots = append(d.ExtraSlots, r.Registration.MaxChoices+i)
		}
	}
	return d, nil
}

// InputOf reads the form: child, start, scope, the choice selects in order (empty ones
// skipped), criteria and the declaration.
func InputOf(c *fiber.Ctx, r *tenant.Rules) (Input, error) {
	in := Input{StartDate: strings.TrimSpace(c.FormValue("start_date")), Criteria: map[string]string{},
		Declared: c.FormValue("declaration") == "yes"}
	if s := c.FormValue("child_id"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			id = uuid.Nil // the service answers "unknown child"
		}
		in.ChildID = id
	}
	in.CareHours, _ = strconv.Atoi(c.FormValue("care_hours"))
	for i := 0; i < 2*MaxChoicesInput; i++ {
		v := c.FormValue("choice." + strconv.Itoa(i))
		if v == "" {
			continue
		}
		id, err := uuid.Parse(v)
		if err != nil {
			id = uuid.New() // unknown: the rules say "choice not found" at its rank
		}
		in.Choices = append(in.Choices, id)
	}
	for _, cr := range r.Criteria.Catalogue {
		v := c.FormValue("criteria." + cr.Key)
		switch {
		case isFacilityCriterion(cr) && strings.TrimSpace(v) != "":
			in.Criteria[cr.Key] = strings.TrimSpace(v) // the chosen facility it is claimed for
		case cr.Kind == "text" && strings.TrimSpace(v) != "":
			in.Criteria[cr.Key] = v
		case cr.Kind != "text" && v == FlagYes:
			in.Criteria[cr.Key] = FlagYes
		}
	}
	return in, nil
}

// formOf fills the form from an application.
func formOf(a *Application, rules *tenant.Rules) *view.Form {
	v := map[string]string{"child_id": a.ChildID.String(), "start_date": a.StartDate.String(), "care_hours": strconv.Itoa(a.CareHours)}
	kita, extra := 0, rules.Registration.MaxChoices
	for _, ch := range a.Choices {
		slot := kita
		if rules.Registration.TagespflegeExtraChoice && care.IsTagespflege(ch.Facility.Type) {
			slot, extra = extra, extra+1
		} else {
			kita++
		}
		v["choice."+strconv.Itoa(slot)] = ch.Facility.ID.String()
	}
	for k, val := range a.Criteria {
		v["criteria."+k] = val
	}
	if a.DeclaredAt != nil {
		v["declaration"] = "yes"
	}
	return view.NewForm(v)
}

// List shows the family's applications.
func (h *Handler) List(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	apps, err := h.s.List(c.UserContext(), call)
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "applications", "application.list.title", nil, apps)
}

// NewForm shows the empty form; ?child= and ?facility= preselect (the profile's
// "request a place here").
func (h *Handler) NewForm(c *fiber.Ctx) error {
	d, err := h.formData(c, nil)
	if err != nil {
		return err
	}
	if d.Options.Family == nil || !d.Options.Family.HasAddress() {
		return c.Redirect("/family?done=family_first", fiber.StatusSeeOther)
	}
	v := map[string]string{"child_id": c.Query("child")}
	if len(d.Options.Family.Children) == 1 {
		v["child_id"] = d.Options.Family.Children[0].ID.String()
	}
	if f := c.Query("facility"); f != "" {
		slot := 0
		for _, o := range d.Options.Facilities {
			if o.ID.String() == f && o.Tagespflege && d.Rules.Registration.TagespflegeExtraChoice {
				slot = d.Rules.Registration.MaxChoices
			}
		}
		v["choice."+strconv.Itoa(slot)] = f
	}
	return h.forms.Show(c, fiber.StatusOK, "application_form", "application.new.title", view.NewForm(v), d)
}

// Create saves a draft, and submits it when the family pressed "submit".
func (h *Handler) Create(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	in, _ := InputOf(c, call.Tenant.Rules)
	a, err := h.s.Create(c.UserContext(), call, in, false)
	if err == nil && c.FormValue("action") == "submit" {
		if _, err = h.s.Submit(c.UserContext(), call, a.ID); err != nil {
			// The draft is saved; its page shows what stops the submission.
			return h.showApplication(c, a.ID, err)
		}
		return c.Redirect("/applications/"+a.ID.String()+"?done=submitted", fiber.StatusSeeOther)
	}
	if err != nil {
		d, derr := h.formData(c, nil)
		if derr != nil {
			return derr
		}
		return h.forms.Failed(c, err, "application_form", "application.new.title", view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), d)
	}
	return c.Redirect("/applications/"+a.ID.String()+"?done=draft_saved", fiber.StatusSeeOther)
}

// Show is the status page: details, choices, history, and the forms that apply.
func (h *Handler) Show(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	return h.showApplication(c, id, nil)
}

func (h *Handler) showApplication(c *fiber.Ctx, id uuid.UUID, failure error) error {
	call := auth.CallerOf(c)
	a, err := h.s.Get(c.UserContext(), call, id)
	if err != nil {
		return err
	}
	d, err := h.formData(c, a)
	if err != nil {
		return err
	}
	d.Outlook = OutlookOf(call.Tenant.Rules, a, h.s.Today())
	form := formOf(a, call.Tenant.Rules)
	if failure != nil {
		if c.Method() == fiber.MethodPost && strings.HasSuffix(c.Path(), id.String()) {
			form = view.NewForm(httpserver.PostedValues(c, auth.CSRFField))
		}
		return h.forms.Failed(c, failure, "application", "application.show.title", form, d)
	}
	return h.forms.Show(c, fiber.StatusOK, "application", "application.show.title", form, d)
}

// Update saves changes of an editable application.
func (h *Handler) Update(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	in, _ := InputOf(c, call.Tenant.Rules)
	if _, err := h.s.Update(c.UserContext(), call, id, in); err != nil {
		return h.showApplication(c, id, err)
	}
	if c.FormValue("action") == "submit" {
		return h.Submit(c)
	}
	return c.Redirect("/applications/"+id.String()+"?done=saved", fiber.StatusSeeOther)
}

// Submit files the draft.
func (h *Handler) Submit(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.s.Submit(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return h.showApplication(c, id, err)
	}
	return c.Redirect("/applications/"+id.String()+"?done=submitted", fiber.StatusSeeOther)
}

// Withdraw takes the request back.
func (h *Handler) Withdraw(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.s.Withdraw(c.UserContext(), auth.CallerOf(c), id, c.FormValue("reason")); err != nil {
		return h.showApplication(c, id, err)
	}
	return c.Redirect("/applications/"+id.String()+"?done=withdrawn", fiber.StatusSeeOther)
}
