package application

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/care"
	"kitaportal/internal/favourite"
	"kitaportal/internal/platform/date"
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
	// Shortlist is the parent's new request: the wishes brought from the search as an
	// ordered list (shortlist.go); nil on the other forms, which show the plain selects.
	Shortlist *Shortlist
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

// NewForm shows the new request. From the search (results or Merkliste) it carries
// ?facility=… (in the family's order), birth_date, start_date, care_hours and the
// search's place (lat, lon): the wishes come as the ordered list, and the child with
// that birth date is preselected. ?child= preselects a child, a single ?facility= is the
// profile's "request a place here".
func (h *Handler) NewForm(c *fiber.Ctx) error {
	d, err := h.formData(c, nil)
	if err != nil {
		return err
	}
	if d.Options.Family == nil || !d.Options.Family.HasAddress() {
		return c.Redirect("/family?done=family_first", fiber.StatusSeeOther)
	}
	fam := d.Options.Family
	v := map[string]string{"child_id": c.Query("child")}
	if len(fam.Children) == 1 {
		v["child_id"] = fam.Children[0].ID.String()
	}
	birth, _ := date.Parse(strings.TrimSpace(c.Query("birth_date")))
	if v["child_id"] == "" && !birth.IsZero() {
		for _, ch := range fam.Children {
			if ch.Birth().Equal(birth) {
				v["child_id"] = ch.ID.String()
				break
			}
		}
	}
	if start := strings.TrimSpace(c.Query("start_date")); start != "" {
		if _, err := date.Parse(start); err == nil {
			v["start_date"] = start
		}
	}
	if hours, err := strconv.Atoi(c.Query("care_hours")); err == nil && validScope(d.Rules.CareScopes, hours) {
		v["care_hours"] = strconv.Itoa(hours)
	}
	var raw []string
	for _, b := range c.Context().QueryArgs().PeekMulti("facility") {
		raw = append(raw, string(b))
	}
	ask := h.askOf(c, d, v, raw, birth)
	ask.Origin = originOf(c.Query("lat"), c.Query("lon"))
	if d.Shortlist, err = h.s.Shortlist(c.UserContext(), auth.CallerOf(c), d.Options, ask); err != nil {
		return err
	}
	h.explain(c, d.Shortlist)
	return h.forms.Show(c, fiber.StatusOK, "application_form", "application.new.title", view.NewForm(v), d)
}

// askOf is what the shortlist needs from the form's values v: the child's birth date
// (the chosen child's, else birth from the search), the start and the scope.
func (h *Handler) askOf(c *fiber.Ctx, d *FormData, v map[string]string, raw []string, birth date.Date) ShortlistAsk {
	ask := ShortlistAsk{Lang: langOf(c), Birth: birth}
	ask.Candidates, ask.Ignored = ParseCandidates(raw)
	if id, err := uuid.Parse(v["child_id"]); err == nil && d.Options.Family != nil {
		for _, ch := range d.Options.Family.Children {
			if ch.ID == id {
				ask.Birth = ch.Birth()
			}
		}
	}
	ask.Start, _ = date.Parse(strings.TrimSpace(v["start_date"]))
	if hours, err := strconv.Atoi(v["care_hours"]); err == nil && validScope(d.Rules.CareScopes, hours) {
		ask.CareHours = hours
	}
	return ask
}

// postedAsk reads the shortlist of a posted request form: the choices in the order of
// their fields (as InputOf reads them), then the set-apart facilities (facility), and
// the search's place.
func (h *Handler) postedAsk(c *fiber.Ctx, d *FormData, v map[string]string) ShortlistAsk {
	var raw []string
	fields := map[string]string{}
	n := 0
	for i := 0; i < 2*MaxChoicesInput; i++ {
		val := c.FormValue("choice." + strconv.Itoa(i))
		if val == "" {
			continue
		}
		raw = append(raw, val)
		fields[strings.TrimSpace(val)] = "choices." + strconv.Itoa(n)
		n++
	}
	raw = append(raw, httpserver.PostedList(c, "facility")...)
	ask := h.askOf(c, d, v, raw, date.Date{})
	ask.Fields = map[uuid.UUID]string{}
	for s, f := range fields {
		if id, err := uuid.Parse(s); err == nil {
			ask.Fields[id] = f
		}
	}
	ask.Origin = originOf(c.FormValue("lat"), c.FormValue("lon"))
	return ask
}

// newForm shows the posted new request again: after one of the list's buttons (in the
// new order) or after a refusal (failure), the shortlist drawn from what was posted.
func (h *Handler) newForm(c *fiber.Ctx, failure error) error {
	d, err := h.formData(c, nil)
	if err != nil {
		return err
	}
	v := httpserver.PostedValues(c, auth.CSRFField)
	ask := h.postedAsk(c, d, v)
	move, moving := ParseMove(c.FormValue("move"))
	if moving {
		ask.Move = &move
	}
	if d.Shortlist, err = h.s.Shortlist(c.UserContext(), auth.CallerOf(c), d.Options, ask); err != nil {
		return err
	}
	for k := range v {
		if strings.HasPrefix(k, "choice.") || k == "facility" || k == "move" {
			delete(v, k) // the list is drawn from the shortlist
		}
	}
	if moving {
		d.Shortlist.MovedText = h.movedText(c, d.Shortlist, move)
	}
	h.explain(c, d.Shortlist)
	form := view.NewForm(v)
	if failure != nil {
		return h.forms.Failed(c, failure, "application_form", "application.new.title", form, d)
	}
	return h.forms.Show(c, fiber.StatusOK, "application_form", "application.new.title", form, d)
}

// movedText tells what a button did, for the list's status line.
func (h *Handler) movedText(c *fiber.Ctx, s *Shortlist, m Move) string {
	lang := langOf(c)
	cat := h.views.Catalogue()
	if p, ok := s.Find(m.ID); ok {
		return cat.T(lang, "shortlist.moved", map[string]any{"facility": p.Name, "rank": p.Rank})
	}
	if m.Kind == "remove" {
		return cat.T(lang, "shortlist.removed", nil)
	}
	return ""
}

// explain puts why each set-apart facility cannot be chosen in the reader's words.
func (h *Handler) explain(c *fiber.Ctx, s *Shortlist) {
	lang, cat := langOf(c), h.views.Catalogue()
	for i, p := range s.Unfit {
		if p.Problem != nil {
			s.Unfit[i].Reason = cat.T(lang, "error."+p.Problem.Code, args(p.Problem.Args...))
		}
	}
}

// originOf reads the search's place; nil when it is missing or no place in Germany.
func originOf(lat, lon string) *Point {
	la, err1 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
	lo, err2 := strconv.ParseFloat(strings.TrimSpace(lon), 64)
	if err1 != nil || err2 != nil || la < 47 || la > 55.1 || lo < 5.8 || lo > 15.1 {
		return nil
	}
	return &Point{Lat: la, Lon: lo}
}

func langOf(c *fiber.Ctx) string {
	if l, ok := c.Locals(view.LocalLang).(string); ok && l != "" {
		return l
	}
	return "de"
}

// Create saves a draft, and submits it when the family pressed "submit".
// A button of the shortlist (move: up, down, remove, add) only draws the form again in
// the new order; nothing is saved.
func (h *Handler) Create(c *fiber.Ctx) error {
	if c.FormValue("move") != "" {
		return h.newForm(c, nil)
	}
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
		return h.newForm(c, err)
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
