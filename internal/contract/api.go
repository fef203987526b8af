package contract

import (
	"bytes"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/provider"
)

// The register's API: the same operations as its pages (bearer tokens from
// /api/v1/staff/auth/login).

// APIList handles GET /api/v1/staff/contracts?facility=&show=.
func (h *Handler) APIList(c *fiber.Ctx) error {
	facility, err := facilityQuery(c, "facility")
	if err != nil {
		return err
	}
	items, err := h.s.List(c.UserContext(), auth.CallerOf(c), Filter{FacilityID: facility, Show: c.Query("show", ShowCurrent)})
	if err != nil {
		return err
	}
	if items == nil {
		items = []Contract{}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": items})
}

// createBody is a new contract in the API: the fields of the form.
type createBody struct {
	FacilityID        string `json:"facility_id"`
	GroupID           string `json:"group_id"`
	ChildID           string `json:"child_id"`
	ChildFirstName    string `json:"child_first_name"`
	ChildLastName     string `json:"child_last_name"`
	ChildBirthDate    string `json:"child_birth_date"`
	GuardianFirstName string `json:"guardian_first_name"`
	GuardianLastName  string `json:"guardian_last_name"`
	GuardianEmail     string `json:"guardian_email"`
	GuardianPhone     string `json:"guardian_phone"`
	Street            string `json:"street"`
	HouseNumber       string `json:"house_number"`
	PLZ               string `json:"plz"`
	City              string `json:"city"`
	CareHours         int    `json:"care_hours"`
	StartDate         string `json:"start_date"`
	EndDate           string `json:"end_date"`
	Reference         string `json:"reference"`
}

// APICreate handles POST /api/v1/staff/contracts: 201 with the contract.
func (h *Handler) APICreate(c *fiber.Ctx) error {
	var b createBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	v := map[string]string{"facility_id": b.FacilityID, "group_id": b.GroupID, "child_id": b.ChildID, "child_first_name": b.ChildFirstName,
		"child_last_name": b.ChildLastName, "child_birth_date": b.ChildBirthDate, "guardian_first_name": b.GuardianFirstName,
		"guardian_last_name": b.GuardianLastName, "guardian_email": b.GuardianEmail, "guardian_phone": b.GuardianPhone, "street": b.Street,
		"house_number": b.HouseNumber, "plz": b.PLZ, "city": b.City, "care_hours": strconv.Itoa(b.CareHours), "start_date": b.StartDate,
		"end_date": b.EndDate, "reference": b.Reference}
	in, errs := fromValues(v)
	if err := errs.Err(); err != nil {
		return err
	}
	call := auth.CallerOf(c)
	id, err := h.s.Create(c.UserContext(), call, in)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return ErrNotFound
		}
		return err
	}
	d, err := h.s.Get(c.UserContext(), call, id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

// APIGet handles GET /api/v1/staff/contracts/{id}.
func (h *Handler) APIGet(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	d, err := h.s.Get(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(d)
}

// APITerminate handles POST /api/v1/staff/contracts/{id}/terminate {end_date}.
func (h *Handler) APITerminate(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		EndDate string `json:"end_date"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	end, e := provider.ParseDay("end_date", b.EndDate, true)
	if e != nil {
		return h.notFoundFirst(c, id, e)
	}
	if err := h.s.Terminate(c.UserContext(), auth.CallerOf(c), id, end); err != nil {
		return err
	}
	return h.APIGet(c)
}

// APIChangeScope handles POST /api/v1/staff/contracts/{id}/scope {care_hours, from}: the
// contract that holds the new scope.
func (h *Handler) APIChangeScope(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		CareHours int    `json:"care_hours"`
		From      string `json:"from"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	from, e := provider.ParseDay("from", b.From, true)
	if e != nil {
		return h.notFoundFirst(c, id, e)
	}
	call := auth.CallerOf(c)
	current, err := h.s.ChangeScope(c.UserContext(), call, id, b.CareHours, from)
	if err != nil {
		return err
	}
	d, err := h.s.Get(c.UserContext(), call, current)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// notFoundFirst answers a body that does not parse: 404 for a contract out of reach,
// else the parse error.
func (h *Handler) notFoundFirst(c *fiber.Ctx, id uuid.UUID, parseErr error) error {
	if err := h.s.Visible(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return err
	}
	return parseErr
}

// APICancel handles POST /api/v1/staff/contracts/{id}/cancel.
func (h *Handler) APICancel(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.s.Cancel(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return err
	}
	return h.APIGet(c)
}

// APIImport handles POST /api/v1/staff/contracts/import?facility=&dry_run=: the CSV is
// the body.
func (h *Handler) APIImport(c *fiber.Ctx) error {
	facility, err := facilityQuery(c, "facility")
	if err != nil {
		return err
	}
	dryRun, e := provider.ParseBool("dry_run", c.Query("dry_run"))
	if e != nil {
		return e
	}
	report, err := h.s.Import(c.UserContext(), auth.CallerOf(c), facility, bytes.NewReader(c.Body()), dryRun)
	if err != nil {
		return err
	}
	return provider.ImportAnswer(h.views, c, report)
}
