package ticket

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// The case workers' ticket queue: the page (/staff/tickets) and the API
// (/api/v1/staff/tickets).

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
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	if _, err := h.s.DecideTicket(c.UserContext(), call, id, c.FormValue("decision") == "grant", c.FormValue("note")); err != nil {
		ts, use, lerr := h.s.TicketQueue(c.UserContext(), call, "")
		if lerr != nil {
			return err
		}
		return h.forms.Failed(c, err, "staff_tickets", "tickets.staff.title", view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), ticketsData{Tickets: ts, Quota: use})
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
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Grant bool   `json:"grant"`
		Note  string `json:"note"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	t, err := h.s.DecideTicket(c.UserContext(), auth.CallerOf(c), id, b.Grant, b.Note)
	if err != nil {
		return err
	}
	return c.JSON(t)
}
