package facility

import (
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/availability"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/tenant"
)

// APIProfile is GET /api/v1/facilities/{id}: the profile; with birth_date and start_date
// also age_fit and availability as the search answers them.
func (h *Handler) APIProfile(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	ch, err := h.child(c, t)
	if err != nil {
		return err
	}
	d, err := h.svc.Profile(c.UserContext(), t, id, ch)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(d.Profile)
}

// AvailabilityResponse is the answer of GET /api/v1/facilities/{id}/availability.
type AvailabilityResponse struct {
	FacilityID uuid.UUID       `json:"facility_id"`
	From       string          `json:"from"`
	To         string          `json:"to"`
	Items      []MonthBandCell `json:"items"`
}

// MonthBandCell is the availability of one band and care scope in one month.
type MonthBandCell struct {
	Month     string              `json:"month"`
	AgeBand   string              `json:"age_band"`
	CareHours int                 `json:"care_hours"`
	Capacity  int                 `json:"capacity"`
	Free      int                 `json:"free"`
	Status    availability.Status `json:"status"`
}

var monthPattern = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// APIAvailability is GET /api/v1/facilities/{id}/availability?from=YYYY-MM&to=YYYY-MM:
// per month, age band and care scope, for at most the stored window (default: the next
// twelve months).
func (h *Handler) APIAvailability(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	w := availability.WindowFor(t.Rules, h.search.Today())
	from, to := w.First, w.First.AddMonths(monthsShown-1)
	var errs apperr.List
	month := func(name string, def date.Date) date.Date {
		s := strings.TrimSpace(c.Query(name))
		if s == "" {
			return def
		}
		if !monthPattern.MatchString(s) {
			errs = append(errs, apperr.Invalid(name, "invalid_month", nil))
			return def
		}
		m, _ := date.Parse(s + "-01")
		if !w.Contains(m) {
			errs = append(errs, apperr.Invalid(name, "month_out_of_range", map[string]any{
				"first": w.First.Time().Format("2006-01"), "last": w.Last().Time().Format("2006-01")}))
			return def
		}
		return m
	}
	from, to = month("from", from), month("to", to)
	if len(errs) == 0 && to.Before(from) {
		errs = append(errs, apperr.Invalid("to", "month_before_from", nil))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	if len(errs) > 1 {
		return errs
	}
	cells, err := h.svc.Availability(c.UserContext(), t, id, from, to)
	if err != nil {
		return err
	}
	out := AvailabilityResponse{FacilityID: id, From: from.Time().Format("2006-01"), To: to.Time().Format("2006-01"), Items: []MonthBandCell{}}
	for _, cell := range cells {
		out.Items = append(out.Items, MonthBandCell{Month: cell.Month.Time().Format("2006-01"), AgeBand: cell.Band,
			CareHours: cell.CareHours, Capacity: cell.Capacity, Free: cell.Free, Status: cell.Status()})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}
