package family

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// Handler serves the family pages (/family) and the family API (/api/v1/family,
// /api/v1/children).
type Handler struct {
	s     *Service
	views *view.Renderer
	forms view.Forms
}

// NewHandler returns the family handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, views: views, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// pageData is the family page.
type pageData struct {
	Family   *Family
	Rules    any
	Before   bool // the city registers children before birth
	HasOther bool // a second guardian is entered
}

const familyPage, familyTitle = "family", "family.title"

// Page shows the family: address and guardians, children, invitation and linking code.
func (h *Handler) Page(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	f, err := h.s.Mine(c.UserContext(), call)
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, familyPage, familyTitle, formOf(f, call.Principal), h.data(call, f))
}

func (h *Handler) data(call auth.Caller, f *Family) pageData {
	d := pageData{Family: f, Before: call.Tenant.Rules.Registration.BeforeBirth}
	if f != nil {
		d.HasOther = len(f.Guardians) > 1
	}
	return d
}

// formOf fills the family form from the stored family, or from the account's names.
func formOf(f *Family, p *auth.Principal) *view.Form {
	v := map[string]string{"guardians.0.first_name": p.FirstName, "guardians.0.last_name": p.LastName, "guardians.0.email": p.Email}
	if f != nil {
		v["street"], v["house_number"], v["plz"], v["city"] = f.Street, f.HouseNumber, f.PLZ, f.City
		for i, g := range orderedGuardians(f, p.ID) {
			prefix := guardianPrefix(i)
			v[prefix+"first_name"], v[prefix+"last_name"], v[prefix+"email"], v[prefix+"phone"] = g.FirstName, g.LastName, g.Email, g.Phone
		}
	}
	return view.NewForm(v)
}

// orderedGuardians puts the caller first.
func orderedGuardians(f *Family, me uuid.UUID) []Guardian {
	var out []Guardian
	for _, g := range f.Guardians {
		if g.AccountID != nil && *g.AccountID == me {
			out = append([]Guardian{g}, out...)
		} else {
			out = append(out, g)
		}
	}
	if len(out) > MaxGuardians {
		out = out[:MaxGuardians]
	}
	return out
}

func inputOf(c *fiber.Ctx) Input {
	in := Input{Address: AddressInput{Street: c.FormValue("street"), HouseNumber: c.FormValue("house_number"),
		PLZ: c.FormValue("plz"), City: c.FormValue("city")}}
	for i := 0; i < MaxGuardians; i++ {
		prefix := guardianPrefix(i)
		g := GuardianInput{FirstName: c.FormValue(prefix + "first_name"), LastName: c.FormValue(prefix + "last_name"),
			Email: c.FormValue(prefix + "email"), Phone: c.FormValue(prefix + "phone")}
		if i > 0 && g == (GuardianInput{}) {
			continue // no second guardian
		}
		in.Guardians = append(in.Guardians, g)
	}
	return in
}

var familyFields = []string{"street", "house_number", "plz", "city",
	"guardians.0.first_name", "guardians.0.last_name", "guardians.0.email", "guardians.0.phone",
	"guardians.1.first_name", "guardians.1.last_name", "guardians.1.email", "guardians.1.phone"}

// Save stores address and guardians.
func (h *Handler) Save(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	if _, err := h.s.Save(c.UserContext(), call, inputOf(c)); err != nil {
		f, _ := h.s.Mine(c.UserContext(), call)
		return h.forms.Failed(c, err, familyPage, familyTitle, view.NewForm(httpserver.FormValues(c, familyFields...)), h.data(call, f))
	}
	return c.Redirect("/family?done=family_saved", fiber.StatusSeeOther)
}

var childFields = []string{"first_name", "last_name", "birth_date", "expected_birth_date", "special_needs", "special_needs_consent"}

func childInputOf(c *fiber.Ctx) ChildInput {
	return ChildInput{FirstName: c.FormValue("first_name"), LastName: c.FormValue("last_name"), BirthDate: c.FormValue("birth_date"),
		ExpectedBirthDate: c.FormValue("expected_birth_date"), SpecialNeeds: c.FormValue("special_needs"),
		SpecialNeedsConsent: c.FormValue("special_needs_consent") == "yes"}
}

// childData is the child form page.
type childData struct {
	Child  *Child
	Before bool
}

// NewChildForm shows the form for another child.
func (h *Handler) NewChildForm(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	return h.forms.Show(c, fiber.StatusOK, "family_child", "family.child.new", view.NewForm(map[string]string{"last_name": call.Principal.LastName}),
		childData{Before: call.Tenant.Rules.Registration.BeforeBirth})
}

// AddChild adds a child.
func (h *Handler) AddChild(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	ch, err := h.s.AddChild(c.UserContext(), call, childInputOf(c))
	if err != nil {
		return h.forms.Failed(c, err, "family_child", "family.child.new", view.NewForm(httpserver.FormValues(c, childFields...)), childData{Before: call.Tenant.Rules.Registration.BeforeBirth})
	}
	return c.Redirect("/applications/new?child="+ch.ID.String()+"&done=child_added", fiber.StatusSeeOther)
}

