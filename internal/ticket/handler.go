package ticket

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/httpserver"
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
		return h.forms.Failed(c, err, "tickets", "tickets.title", view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), d)
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
	if err := httpserver.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := h.s.RequestTicket(c.UserContext(), auth.CallerOf(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}
