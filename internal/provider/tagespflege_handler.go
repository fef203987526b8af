package provider

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// tagespflegeData is the form for a new Kindertagespflege.
type tagespflegeData struct {
	Districts []Choice
	Scopes    []int
	Limits    tenant.FacilityLimits
}

// TagespflegeForm shows the form for a new Kindertagespflege.
func (h *Handler) TagespflegeForm(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	f := view.NewForm(map[string]string{"type": "tagespflege", "age_min_months": "0", "age_max_months": "36",
		"valid_from": h.s.Today().String(), "places": strconv.Itoa(t.Rules.FacilityLimits.TagespflegeMaxPlaces)})
	return h.forms.Show(c, fiber.StatusOK, "provider_tagespflege", "provider.tagespflege.title", f, h.tagespflegeData(c))
}

func (h *Handler) tagespflegeData(c *fiber.Ctx) tagespflegeData {
	t := tenant.FromFiber(c)
	d := tagespflegeData{Scopes: t.Rules.CareScopes, Limits: t.Rules.FacilityLimits}
	for _, dist := range t.Rules.Districts {
		d.Districts = append(d.Districts, Choice{Value: dist.Key, Label: dist.Name})
	}
	return d
}

// CreateTagespflege sets up a Kindertagespflege.
func (h *Handler) CreateTagespflege(c *fiber.Ctx) error {
	v := httpserver.FormValues(c, "type", "name", "person", "street", "house_number", "plz", "district", "phone", "email",
		"age_min_months", "age_max_months", "care_hours", "places", "valid_from")
	n := NewTagespflege{Type: v["type"], Name: v["name"], Person: v["person"], Street: v["street"], HouseNumber: v["house_number"],
		PLZ: strings.TrimSpace(v["plz"]), District: v["district"], Phone: v["phone"], Email: v["email"]}
	var errs apperr.List
	var e *apperr.Error
	for field, to := range map[string]*int{"age_min_months": &n.AgeMinMonths, "age_max_months": &n.AgeMaxMonths, "care_hours": &n.CareHours, "places": &n.Places} {
		if *to, e = ParseInt(field, v[field], -1_000_000, 1_000_000); e != nil {
			errs = append(errs, e)
		}
	}
	if n.From, e = ParseDay("valid_from", v["valid_from"], true); e != nil {
		errs = append(errs, e)
	}
	err := errs.Err()
	var id uuid.UUID
	if err == nil {
		id, err = h.s.CreateTagespflege(c.UserContext(), auth.CallerOf(c), n)
	}
	if err != nil {
		return h.forms.Failed(c, err, "provider_tagespflege", "provider.tagespflege.title", view.NewForm(v), h.tagespflegeData(c))
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/profile?done=created", fiber.StatusSeeOther)
}
