package facility

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/availability"
	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/search"
	"kitaportal/internal/tenant"
)

// FavouritesPage is the Merkliste with its comparison.
type FavouritesPage struct {
	Items     []CompareView
	ChildText string
	Error     string
	BirthDate string
	StartDate string
	CareHours int
	Scopes    []int
	Query     string
}

// CompareView is one facility of the comparison.
type CompareView struct {
	*Profile
	Hours      []care.HoursLine
	Ages       string
	Status     availability.Status // for the child; "" without one
	StatusText string
	Fit        bool
	URL        string
}

// Favourites renders the Merkliste side by side; with a child in the query, with the
// expected availability for it.
func (h *Handler) Favourites(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	p := h.views.NewPage(c, "", nil)
	words := search.NewWords(h.views.Catalogue(), p.Lang)
	data := &FavouritesPage{Scopes: t.Rules.CareScopes}
	v := search.Values(c)
	data.BirthDate, data.StartDate = v.Get(search.ParamBirthDate), v.Get(search.ParamStartDate)
	status := fiber.StatusOK
	ch, err := h.child(c, t)
	if err != nil {
		e, ok := search.Problem(err)
		if !ok {
			return err
		}
		data.Error, status = search.Message(h.views.Catalogue(), p.Lang, e), fiber.StatusUnprocessableEntity
	}
	favs, err := h.lists.Get(c)
	if err != nil {
		return err
	}
	p.CSRF = h.lists.FormToken(c)
	profiles, err := h.svc.Compare(c.UserContext(), t, favs, ch)
	if err != nil {
		return err
	}
	if ch != nil {
		data.Query = ch.Values().Encode()
		data.CareHours = ch.CareHours
		data.ChildText = words.T("profile.for_child", map[string]any{
			"birth": ch.Birth.Time().Format("02.01.2006"), "start": ch.From.Time().Format("02.01.2006"),
			"band": care.BandLabel(t.Rules, ch.Band.Key, p.Lang)})
	}
	for _, pr := range profiles {
		cv := CompareView{Profile: pr, Hours: words.Hours(pr.OpeningHours), Ages: words.AgeRange(pr.AgeMinMonths, pr.AgeMaxMonths),
			URL: "/facilities/" + pr.ID.String()}
		if data.Query != "" {
			cv.URL += "?" + data.Query
		}
		if pr.Availability != nil {
			cv.Status, cv.Fit = *pr.Availability, *pr.AgeFit
			cv.StatusText = words.StatusText(cv.Status)
		}
		data.Items = append(data.Items, cv)
	}
	p.Title = p.T("favourites.title")
	p.Data = data
	return h.views.RenderPage(c, status, "favourites", p)
}

// ToggleFavourite adds a facility to the Merkliste or removes it (POST /favourites with
// id and action=add|remove). Without JavaScript it redirects back to next; asked for
// JSON it answers with the list.
func (h *Handler) ToggleFavourite(c *fiber.Ctx) error {
	// Another site must not edit the list behind the parent's back.
	if site := c.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return apperr.Forbidden("cross_site_request")
	}
	t := tenant.FromFiber(c)
	id, err := uuid.Parse(c.FormValue("id"))
	if err != nil {
		return apperr.Invalid("id", "invalid_id", nil)
	}
	var on bool
	switch c.FormValue("action") {
	case "add":
		if err := h.svc.Exists(c.UserContext(), t, id); err != nil {
			return err
		}
		on = true
	case "remove":
	default:
		return apperr.Invalid("action", "invalid_choice", map[string]any{"allowed": "add, remove"})
	}
	ids, err := h.lists.Set(c, id, on)
	if err != nil {
		return err
	}
	if strings.Contains(c.Get(fiber.HeaderAccept), fiber.MIMEApplicationJSON) {
		out := make([]string, len(ids))
		for i, x := range ids {
			out[i] = x.String()
		}
		return c.JSON(fiber.Map{"ids": out, "count": len(ids)})
	}
	return c.Redirect(localPath(c.FormValue("next")), fiber.StatusSeeOther)
}

// localPath allows only a path of this site as the place to return to.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/favourites"
	}
	return next
}
