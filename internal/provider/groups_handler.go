package provider

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// groupsData is the groups page and the page of one group.
type groupsData struct {
	Frame
	Groups     []Group
	Group      *Group // the group being edited
	Bands      []Choice
	BandLabels map[string]string
	Scopes     []int
	Rows       []int // indexes of the period rows of the form
	Limit      int   // places allowed in all groups together (Kindertagespflege), 0: none
}

// GroupsPage lists the groups with their places and the form for a new group.
func (h *Handler) GroupsPage(c *fiber.Ctx) error { return h.groupsPage(c, fiber.StatusOK, nil, nil) }

func (h *Handler) groupsPage(c *fiber.Ctx, status int, f *view.Form, failure error) error {
	d, err := h.groupsData(c)
	if err != nil {
		return err
	}
	if f == nil {
		f = view.NewForm(map[string]string{"valid_from": nextYearStart(c, h.s.Today()).String()})
	}
	if failure != nil {
		return h.forms.Failed(c, failure, "provider_groups", "provider.groups.title", f, d)
	}
	return h.forms.Show(c, status, "provider_groups", "provider.groups.title", f, d)
}

func (h *Handler) groupsData(c *fiber.Ctx) (*groupsData, error) {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return nil, err
	}
	call := auth.CallerOf(c)
	f, groups, err := h.s.Groups(c.UserContext(), call, id)
	if err != nil {
		return nil, err
	}
	lang, _ := c.Locals(view.LocalLang).(string)
	d := &groupsData{Frame: h.frame(c, f, "groups", "provider.group.manage"), Groups: groups, Scopes: call.Tenant.Rules.CareScopes,
		Limit: PlacesLimit(f.Type, call.Tenant.Rules.FacilityLimits), BandLabels: map[string]string{}}
	for _, b := range call.Tenant.Rules.AgeBands {
		d.Bands = append(d.Bands, Choice{Value: b.Key, Label: b.Label.In(lang)})
		d.BandLabels[b.Key] = b.Label.In(lang)
	}
	return d, nil
}

// nextYearStart is the start of the next Kita year: where new places usually begin.
func nextYearStart(c *fiber.Ctx, today date.Date) date.Date {
	cal := tenant.FromFiber(c).Rules.Calendar()
	return cal.YearStart(today).AddMonths(12)
}

