package ticket

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/account"
	"kitaportal/internal/auth"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/view"
)

// Handler serves the families' ticket pages (/tickets) and API (/api/v1/tickets), and
// the case workers' queue (/staff/tickets, /api/v1/staff/tickets).
type Handler struct {
	s        *Service
	families *family.Service
	forms    view.Forms
}

// NewHandler returns the ticket handlers; families gives the family page's children.
func NewHandler(s *Service, families *family.Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, families: families, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// parentTickets is the family's ticket page.
type parentTickets struct {
	Tickets  []Ticket
	Children []family.Child
	Resident bool
	Enabled  bool
}

func (h *Handler) ticketPage(c *fiber.Ctx) (*parentTickets, error) {
	call := auth.CallerOf(c)
	ts, err := h.s.MyTickets(c.UserContext(), call)
	if err != nil {
		return nil, err
	}
	fam, err := h.families.Mine(c.UserContext(), call)
	if err != nil {
		return nil, err
	}
	d := &parentTickets{Tickets: ts, Enabled: call.Tenant.Rules.Tickets.Enabled}
	if fam != nil {
		d.Children, d.Resident = fam.Children, fam.Resident
	}
	return d, nil
}

// TicketsPage lists the family's tickets with the request form.
func (h *Handler) TicketsPage(c *fiber.Ctx) error {
	d, err := h.ticketPage(c)
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "tickets", "tickets.title", view.NewForm(map[string]string{"child_id": c.Query("child"),
		"start_date": c.Query("start")}), d)
}

func ticketInputOf(c *fiber.Ctx) TicketInput {
	id, _ := uuid.Parse(c.FormValue("child_id"))
	return TicketInput{ChildID: id, StartDate: c.FormValue("start_date"), Reason: c.FormValue("reason"), PlannedMove: c.FormValue("planned_move_date")}
}

// RequestTicketForm files a ticket request.
func (h *Handler) RequestTicketForm(c *fiber.Ctx) error {
	if _, err := h.s.RequestTicket(c.UserContext(), auth.CallerOf(c), ticketInputOf(c)); err != nil {
		d, derr := h.ticketPage(c)
		if derr != nil {
			return derr
		}
		return h.forms.Failed(c, err, "tickets", "tickets.title", formValuesOf(c), d)
	}
	return c.Redirect("/tickets?done=ticket_requested", fiber.StatusSeeOther)
}

// APIMyTickets answers GET /api/v1/tickets.
func (h *Handler) APIMyTickets(c *fiber.Ctx) error {
	ts, err := h.s.MyTickets(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": ts})
}

// APIRequestTicket answers POST /api/v1/tickets: 201 with the request.
func (h *Handler) APIRequestTicket(c *fiber.Ctx) error {
	var in TicketInput
	if err := account.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := h.s.RequestTicket(c.UserContext(), auth.CallerOf(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

// ticketsData is the case workers' ticket page.
type ticketsData struct {
	Tickets []Ticket
	Quota   []QuotaUse
	Rules   any
}

// Tickets lists the city's ticket requests and the quota use.
func (h *Handler) Tickets(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	ts, use, err := h.s.TicketQueue(c.UserContext(), call, c.Query("status"))
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_tickets", "tickets.staff.title", nil, ticketsData{Tickets: ts, Quota: use})
}

// DecideTicket grants or refuses a ticket.
func (h *Handler) DecideTicket(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	if _, err := h.s.DecideTicket(c.UserContext(), call, id, c.FormValue("decision") == "grant", c.FormValue("note")); err != nil {
		ts, use, lerr := h.s.TicketQueue(c.UserContext(), call, "")
		if lerr != nil {
			return err
		}
		return h.forms.Failed(c, err, "staff_tickets", "tickets.staff.title", formValuesOf(c), ticketsData{Tickets: ts, Quota: use})
	}
	return c.Redirect("/staff/tickets?done=ticket_decided", fiber.StatusSeeOther)
}

// APITickets answers GET /api/v1/staff/tickets.
func (h *Handler) APITickets(c *fiber.Ctx) error {
	ts, use, err := h.s.TicketQueue(c.UserContext(), auth.CallerOf(c), c.Query("status"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": ts, "quota": use})
}

// APIDecideTicket answers POST /api/v1/staff/tickets/{id}/decision {grant, note}.
func (h *Handler) APIDecideTicket(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var b struct {
		Grant bool   `json:"grant"`
		Note  string `json:"note"`
	}
	if err := account.DecodeJSON(c, &b); err != nil {
		return err
	}
	t, err := h.s.DecideTicket(c.UserContext(), auth.CallerOf(c), id, b.Grant, b.Note)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func pathID(c *fiber.Ctx) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return uuid.Nil, ErrNotFound
	}
	return id, nil
}

// formValuesOf keeps what was typed, for showing the form again.
func formValuesOf(c *fiber.Ctx) *view.Form {
	v := map[string]string{}
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		if key := string(k); key != "_csrf" {
			v[key] = string(val)
		}
	})
	return view.NewForm(v)
}
