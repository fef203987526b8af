package childfile

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// FileHandler serves the child file: to the guardians (/family/children/:id/file,
// /api/v1/children/:id/file…) and to the staff of the child's facility
// (/staff/children/:id/file, /api/v1/staff/children/:id/file…, the emergency sheet).
type FileHandler struct {
	s     *Files
	forms view.Forms
}

// NewFileHandler returns the child file handlers.
func NewFileHandler(s *Files, views *view.Renderer, authn *auth.Authenticator) *FileHandler {
	return &FileHandler{s: s, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// pageRows is how many rows of each person list the form offers.
const pageRows = 4

type filePage struct {
	File    *File
	History []AccessEntry
	Rows    []int
	Sheet   bool   // the emergency sheet was opened
	Action  string // where the contacts form posts to
	PDF     string // where the emergency sheet PDF is posted to (staff)
}

func pageFor(f *File, page string) filePage {
	d := filePage{File: f, Rows: rows()}
	if page == "staff_child_file" {
		d.Action = "/staff/children/" + f.ChildID.String() + "/file/contacts"
		d.PDF = "/staff/children/" + f.ChildID.String() + "/emergency-sheet.pdf"
	} else {
		d.Action = "/family/children/" + f.ChildID.String() + "/file/contacts"
	}
	return d
}

func rows() []int {
	out := make([]int, pageRows)
	for i := range out {
		out[i] = i
	}
	return out
}

func (h *FileHandler) show(c *fiber.Ctx, page string, status int, form *view.Form, sheet bool) error {
	call := auth.CallerOf(c)
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	f, err := h.s.Get(c.UserContext(), call, id)
	if err != nil {
		return err
	}
	d := pageFor(f, page)
	d.Sheet = sheet
	if f.Access == AccessGuardian || f.Access == AccessLead {
		if d.History, err = h.s.History(c.UserContext(), call, id); err != nil {
			return err
		}
	}
	if form == nil {
		form = contactsForm(f)
	}
	return h.forms.Show(c, status, page, "childfile.title", form, d)
}

func contactsForm(f *File) *view.Form {
	form := view.NewForm(map[string]string{})
	put := func(prefix string, ps []Person) {
		for i, p := range ps {
			n := prefix + strconv.Itoa(i)
			form.Values[n+"_name"], form.Values[n+"_relation"], form.Values[n+"_phone"] = p.Name, p.Relation, p.Phone
		}
	}
	put("pickup", f.Pickup)
	put("emergency", f.Emergency)
	return form
}

func contactsOf(c *fiber.Ctx) (ContactsInput, map[string]string) {
	in := ContactsInput{Pickup: []Person{}, Emergency: []Person{}}
	values := map[string]string{}
	for _, prefix := range []string{"pickup", "emergency"} {
		for i := range pageRows {
			n := prefix + strconv.Itoa(i)
			p := Person{Name: c.FormValue(n + "_name"), Relation: c.FormValue(n + "_relation"), Phone: c.FormValue(n + "_phone")}
			values[n+"_name"], values[n+"_relation"], values[n+"_phone"] = p.Name, p.Relation, p.Phone
			if p.Name == "" && p.Phone == "" && p.Relation == "" {
				continue
			}
			if prefix == "pickup" {
				in.Pickup = append(in.Pickup, p)
			} else {
				in.Emergency = append(in.Emergency, p)
			}
		}
	}
	return in, values
}

// FamilyPage shows a guardian their child's file with its access history.
func (h *FileHandler) FamilyPage(c *fiber.Ctx) error {
	return h.show(c, "family_child_file", fiber.StatusOK, nil, false)
}

// StaffPage shows the child file to staff of the child's facility.
func (h *FileHandler) StaffPage(c *fiber.Ctx) error {
	return h.show(c, "staff_child_file", fiber.StatusOK, nil, false)
}

// SaveContacts stores the contacts from the form (guardian or lead).
func (h *FileHandler) SaveContacts(back string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		call := auth.CallerOf(c)
		id, err := httpserver.PathID(c, "id")
		if err != nil {
			return err
		}
		in, values := contactsOf(c)
		if _, err := h.s.UpdateContacts(c.UserContext(), call, id, in); err != nil {
			f, gerr := h.s.Get(c.UserContext(), call, id)
			if gerr != nil {
				return err
			}
			page := "family_child_file"
			if back == "staff" {
				page = "staff_child_file"
			}
			return h.forms.Failed(c, err, page, "childfile.title", view.NewForm(values), pageFor(f, page))
		}
		if back == "staff" {
			return c.Redirect("/staff/children/"+id.String()+"/file?done=childfile_saved", fiber.StatusSeeOther)
		}
		return c.Redirect("/family/children/"+id.String()+"/file?done=childfile_saved", fiber.StatusSeeOther)
	}
}

// EmergencyPage opens the emergency sheet with the form's reason.
func (h *FileHandler) EmergencyPage(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	f, err := h.s.Emergency(c.UserContext(), call, id, c.FormValue("reason"))
	if err != nil {
		g, gerr := h.s.Get(c.UserContext(), call, id)
		if gerr != nil {
			return err
		}
		return h.forms.Failed(c, err, "staff_child_file", "childfile.title", view.NewForm(map[string]string{"reason": c.FormValue("reason")}),
			pageFor(g, "staff_child_file"))
	}
	d := pageFor(f, "staff_child_file")
	d.Sheet = true
	return h.forms.Show(c, fiber.StatusOK, "staff_child_file", "childfile.title", contactsForm(f), d)
}

// SheetPDF answers the printable emergency sheet (an emergency access with a reason).
func (h *FileHandler) SheetPDF(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	if httpserver.IsAPI(c) {
		var in struct {
			Reason string `json:"reason"`
		}
		if len(c.Body()) > 0 && c.Is("json") {
			if err := httpserver.DecodeJSON(c, &in); err != nil {
				return err
			}
			reason = in.Reason
		}
	}
	pdf, err := h.s.SheetPDF(c.UserContext(), auth.CallerOf(c), id, reason)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="notfallblatt.pdf"`)
	return c.Send(pdf)
}

// APIGet handles GET /api/v1/children/{id}/file and /api/v1/staff/children/{id}/file.
func (h *FileHandler) APIGet(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	f, err := h.s.Get(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(f)
}

// APIContacts handles PUT …/file/contacts.
func (h *FileHandler) APIContacts(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var in ContactsInput
	if err := httpserver.DecodeJSON(c, &in); err != nil {
		return err
	}
	f, err := h.s.UpdateContacts(c.UserContext(), auth.CallerOf(c), id, in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(f)
}

// APIHealth handles PUT …/file/health.
func (h *FileHandler) APIHealth(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var in HealthInput
	if err := httpserver.DecodeJSON(c, &in); err != nil {
		return err
	}
	f, err := h.s.UpdateHealth(c.UserContext(), auth.CallerOf(c), id, in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(f)
}

// APINote handles POST /api/v1/staff/children/{id}/file/notes.
func (h *FileHandler) APINote(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := httpserver.DecodeJSON(c, &in); err != nil {
		return err
	}
	if err := h.s.AddNote(c.UserContext(), auth.CallerOf(c), id, in.Body); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// APIEmergency handles POST /api/v1/staff/children/{id}/emergency: the emergency sheet.
func (h *FileHandler) APIEmergency(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := httpserver.DecodeJSON(c, &in); err != nil {
		return err
	}
	f, err := h.s.Emergency(c.UserContext(), auth.CallerOf(c), id, in.Reason)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(f)
}

// APIHistory handles GET /api/v1/children/{id}/file/access-history.
func (h *FileHandler) APIHistory(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	items, err := h.s.History(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": items})
}
