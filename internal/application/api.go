package application

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/httpserver"
)

// The parents' application API (API.md): POST/GET /api/v1/applications, GET/PATCH
// /api/v1/applications/{id}, POST …/submit and …/withdraw.

// Body is an application in JSON (the walk-in API carries one too).
type Body struct {
	ChildID     uuid.UUID  `json:"child_id"`
	StartDate   string     `json:"start_date"`
	CareHours   int        `json:"care_hours"`
	Choices     []choiceIn `json:"choices"`
	Criteria    Criteria   `json:"criteria"`
	Declaration bool       `json:"declaration"`
	// Submit files the request at once (one step: draft and submission in one
	// transaction); without it the answer is a draft.
	Submit bool `json:"submit"`
}

type choiceIn struct {
	FacilityID uuid.UUID `json:"facility_id"`
}

// Input is the application the body describes.
func (b Body) Input() Input {
	in := Input{ChildID: b.ChildID, StartDate: b.StartDate, CareHours: b.CareHours, Criteria: b.Criteria, Declared: b.Declaration}
	for _, c := range b.Choices {
		in.Choices = append(in.Choices, c.FacilityID)
	}
	return in
}

// patchBody is a PATCH: only the fields sent change.
type patchBody struct {
	StartDate   *string     `json:"start_date"`
	CareHours   *int        `json:"care_hours"`
	Choices     *[]choiceIn `json:"choices"`
	Criteria    *Criteria   `json:"criteria"`
	Declaration *bool       `json:"declaration"`
}

func (p patchBody) apply(a *Application) Input {
	in := Input{ChildID: a.ChildID, StartDate: a.StartDate.String(), CareHours: a.CareHours, Criteria: a.Criteria, Declared: a.DeclaredAt != nil}
	for _, c := range a.Choices {
		in.Choices = append(in.Choices, c.Facility.ID)
	}
	if p.StartDate != nil {
		in.StartDate = *p.StartDate
	}
	if p.CareHours != nil {
		in.CareHours = *p.CareHours
	}
	if p.Choices != nil {
		in.Choices = nil
		for _, c := range *p.Choices {
			in.Choices = append(in.Choices, c.FacilityID)
		}
	}
	if p.Criteria != nil {
		in.Criteria = *p.Criteria
	}
	if p.Declaration != nil {
		in.Declared = *p.Declaration
	}
	return in
}

// APICreate answers POST /api/v1/applications: 201 with the draft (or, with submit,
// the filed request).
func (h *Handler) APICreate(c *fiber.Ctx) error {
	var b Body
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	a, err := h.s.Create(c.UserContext(), auth.CallerOf(c), b.Input(), b.Submit)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}

// APIList answers GET /api/v1/applications.
func (h *Handler) APIList(c *fiber.Ctx) error {
	apps, err := h.s.List(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": apps})
}

// APIGet answers GET /api/v1/applications/{id}: the status with its history.
func (h *Handler) APIGet(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	a, err := h.s.Get(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(a)
}

// APIUpdate answers PATCH /api/v1/applications/{id}.
func (h *Handler) APIUpdate(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var p patchBody
	if err := httpserver.DecodeJSON(c, &p); err != nil {
		return err
	}
	call := auth.CallerOf(c)
	a, err := h.s.Get(c.UserContext(), call, id)
	if err != nil {
		return err
	}
	a, err = h.s.Update(c.UserContext(), call, id, p.apply(a))
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// APISubmit answers POST /api/v1/applications/{id}/submit.
func (h *Handler) APISubmit(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	a, err := h.s.Submit(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// APIWithdraw answers POST /api/v1/applications/{id}/withdraw {reason?}.
func (h *Handler) APIWithdraw(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Reason string `json:"reason"`
	}
	if len(c.Body()) > 0 {
		if err := httpserver.DecodeJSON(c, &b); err != nil {
			return err
		}
	}
	a, err := h.s.Withdraw(c.UserContext(), auth.CallerOf(c), id, b.Reason)
	if err != nil {
		return err
	}
	return c.JSON(a)
}
