package provider

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvfile"
	"kitaportal/internal/platform/csvimport"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// Handler serves the provider portal's pages (and its API, api.go).
type Handler struct {
	s     *Service
	views *view.Renderer
	forms view.Forms
	authz *authz.Enforcer
}

// NewHandler returns the provider portal's handlers; csrf gives a page's form token.
func NewHandler(s *Service, views *view.Renderer, csrf func(*fiber.Ctx) string, enforcer *authz.Enforcer) *Handler {
	return &Handler{s: s, views: views, forms: view.Forms{Views: views, CSRF: csrf}, authz: enforcer}
}

// PathID reads a uuid of the path; anything else is an unknown id.
func PathID(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, ErrNotFound
	}
	return id, nil
}

// pathIDs reads two uuids of the path (a facility and one of its things).
func pathIDs(c *fiber.Ctx, a, b string) (uuid.UUID, uuid.UUID, error) {
	first, err := PathID(c, a)
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	second, err := PathID(c, b)
	return first, second, err
}

// Can tells whether the caller holds action in the host's tenant (to show or hide a
// button; the route's guard decides).
func Can(en *authz.Enforcer, c *fiber.Ctx, action string) bool {
	call := auth.CallerOf(c)
	return en != nil && call.Tenant != nil && en.Allowed(call.Principal, call.Tenant.ID.String(), action)
}

// Done is the confirmation a redirect asked for (?done=<key>, text "<prefix>.done.<key>"),
// when keys lists it.
func Done(views *view.Renderer, c *fiber.Ctx, prefix string, keys ...string) string {
	d := c.Query("done")
	for _, k := range keys {
		if d == k {
			lang, _ := c.Locals(view.LocalLang).(string)
			return views.Catalogue().T(lang, prefix+".done."+k, nil)
		}
	}
	return ""
}

// Frame is what every page about one facility shows: the facility, its tabs, the
// confirmation of the last change and what the caller may do.
type Frame struct {
	Facility     *Ref
	Tab          string
	Done         string
	CanEdit      bool
	CanContracts bool
}

func (h *Handler) frame(c *fiber.Ctx, f *Ref, tab, editAction string) Frame {
	return Frame{Facility: f, Tab: tab, CanEdit: Can(h.authz, c, editAction), CanContracts: Can(h.authz, c, "contract.read"),
		Done: Done(h.views, c, "provider", "saved", "photo_added", "photo_removed", "closure_added", "closure_removed",
			"group_created", "group_saved", "group_removed", "created")}
}

// homeData is the provider portal's start page.
type homeData struct {
	Facilities     []Ref
	CanImport      bool
	CanExport      bool
	CanTagespflege bool
	CanContracts   bool
	Done           string
}