// ChildForm shows a child's details for editing.
func (h *Handler) ChildForm(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	ch, err := h.child(c, call)
	if err != nil {
		return err
	}
	v := map[string]string{"first_name": ch.FirstName, "last_name": ch.LastName, "special_needs": ch.SpecialNeeds}
	if ch.BirthDate != nil {
		v["birth_date"] = ch.BirthDate.String()
	}
	if ch.ExpectedBirthDate != nil {
		v["expected_birth_date"] = ch.ExpectedBirthDate.String()
	}
	if ch.ConsentAt != nil {
		v["special_needs_consent"] = "yes"
	}
	return h.forms.Show(c, fiber.StatusOK, "family_child", "family.child.edit", view.NewForm(v),
		childData{Child: ch, Before: call.Tenant.Rules.Registration.BeforeBirth})
}

func (h *Handler) child(c *fiber.Ctx, call auth.Caller) (*Child, error) {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return nil, err
	}
	f, err := h.s.Mine(c.UserContext(), call)
	if err != nil {
		return nil, err
	}
	if f != nil {
		for i := range f.Children {
			if f.Children[i].ID == id {
				return &f.Children[i], nil
			}
		}
	}
	return nil, ErrNotFound
}

// UpdateChild saves a child's details.
func (h *Handler) UpdateChild(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	ch, err := h.child(c, call)
	if err != nil {
		return err
	}
	if _, err := h.s.UpdateChild(c.UserContext(), call, ch.ID, childInputOf(c)); err != nil {
		return h.forms.Failed(c, err, "family_child", "family.child.edit", view.NewForm(httpserver.FormValues(c, childFields...)),
			childData{Child: ch, Before: call.Tenant.Rules.Registration.BeforeBirth})
	}
	return c.Redirect("/family?done=child_saved", fiber.StatusSeeOther)
}

// Invite mails the second guardian a linking code.
func (h *Handler) Invite(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	if err := h.s.InviteGuardian(c.UserContext(), call, c.FormValue("invite_email")); err != nil {
		f, _ := h.s.Mine(c.UserContext(), call)
		form := formOf(f, call.Principal)
		form.Values["invite_email"] = c.FormValue("invite_email")
		if e, ok := apperr.As(err); ok && e.Field == "email" {
			err = e.WithField("invite_email")
		}
		return h.forms.Failed(c, err, familyPage, familyTitle, form, h.data(call, f))
	}
	return c.Redirect("/family?done=guardian_invited", fiber.StatusSeeOther)
}

// LinkForm asks for a linking code.
func (h *Handler) LinkForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "family_link", "family.link.title", view.NewForm(map[string]string{"code": c.Query("code")}), nil)
}

// Link takes a family over (or joins it) with a code.
func (h *Handler) Link(c *fiber.Ctx) error {
	if _, err := h.s.Link(c.UserContext(), auth.CallerOf(c), c.FormValue("code")); err != nil {
		return h.forms.Failed(c, err, "family_link", "family.link.title", view.NewForm(httpserver.FormValues(c, "code")), nil)
	}
	return c.Redirect("/family?done=family_linked", fiber.StatusSeeOther)
}

// The family API (API.md): PUT/GET /api/v1/family, POST/GET /api/v1/children.

// APIGet answers GET /api/v1/family; 404 before the family was entered.
func (h *Handler) APIGet(c *fiber.Ctx) error {
	f, err := h.s.Mine(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	if f == nil {
		return apperr.NotFound("family_not_entered")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(f)
}

// APIPut answers PUT /api/v1/family.
func (h *Handler) APIPut(c *fiber.Ctx) error {
	var in Input
	if err := httpserver.DecodeJSON(c, &in); err != nil {
		return err
	}
	f, err := h.s.Save(c.UserContext(), auth.CallerOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(f)
}

// APIChildren answers GET /api/v1/children.
func (h *Handler) APIChildren(c *fiber.Ctx) error {
	f, err := h.s.Mine(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	items := []Child{}
	if f != nil {
		items = f.Children
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": items})
}

// APIAddChild answers POST /api/v1/children: 201 with the child.
func (h *Handler) APIAddChild(c *fiber.Ctx) error {
	var in ChildInput
	if err := httpserver.DecodeJSON(c, &in); err != nil {
		return err
	}
	ch, err := h.s.AddChild(c.UserContext(), auth.CallerOf(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(ch)
}

// APIUpdateChild answers PATCH /api/v1/children/{id} (the whole child is sent).
func (h *Handler) APIUpdateChild(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var in ChildInput
	if err := httpserver.DecodeJSON(c, &in); err != nil {
		return err
	}
	ch, err := h.s.UpdateChild(c.UserContext(), auth.CallerOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(ch)
}

// APIInvite answers POST /api/v1/family/invitations {email}.
func (h *Handler) APIInvite(c *fiber.Ctx) error {
	var b struct {
		Email string `json:"email"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.InviteGuardian(c.UserContext(), auth.CallerOf(c), b.Email); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "invitation_sent"})
}

// APILink answers POST /api/v1/family/link {code}.
func (h *Handler) APILink(c *fiber.Ctx) error {
	var b struct {
		Code string `json:"code"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	f, err := h.s.Link(c.UserContext(), auth.CallerOf(c), b.Code)
	if err != nil {
		return err
	}
	return c.JSON(f)
}
