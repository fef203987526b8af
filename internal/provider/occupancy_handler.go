package provider

import (
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/csvfile"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// occupancyData is the occupancy page of a facility or of every facility in scope.
type occupancyData struct {
	Frame
	Facilities  []FacilityOccupancy
	Tables      []MonthTable // of one facility: the total first, then each group
	Months      []date.Date
	MonthLabels map[string]string // "2026-11-01" → "November 2026"
}

// MonthTable is one table of the occupancy page.
type MonthTable struct {
	Caption string
	Months  []Month
	Over    bool
}

// OccupancyPage shows a facility's places, contracts, offers and free places for the
// next 24 months, per group.
func (h *Handler) OccupancyPage(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	o, err := h.s.Occupancy(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	d := h.occupancyData(c, []FacilityOccupancy{*o})
	d.Frame = h.frame(c, &o.Facility, "occupancy", "provider.group.manage")
	lang, _ := c.Locals(view.LocalLang).(string)
	cat := h.views.Catalogue()
	d.Tables = append(d.Tables, MonthTable{Caption: cat.T(lang, "provider.occupancy.total", nil), Months: o.Total, Over: anyOver(o.Total)})
	for _, b := range tenant.FromFiber(c).Rules.AgeBands {
		for _, g := range o.Groups {
			if g.AgeBand == b.Key {
				caption := g.Name + " (" + b.Label.In(lang) + ", " + strconv.Itoa(g.CareHours) + " h)"
				d.Tables = append(d.Tables, MonthTable{Caption: caption, Months: g.Months, Over: anyOver(g.Months)})
			}
		}
	}
	if slices.ContainsFunc(o.Unassigned, func(m Month) bool { return m.Contracted+m.Offered > 0 }) {
		d.Tables = append(d.Tables, MonthTable{Caption: cat.T(lang, "provider.occupancy.unassigned", nil), Months: o.Unassigned})
	}
	return h.forms.Show(c, fiber.StatusOK, "provider_occupancy", "provider.occupancy.title", nil, d)
}

// ProviderOccupancyPage shows every facility in scope, month by month.
func (h *Handler) ProviderOccupancyPage(c *fiber.Ctx) error {
	os, err := h.s.ProviderOccupancy(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "provider_occupancy_all", "provider.occupancy.all.title", nil, h.occupancyData(c, os))
}

func (h *Handler) occupancyData(c *fiber.Ctx, os []FacilityOccupancy) occupancyData {
	lang, _ := c.Locals(view.LocalLang).(string)
	d := occupancyData{Facilities: os, Months: MonthsFrom(h.s.Today(), OccupancyMonths), MonthLabels: map[string]string{}}
	for _, m := range d.Months {
		d.MonthLabels[m.String()] = h.views.Catalogue().T(lang, "month."+strconv.Itoa(int(m.Month())), nil) + " " + strconv.Itoa(m.Year())
	}
	return d
}

// OccupancyCSV downloads a facility's occupancy.
func (h *Handler) OccupancyCSV(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	o, err := h.s.Occupancy(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return httpserver.SendCSV(c, "belegung-"+id.String()[:8]+".csv", httpserver.CSVEncoding(c), func(w *csvfile.Writer) error { return WriteOccupancy(w, []FacilityOccupancy{*o}) })
}

// ProviderOccupancyCSV downloads the occupancy of every facility in scope.
func (h *Handler) ProviderOccupancyCSV(c *fiber.Ctx) error {
	os, err := h.s.ProviderOccupancy(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return httpserver.SendCSV(c, "belegung.csv", httpserver.CSVEncoding(c), func(w *csvfile.Writer) error { return WriteOccupancy(w, os) })
}

// WriteOccupancy writes one line per facility, group (or "total") and month.
func WriteOccupancy(w *csvfile.Writer, os []FacilityOccupancy) error {
	if err := w.Write("facility_id", "facility", "group", "age_band", "month", "places", "contracted", "offered", "free", "over_capacity"); err != nil {
		return err
	}
	line := func(f Ref, group, band string, ms []Month) error {
		for _, m := range ms {
			over := "nein"
			if m.Over() && group != "" {
				over = "ja"
			}
			if err := w.Write(f.ID.String(), f.Name, group, band, m.Month.String()[:7], strconv.Itoa(m.Places), strconv.Itoa(m.Contracted),
				strconv.Itoa(m.Offered), strconv.Itoa(m.Free), over); err != nil {
				return err
			}
		}
		return nil
	}
	for _, o := range os {
		for _, g := range o.Groups {
			if err := line(o.Facility, g.Name, g.AgeBand, g.Months); err != nil {
				return err
			}
		}
		if err := line(o.Facility, "", "", o.Total); err != nil {
			return err
		}
	}
	return w.Flush()
}
