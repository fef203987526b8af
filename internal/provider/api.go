package provider

import (
	"bytes"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvimport"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// The provider portal's API: the same operations as its pages, for the providers'
// back-office software (bearer tokens from /api/v1/staff/auth/login).

// APIProfile handles GET /api/v1/staff/facilities/{id}/profile.
func (h *Handler) APIProfile(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	p, err := h.s.Profile(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(p)
}

// APIUpdateProfile handles PUT /api/v1/staff/facilities/{id}/profile: the whole profile.
func (h *Handler) APIUpdateProfile(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var in ProfileChange
	if err := httpserver.DecodeJSON(c, &in); err != nil {
		return err
	}
	if err := h.s.UpdateProfile(c.UserContext(), auth.CallerOf(c), id, in); err != nil {
		return err
	}
	return h.APIProfile(c)
}

// APIGroups handles GET /api/v1/staff/facilities/{id}/groups.
func (h *Handler) APIGroups(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	f, groups, err := h.s.Groups(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	if groups == nil {
		groups = []Group{}
	}
	return c.JSON(fiber.Map{"facility": f, "groups": groups})
}

// groupBody is a group in the API; dates are strings, so a bad one is a 422 naming it.
type groupBody struct {
	Name      string `json:"name"`
	AgeBand   string `json:"age_band"`
	CareHours int    `json:"care_hours"`
	Periods   []struct {
		From   string `json:"valid_from"`
		Until  string `json:"valid_until"`
		Places int    `json:"places"`
	} `json:"periods"`
}

func (b groupBody) input() (GroupInput, error) {
	in := GroupInput{Name: b.Name, AgeBand: b.AgeBand, CareHours: b.CareHours}
	var errs apperr.List
	for i, p := range b.Periods {
		row := "periods." + strconv.Itoa(i) + "."
		from, e := ParseDay(row+"valid_from", p.From, true)
		if e != nil {
			errs = append(errs, e)
		}
		until, e := ParseDay(row+"valid_until", p.Until, false)
		if e != nil {
			errs = append(errs, e)
		}
		in.Periods = append(in.Periods, Period{From: from, Until: until, Places: p.Places})
	}
	return in, errs.Err()
}

// APICreateGroup handles POST /api/v1/staff/facilities/{id}/groups.
func (h *Handler) APICreateGroup(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b groupBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	in, err := b.input()
	if err != nil {
		return h.notFoundFirst(c, id, err)
	}
	groupID, err := h.s.CreateGroup(c.UserContext(), auth.CallerOf(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": groupID})
}

// APIUpdateGroup handles PUT /api/v1/staff/facilities/{id}/groups/{group}: the whole
// group with all its periods.
func (h *Handler) APIUpdateGroup(c *fiber.Ctx) error {
	id, groupID, err := httpserver.PathIDs(c, "id", "group")
	if err != nil {
		return err
	}
	var b groupBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	in, err := b.input()
	if err != nil {
		return h.notFoundFirst(c, id, err)
	}
	if err := h.s.UpdateGroup(c.UserContext(), auth.CallerOf(c), id, groupID, in); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": groupID})
}

// notFoundFirst answers a body that does not parse: 404 when the facility is out of
// reach (a foreign id is unknown, whatever the body), else the parse error.
func (h *Handler) notFoundFirst(c *fiber.Ctx, id uuid.UUID, parseErr error) error {
	if err := h.s.Visible(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return err
	}
	return parseErr
}

// APIOccupancy handles GET /api/v1/staff/facilities/{id}/occupancy.
func (h *Handler) APIOccupancy(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	o, err := h.s.Occupancy(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// APIProviderOccupancy handles GET /api/v1/staff/occupancy: every facility in scope.
func (h *Handler) APIProviderOccupancy(c *fiber.Ctx) error {
	os, err := h.s.ProviderOccupancy(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	if os == nil {
		os = []FacilityOccupancy{}
	}
	return c.JSON(fiber.Map{"items": os})
}

// APIImportFacilities handles POST /api/v1/staff/facilities/import: the CSV is the body;
// ?dry_run=true checks without saving.
func (h *Handler) APIImportFacilities(c *fiber.Ctx) error {
	dryRun, e := ParseBool("dry_run", c.Query("dry_run"))
	if e != nil {
		return e
	}
	report, err := h.s.ImportFacilities(c.UserContext(), auth.CallerOf(c), bytes.NewReader(c.Body()), dryRun)
	if err != nil {
		return err
	}
	return ImportAnswer(h.views, c, report)
}

// ImportAnswer is an import's report: 200, or 422 with the report in the error's details
// when a row has a problem.
func ImportAnswer(views *view.Renderer, c *fiber.Ctx, r *csvimport.Report) error {
	Translate(views, c, r)
	if len(r.Problems) > 0 {
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_import_failed", Details: map[string]any{"report": r}}
	}
	return c.JSON(r)
}

// tagespflegeBody is a new Kindertagespflege in the API.
type tagespflegeBody struct {
	Type         string `json:"type"`
	Name         string `json:"name"`
	Person       string `json:"person"`
	Street       string `json:"street"`
	HouseNumber  string `json:"house_number"`
	PLZ          string `json:"plz"`
	District     string `json:"district"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
	AgeMinMonths int    `json:"age_min_months"`
	AgeMaxMonths int    `json:"age_max_months"`
	CareHours    int    `json:"care_hours"`
	Places       int    `json:"places"`
	From         string `json:"valid_from"`
}

// APICreateTagespflege handles POST /api/v1/staff/tagespflege.
func (h *Handler) APICreateTagespflege(c *fiber.Ctx) error {
	var b tagespflegeBody
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	from, e := ParseDay("valid_from", b.From, true)
	if e != nil {
		return e
	}
	id, err := h.s.CreateTagespflege(c.UserContext(), auth.CallerOf(c), NewTagespflege{Type: b.Type, Name: b.Name, Person: b.Person,
		Street: b.Street, HouseNumber: b.HouseNumber, PLZ: b.PLZ, District: b.District, Phone: b.Phone, Email: b.Email,
		AgeMinMonths: b.AgeMinMonths, AgeMaxMonths: b.AgeMaxMonths, CareHours: b.CareHours, Places: b.Places, From: from})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": id})
}
