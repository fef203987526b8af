package application

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/account"
	"kitaportal/internal/auth"
	"kitaportal/internal/family"
)

// The staff API of requests, walk-ins, tickets, duplicates and imports (bearer tokens of
// staff with their second factor; same services and scopes as the pages).

// APIRequests answers GET /api/v1/staff/requests.
func (h *Handler) APIRequests(c *fiber.Ctx) error {
	f, err := ParseFilter(func(k string) string { return c.Query(k) })
	if err != nil {
		return err
	}
	rows, err := h.s.Requests(c.UserContext(), auth.CallerOf(c), f)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": rows, "total": len(rows)})
}

// APIRequest answers GET /api/v1/staff/requests/{id}.
func (h *Handler) APIRequest(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	v, err := h.s.Request(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}

// APIDecide answers POST /api/v1/staff/requests/{id}/decisions {rank, action, note}.
func (h *Handler) APIDecide(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var b struct {
		Rank   int    `json:"rank"`
		Action string `json:"action"`
		Note   string `json:"note"`
	}
	if err := account.DecodeJSON(c, &b); err != nil {
		return err
	}
	v, err := h.s.Decide(c.UserContext(), auth.CallerOf(c), id, b.Rank, b.Action, b.Note)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// walkInBody is a walk-in registration in JSON.
type walkInBody struct {
	Family      family.Input      `json:"family"`
	Child       family.ChildInput `json:"child"`
	Application body              `json:"application"`
	Consent     struct {
		GivenBy string `json:"given_by"`
		GivenAt string `json:"given_at"`
		Method  string `json:"method"`
		Note    string `json:"note"`
	} `json:"consent"`
}

// APIWalkIn answers POST /api/v1/staff/walk-ins: 201 with reference and linking code.
func (h *Handler) APIWalkIn(c *fiber.Ctx) error {
	var b walkInBody
	if err := account.DecodeJSON(c, &b); err != nil {
		return err
	}
	res, err := h.s.WalkIn(c.UserContext(), auth.CallerOf(c), WalkIn{Family: b.Family, Child: b.Child, Request: b.Application.input(),
		Consent: ConsentInput(b.Consent)})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(res)
}

// APIDuplicates answers GET /api/v1/staff/duplicates.
func (h *Handler) APIDuplicates(c *fiber.Ctx) error {
	ds, err := h.s.Duplicates(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": ds})
}

// APIResolveDuplicate answers POST /api/v1/staff/duplicates/{id} {decision, keep}.
func (h *Handler) APIResolveDuplicate(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var b struct {
		Decision string    `json:"decision"` // merge | dismiss
		Keep     uuid.UUID `json:"keep"`
	}
	if err := account.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := h.s.ResolveDuplicate(c.UserContext(), auth.CallerOf(c), id, b.Decision == "merge", b.Keep); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "resolved"})
}

// APIImport answers POST /api/v1/staff/imports/waitlist?dry_run=true&name=…: the body
// is the CSV file; 202 with the job.
func (h *Handler) APIImport(c *fiber.Ctx) error {
	name := c.Query("name", "waitlist.csv")
	job, err := h.s.StartImport(c.UserContext(), auth.CallerOf(c), name, c.Body(), c.QueryBool("dry_run"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(job)
}

// APIImportStatus answers GET /api/v1/staff/imports/{id}.
func (h *Handler) APIImportStatus(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	job, err := h.s.Import(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(job)
}