// Home lists the facilities in scope with what can be done with them.
func (h *Handler) Home(c *fiber.Ctx) error {
	fs, err := h.s.Facilities(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	d := homeData{Facilities: fs, CanImport: Can(h.authz, c, "provider.facility.import"), CanExport: Can(h.authz, c, "provider.facility.export"),
		CanTagespflege: Can(h.authz, c, "provider.tagespflege.create"), CanContracts: Can(h.authz, c, "contract.read"),
		Done: Done(h.views, c, "provider", "imported")}
	return h.forms.Show(c, fiber.StatusOK, "provider_home", "provider.home.title", nil, d)
}

// profileData is the profile page: the form, the photos and the closures.
type profileData struct {
	Frame
	Profile  *Profile
	Concepts []Choice
	Days     []Choice // Value: the field name, Label: the key of the weekday's name
}

// Choice is a checkbox or option with its state.
type Choice struct {
	Value, Label string
	Checked      bool
}

// ProfilePage shows the profile form.
func (h *Handler) ProfilePage(c *fiber.Ctx) error {
	return h.profilePage(c, fiber.StatusOK, nil, nil, nil)
}

// profilePage shows the profile; f is the profile form as typed (nil: as stored), typed
// the values of the photo or closure form that failed.
func (h *Handler) profilePage(c *fiber.Ctx, status int, f *view.Form, typed map[string]string, failure error) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	p, err := h.s.Profile(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	if f == nil {
		f = profileForm(p)
	}
	for k, v := range typed {
		f.Values[k] = v
	}
	lang, _ := c.Locals(view.LocalLang).(string)
	cat := h.views.Catalogue()
	d := profileData{Frame: h.frame(c, &p.Facility, "profile", "provider.facility.update"), Profile: p}
	selected := "," + f.Values["concepts"] + ","
	for _, k := range care.Concepts {
		d.Concepts = append(d.Concepts, Choice{Value: k, Label: cat.T(lang, "search.concept."+k, nil), Checked: strings.Contains(selected, ","+k+",")})
	}
	for _, day := range Weekdays {
		d.Days = append(d.Days, Choice{Value: "opening_hours." + day, Label: "day.long." + day}) // Label: a text key
	}
	if failure != nil {
		return h.forms.Failed(c, failure, "provider_profile", "provider.profile.title", f, d)
	}
	return h.forms.Show(c, status, "provider_profile", "provider.profile.title", f, d)
}

// profileForm fills the form with the stored profile.
func profileForm(p *Profile) *view.Form {
	v := map[string]string{"name": p.Name, "description": p.Description, "phone": p.Phone, "email": p.Email, "website": p.Website,
		"age_min_months": strconv.Itoa(p.AgeMinMonths), "age_max_months": strconv.Itoa(p.AgeMaxMonths),
		"concepts": strings.Join(p.Concepts, ","), "lunch": onOff(p.Lunch), "barrier_free": onOff(p.BarrierFree)}
	for _, day := range Weekdays {
		v["opening_hours."+day] = FormatDayHours(p.OpeningHours[day])
	}
	return view.NewForm(v)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return ""
}

// UpdateProfile saves the profile form.
func (h *Handler) UpdateProfile(c *fiber.Ctx) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	v := map[string]string{}
	for _, k := range []string{"name", "description", "phone", "email", "website", "age_min_months", "age_max_months", "lunch", "barrier_free"} {
		v[k] = c.FormValue(k)
	}
	var concepts []string
	for _, raw := range c.Request().PostArgs().PeekMulti("concepts") {
		concepts = append(concepts, string(raw))
	}
	v["concepts"] = strings.Join(concepts, ",")
	in := ProfileChange{Name: v["name"], Description: v["description"], Phone: v["phone"], Email: v["email"], Website: v["website"],
		Concepts: concepts, Lunch: v["lunch"] != "", BarrierFree: v["barrier_free"] != "", OpeningHours: care.OpeningHours{}}
	var errs apperr.List
	for _, day := range Weekdays {
		field := "opening_hours." + day
		v[field] = c.FormValue(field)
		hours, err := ParseDayHours(field, v[field])
		if err != nil {
			errs = append(errs, err.(*apperr.Error))
		}
		in.OpeningHours[day] = hours
	}
	var e *apperr.Error
	if in.AgeMinMonths, e = ParseInt("age_min_months", v["age_min_months"], minAgeMonths, maxAgeMonths); e != nil {
		errs = append(errs, e)
	}
	if in.AgeMaxMonths, e = ParseInt("age_max_months", v["age_max_months"], 1, maxAgeMonths); e != nil {
		errs = append(errs, e)
	}
	if len(errs) > 0 { // every problem at once: the form marks the first per field
		in.Normalize()
		if verr := in.Validate(); verr != nil {
			errs = append(errs, verr.(apperr.List)...)
		}
	}
	err = errs.Err()
	if err == nil {
		err = h.s.UpdateProfile(c.UserContext(), auth.CallerOf(c), id, in)
	}
	if err != nil {
		return h.profilePage(c, 0, view.NewForm(v), nil, err)
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/profile?done=saved", fiber.StatusSeeOther)
}

// AddPhoto takes an uploaded photo.
func (h *Handler) AddPhoto(c *fiber.Ctx) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	alt := c.FormValue("alt")
	err = apperr.Invalid("photo", "required", nil)
	if fh, ferr := c.FormFile("photo"); ferr == nil {
		file, ferr := fh.Open()
		if ferr != nil {
			return ferr
		}
		defer file.Close()
		err = h.s.AddPhoto(c.UserContext(), auth.CallerOf(c), id, alt, file)
	}
	if err != nil {
		return h.profilePage(c, 0, nil, map[string]string{"alt": alt}, err)
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/profile?done=photo_added#photos", fiber.StatusSeeOther)
}

// RemovePhoto deletes a photo.
func (h *Handler) RemovePhoto(c *fiber.Ctx) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil || n < 1 || n > 20 {
		return ErrNotFound
	}
	if err := h.s.RemovePhoto(c.UserContext(), auth.CallerOf(c), id, n); err != nil {
		return err
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/profile?done=photo_removed#photos", fiber.StatusSeeOther)
}

// AddClosure records closing days.
func (h *Handler) AddClosure(c *fiber.Ctx) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	v := map[string]string{"first_day": c.FormValue("first_day"), "last_day": c.FormValue("last_day"), "reason": c.FormValue("reason")}
	var errs apperr.List
	cl := Closure{Reason: v["reason"]}
	var e *apperr.Error
	if cl.FirstDay, e = ParseDay("first_day", v["first_day"], true); e != nil {
		errs = append(errs, e)
	}
	if cl.LastDay, e = ParseDay("last_day", v["last_day"], true); e != nil {
		errs = append(errs, e)
	}
	err = errs.Err()
	if err == nil {
		err = h.s.AddClosure(c.UserContext(), auth.CallerOf(c), id, cl)
	}
	if err != nil {
		return h.profilePage(c, 0, nil, v, err)
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/profile?done=closure_added#closures", fiber.StatusSeeOther)
}

// RemoveClosure deletes closing days.
func (h *Handler) RemoveClosure(c *fiber.Ctx) error {
	id, closure, err := pathIDs(c, "id", "closure")
	if err != nil {
		return err
	}
	if err := h.s.RemoveClosure(c.UserContext(), auth.CallerOf(c), id, closure); err != nil {
		return err
	}
	return c.Redirect("/staff/facilities/"+id.String()+"/profile?done=closure_removed#closures", fiber.StatusSeeOther)
}

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
	id, err := PathID(c, "id")
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
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	v := formValues(c, "name", "age_band", "care_hours", "valid_from", "valid_until", "places")
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
	groupID, err := PathID(c, "group")
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
	id, groupID, err := pathIDs(c, "id", "group")
	if err != nil {
		return err
	}
	v := formValues(c, "name", "age_band", "care_hours")
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
	id, groupID, err := pathIDs(c, "id", "group")
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

func formValues(c *fiber.Ctx, keys ...string) map[string]string {
	v := make(map[string]string, len(keys))
	for _, k := range keys {
		v[k] = c.FormValue(k)
	}
	return v
}

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
	id, err := PathID(c, "id")
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
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	o, err := h.s.Occupancy(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return sendCSV(c, "belegung-"+id.String()[:8]+".csv", func(w *csvfile.Writer) error { return WriteOccupancy(w, []FacilityOccupancy{*o}) })
}

// ProviderOccupancyCSV downloads the occupancy of every facility in scope.
func (h *Handler) ProviderOccupancyCSV(c *fiber.Ctx) error {
	os, err := h.s.ProviderOccupancy(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	return sendCSV(c, "belegung.csv", func(w *csvfile.Writer) error { return WriteOccupancy(w, os) })
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

// encodingOf is the export encoding asked for: Windows-1252 for old Excel, else UTF-8.
func encodingOf(c *fiber.Ctx) string {
	if strings.EqualFold(c.Query("encoding"), "windows-1252") {
		return csvfile.Windows1252
	}
	return csvfile.UTF8
}

// sendCSV answers with a CSV download written by write.
func sendCSV(c *fiber.Ctx, name string, write func(*csvfile.Writer) error) error {
	var buf bytes.Buffer
	w, err := csvfile.NewWriter(&buf, encodingOf(c))
	if err != nil {
		return err
	}
	if err := write(w); err != nil {
		return err
	}
	charset := "utf-8"
	if encodingOf(c) == csvfile.Windows1252 {
		charset = "windows-1252"
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset="+charset)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// ExportFacilities downloads the facilities in scope as CSV.
func (h *Handler) ExportFacilities(c *fiber.Ctx) error {
	var buf bytes.Buffer
	if err := h.s.ExportFacilities(c.UserContext(), auth.CallerOf(c), &buf, encodingOf(c)); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="einrichtungen.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// ImportData is an import page: the form and the report of the last run.
type ImportData struct {
	Report  *csvimport.Report
	Columns []string
	Action  string
}

// ImportForm shows the facility import.
func (h *Handler) ImportForm(c *fiber.Ctx) error {
	return h.forms.Show(c, fiber.StatusOK, "provider_import", "provider.import.title", view.NewForm(map[string]string{"dry_run": "1"}),
		ImportData{Columns: FacilityColumns})
}

// Import runs the facility import (or its dry run) and shows the report.
func (h *Handler) Import(c *fiber.Ctx) error {
	d := ImportData{Columns: FacilityColumns}
	report, err := RunUpload(c, func(file *bytes.Reader, dryRun bool) (*csvimport.Report, error) {
		return h.s.ImportFacilities(c.UserContext(), auth.CallerOf(c), file, dryRun)
	})
	if err != nil {
		return h.forms.Failed(c, err, "provider_import", "provider.import.title", view.NewForm(nil), d)
	}
	d.Report = Translate(h.views, c, report)
	status := fiber.StatusOK
	if len(report.Problems) > 0 {
		status = fiber.StatusUnprocessableEntity
	}
	return h.forms.Show(c, status, "provider_import", "provider.import.title", view.NewForm(map[string]string{"dry_run": c.FormValue("dry_run")}), d)
}

// RunUpload reads the uploaded "file" of an import form and runs it.
func RunUpload(c *fiber.Ctx, run func(file *bytes.Reader, dryRun bool) (*csvimport.Report, error)) (*csvimport.Report, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, apperr.Invalid("file", "required", nil)
	}
	if fh.Size > MaxImportBytes {
		return nil, apperr.Invalid("file", "csv_file_too_large", map[string]any{"max_mb": MaxImportBytes >> 20})
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return run(bytes.NewReader(buf.Bytes()), c.FormValue("dry_run") != "")
}

// Translate fills the messages of a report's problems in the request's language.
func Translate(views *view.Renderer, c *fiber.Ctx, r *csvimport.Report) *csvimport.Report {
	lang, _ := c.Locals(view.LocalLang).(string)
	for i, p := range r.Problems {
		r.Problems[i].Message = views.Catalogue().T(lang, "error."+p.Code, p.Args)
	}
	return r
}

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
	v := formValues(c, "type", "name", "person", "street", "house_number", "plz", "district", "phone", "email",
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