// CreateGroup adds a group with its first period of places.
func (h *Handler) CreateGroup(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v := httpserver.FormValues(c, "name", "age_band", "care_hours", "valid_from", "valid_until", "places")
	in, errs := groupInput(v, []periodRow{{from: v["valid_from"], until: v["valid_until"], places: v["places"]}})
	err = allProblems(in, errs, tenant.FromFiber(c).Rules)
	if err == nil {
		_, err = h.s.CreateGroup(c.UserContext(), auth.CallerOf(c), id, in)
	}
	if err != nil {
		return h.groupsPage(c, 0, view.NewForm(v), singlePeriodFields(err))
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/groups?done=group_created", fiber.StatusSeeOther)
}

// GroupPage shows the form of one group with its periods.
func (h *Handler) GroupPage(c *fiber.Ctx) error { return h.groupPage(c, fiber.StatusOK, nil, nil) }

// extraRows are the empty period rows the group form offers for new periods.
const extraRows = 2

func (h *Handler) groupPage(c *fiber.Ctx, status int, f *view.Form, failure error) error {
	d, err := h.groupsData(c)
	if err != nil {
		return err
	}
	groupID, err := httpserver.PathID(c, "group")
	if err != nil {
		return err
	}
	for i := range d.Groups {
		if d.Groups[i].ID == groupID {
			d.Group = &d.Groups[i]
		}
	}
	if d.Group == nil {
		return ErrNotFound
	}
	if f == nil {
		v := map[string]string{"name": d.Group.Name, "age_band": d.Group.AgeBand, "care_hours": strconv.Itoa(d.Group.CareHours)}
		for i, p := range d.Group.Periods {
			row := "periods." + strconv.Itoa(i) + "."
			v[row+"valid_from"], v[row+"valid_until"], v[row+"places"] = p.From.String(), p.Until.String(), strconv.Itoa(p.Places)
		}
		f = view.NewForm(v)
	}
	rows := 0
	for f.Values["periods."+strconv.Itoa(rows)+".valid_from"] != "" || f.Values["periods."+strconv.Itoa(rows)+".places"] != "" {
		rows++
	}
	for i := range rows + extraRows {
		d.Rows = append(d.Rows, i)
	}
	if failure != nil {
		return h.forms.Failed(c, failure, "provider_group", "provider.group.title", f, d)
	}
	return h.forms.Show(c, status, "provider_group", "provider.group.title", f, d)
}

// UpdateGroup saves a group's form.
func (h *Handler) UpdateGroup(c *fiber.Ctx) error {
	id, groupID, err := httpserver.PathIDs(c, "id", "group")
	if err != nil {
		return err
	}
	v := httpserver.FormValues(c, "name", "age_band", "care_hours")
	var rows []periodRow
	for i := range maxPeriods + extraRows {
		row := "periods." + strconv.Itoa(i) + "."
		r := periodRow{from: c.FormValue(row + "valid_from"), until: c.FormValue(row + "valid_until"), places: c.FormValue(row + "places")}
		if strings.TrimSpace(r.from+r.until+r.places) == "" {
			continue
		}
		v[row+"valid_from"], v[row+"valid_until"], v[row+"places"] = r.from, r.until, r.places
		rows = append(rows, r)
	}
	// The form shows the rows again without gaps, so errors name the row as shown.
	compact := view.NewForm(map[string]string{"name": v["name"], "age_band": v["age_band"], "care_hours": v["care_hours"]})
	for k, r := range rows {
		row := "periods." + strconv.Itoa(k) + "."
		compact.Values[row+"valid_from"], compact.Values[row+"valid_until"], compact.Values[row+"places"] = r.from, r.until, r.places
	}
	in, errs := groupInput(v, rows)
	err = allProblems(in, errs, tenant.FromFiber(c).Rules)
	if err == nil {
		err = h.s.UpdateGroup(c.UserContext(), auth.CallerOf(c), id, groupID, in)
	}
	if err != nil {
		return h.groupPage(c, 0, compact, err)
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/groups?done=group_saved", fiber.StatusSeeOther)
}

// RemoveGroup deletes a group nobody is placed in.
func (h *Handler) RemoveGroup(c *fiber.Ctx) error {
	id, groupID, err := httpserver.PathIDs(c, "id", "group")
	if err != nil {
		return err
	}
	if err := h.s.RemoveGroup(c.UserContext(), auth.CallerOf(c), id, groupID); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindConflict {
			return h.groupPage(c, 0, nil, err)
		}
		return err
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/groups?done=group_removed", fiber.StatusSeeOther)
}

// periodRow is one period as typed.
type periodRow struct{ from, until, places string }

// groupInput reads a group from form values and period rows; field names of the rows are
// periods.<k>.<field>, k counting the rows given.
func groupInput(v map[string]string, rows []periodRow) (GroupInput, apperr.List) {
	var errs apperr.List
	in := GroupInput{Name: v["name"], AgeBand: v["age_band"]}
	var e *apperr.Error
	if in.CareHours, e = ParseInt("care_hours", v["care_hours"], 1, 100); e != nil {
		errs = append(errs, e)
	}
	for k, r := range rows {
		row := "periods." + strconv.Itoa(k) + "."
		var p Period
		if p.From, e = ParseDay(row+"valid_from", r.from, true); e != nil {
			errs = append(errs, e)
		}
		if p.Until, e = ParseDay(row+"valid_until", r.until, false); e != nil {
			errs = append(errs, e)
		}
		if p.Places, e = ParseInt(row+"places", r.places, 0, maxGroupPlaces); e != nil {
			errs = append(errs, e)
		}
		in.Periods = append(in.Periods, p)
	}
	return in, errs
}

// allProblems adds the rule checks to the problems of reading a group, so the form shows
// every problem at once (the first per field).
func allProblems(in GroupInput, errs apperr.List, r *tenant.Rules) error {
	if len(errs) == 0 {
		return nil
	}
	if err := in.Validate(r); err != nil {
		errs = append(errs, err.(apperr.List)...)
	}
	return errs
}

// singlePeriodFields names the fields of the new-group form, which has one period.
func singlePeriodFields(err error) error {
	rename := func(e *apperr.Error) *apperr.Error {
		if strings.HasPrefix(e.Field, "periods.0.") {
			return e.WithField(strings.TrimPrefix(e.Field, "periods.0."))
		}
		return e
	}
	var list apperr.List
	if l, ok := err.(apperr.List); ok {
		for _, e := range l {
			list = append(list, rename(e))
		}
		return list
	}
	if e, ok := apperr.As(err); ok {
		return rename(e)
	}
	return err
}
