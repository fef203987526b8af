package provider

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/auth"
	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
)

// profileData is the profile page: the form, the photos and the closures.
type profileData struct {
	Frame
	Profile  *Profile
	Concepts []Choice
	Days     []Choice // Value: the field name, Label: the key of the weekday's name
}

// ProfilePage shows the profile form.
func (h *Handler) ProfilePage(c *fiber.Ctx) error {
	return h.profilePage(c, fiber.StatusOK, nil, nil, nil)
}

// profilePage shows the profile; f is the profile form as typed (nil: as stored), typed
// the values of the photo or closure form that failed.
func (h *Handler) profilePage(c *fiber.Ctx, status int, f *view.Form, typed map[string]string, failure error) error {
	id, err := httpserver.PathID(c, "id")
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
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v := httpserver.FormValues(c, "name", "description", "phone", "email", "website", "age_min_months", "age_max_months", "lunch", "barrier_free")
	concepts := httpserver.PostedList(c, "concepts")
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
