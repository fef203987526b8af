package placement

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/contract"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/platform/view"
)

// The pages and API of offers: the family's offers with accept and decline and the
// contract PDF; the facilities' offers with withdrawal and confirmation; making an offer
// from a request. Pages work without JavaScript (plain forms, redirect after post).

// Handler serves offers.
type Handler struct {
	s        *Service
	requests *application.Service // the request page a refused offer goes back to
	forms    view.Forms
	files    storage.Storage
}

// NewHandler returns the handlers.
func NewHandler(s *Service, requests *application.Service, views *view.Renderer, authn *auth.Authenticator, files storage.Storage) *Handler {
	return &Handler{s: s, requests: requests, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}, files: files}
}

// offersData is the family's offers page.
type offersData struct{ Offers []View }

// List shows the family's offers.
func (h *Handler) List(c *fiber.Ctx) error {
	os, err := h.s.Mine(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.forms.Show(c, fiber.StatusOK, "offers", "offer.title", nil, offersData{Offers: os})
}

// Show shows one offer of the family.
func (h *Handler) Show(c *fiber.Ctx) error {
	return h.show(c, nil)
}

func (h *Handler) show(c *fiber.Ctx, failure error) error {
	return h.offerPage(c, failure, "offer", "offer.title", h.s.Own)
}

// offerPage shows the offer of the path, read by read, on page; with failure the form
// comes back with its reasons.
func (h *Handler) offerPage(c *fiber.Ctx, failure error, page, title string,
	read func(context.Context, auth.Caller, uuid.UUID) (*View, error)) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v, err := read(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if failure != nil {
		return h.forms.Failed(c, failure, page, title, view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), v)
	}
	return h.forms.Show(c, fiber.StatusOK, page, title, nil, v)
}

// Accept accepts the offer (a second click lands on the same page).
func (h *Handler) Accept(c *fiber.Ctx) error {
	return h.step(c, "/offers/", "offer_accepted", h.answerFailed, func(call auth.Caller, id uuid.UUID) error {
		_, err := h.s.Accept(c.UserContext(), call, id)
		return err
	})
}

// Decline declines the offer.
func (h *Handler) Decline(c *fiber.Ctx) error {
	return h.step(c, "/offers/", "offer_declined", h.answerFailed, func(call auth.Caller, id uuid.UUID) error {
		_, err := h.s.Decline(c.UserContext(), call, id, c.FormValue("reason"))
		return err
	})
}

// step runs a form's action on the offer of the path and redirects to its page with
// the confirmation done; a refusal goes to failed, which shows the page with the reason.
func (h *Handler) step(c *fiber.Ctx, page, done string, failed func(*fiber.Ctx, error) error, action func(auth.Caller, uuid.UUID) error) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := action(auth.CallerOf(c), id); err != nil {
		return failed(c, err)
	}
	return c.Redirect(page+id.String()+"?done="+done, fiber.StatusSeeOther)
}

// Reserve reserves the place of a choice of the family's request (Leipzig).
func (h *Handler) Reserve(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	rank, _ := strconv.Atoi(c.FormValue("rank")) // no such choice: not found
	o, err := h.s.Reserve(c.UserContext(), auth.CallerOf(c), id, rank)
	if err != nil {
		return err
	}
	return c.Redirect("/offers/"+o.ID.String()+"?done=offer_reserved", fiber.StatusSeeOther)
}

// ConfirmReservation is the facility's confirmation of a reservation.
func (h *Handler) ConfirmReservation(c *fiber.Ctx) error {
	return h.step(c, "/staff/offers/", "offer_confirmed", h.staffFailed, func(call auth.Caller, id uuid.UUID) error {
		_, err := h.s.ConfirmReservation(c.UserContext(), call, id)
		return err
	})
}

// answerFailed shows the offer again with the reason; unknown ids stay 404.
func (h *Handler) answerFailed(c *fiber.Ctx, err error) error {
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		return err
	}
	return h.show(c, err)
}

// Contract downloads the care contract of an accepted offer.
func (h *Handler) Contract(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	doc, err := h.s.ContractDocument(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return contract.SendDocument(c, h.files, doc.Key, doc.Name)
}

// staffOffersData is the facilities' offers page.
type staffOffersData struct {
	Open, Waiting, Ended []View
	Facility             string // the facility filter, as given
	// Candidates are, for one facility, the next requests in the city's order that
	// still wait for a place there.
	Candidates []application.RequestRow
}

// maxCandidates is how many of the next requests the offers page lists.
const maxCandidates = 10

// StaffList shows the offers at the facilities of the caller's scope, grouped: open ones
// with their deadlines, those waiting to go out, the finished ones.
func (h *Handler) StaffList(c *fiber.Ctx) error {
	facility, err := optionalID(c.Query("facility"), "facility")
	if err != nil {
		return err
	}
	vs, err := h.s.AtFacilities(c.UserContext(), auth.CallerOf(c), facility)
	if err != nil {
		return err
	}
	d := staffOffersData{Facility: c.Query("facility")}
	if facility != uuid.Nil {
		rows, err := h.requests.Requests(c.UserContext(), auth.CallerOf(c), application.Filter{Facility: facility, Sort: "points"})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Status.In(application.Deciding) && (r.ChoiceStatus == application.ChoicePending || r.ChoiceStatus == application.ChoiceInReview) &&
				len(d.Candidates) < maxCandidates {
				d.Candidates = append(d.Candidates, r)
			}
		}
	}
	for _, v := range vs {
		switch {
		case v.Status == "open" || v.Status == "accepted":
			d.Open = append(d.Open, v)
		case !v.Status.Finished():
			d.Waiting = append(d.Waiting, v)
		default:
			d.Ended = append(d.Ended, v)
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.forms.Show(c, fiber.StatusOK, "staff_offers", "offer.staff.title", nil, d)
}

// StaffShow shows one offer to staff.
func (h *Handler) StaffShow(c *fiber.Ctx) error { return h.staffShow(c, nil) }

func (h *Handler) staffShow(c *fiber.Ctx, failure error) error {
	return h.offerPage(c, failure, "staff_offer", "offer.staff.title", h.s.Staff)
}

// Make offers a place from the request page; a refusal goes back there with the reason.
func (h *Handler) Make(c *fiber.Ctx) error {
	in, err := newOfferOf(c.FormValue("application_id"), c.FormValue("rank"), c.FormValue("group_id"), c.FormValue("reason"))
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	o, err := h.s.Make(c.UserContext(), call, in)
	if err != nil {
		// The request page again, with the reason next to the offer's form.
		v, verr := h.requests.Request(c.UserContext(), call, in.ApplicationID)
		if verr != nil {
			return err
		}
		return h.forms.Failed(c, err, "staff_request", "requests.show.title", view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), v)
	}
	return c.Redirect("/staff/offers/"+o.ID.String()+"?done=offer_made", fiber.StatusSeeOther)
}

// Confirm confirms a waiting offer.
func (h *Handler) Confirm(c *fiber.Ctx) error {
	return h.step(c, "/staff/offers/", "offer_confirmed", h.staffFailed, func(call auth.Caller, id uuid.UUID) error {
		_, err := h.s.Confirm(c.UserContext(), call, id)
		return err
	})
}

// Withdraw takes an offer back with the reason given.
func (h *Handler) Withdraw(c *fiber.Ctx) error {
	return h.step(c, "/staff/offers/", "offer_withdrawn", h.staffFailed, func(call auth.Caller, id uuid.UUID) error {
		_, err := h.s.Withdraw(c.UserContext(), call, id, c.FormValue("reason"))
		return err
	})
}

func (h *Handler) staffFailed(c *fiber.Ctx, err error) error {
	if e, ok := apperr.As(err); ok && (e.Kind == apperr.KindNotFound || e.Kind == apperr.KindForbidden) {
		return err
	}
	return h.staffShow(c, err)
}

// newOfferOf reads a new offer from form or body values.
func newOfferOf(application, rank, group, reason string) (NewOffer, error) {
	var in NewOffer
	var err error
	if in.ApplicationID, err = uuid.Parse(application); err != nil {
		return in, apperr.Invalid("application_id", "invalid_id", nil)
	}
	if in.Rank, err = strconv.Atoi(rank); err != nil || in.Rank < 1 || in.Rank > 20 {
		return in, apperr.Invalid("rank", "invalid_rank", nil)
	}
	if in.GroupID, err = optionalID(group, "group_id"); err != nil {
		return in, err
	}
	in.Reason = reason
	return in, nil
}

func optionalID(s, field string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, apperr.Invalid(field, "invalid_id", nil)
	}
	return id, nil
}

// The JSON API (API.md): the family's GET /api/v1/offers, POST …/{id}/accept and
// …/{id}/decline {reason?}; staff under /api/v1/staff/offers.

// APIList answers GET /api/v1/offers.
func (h *Handler) APIList(c *fiber.Ctx) error {
	os, err := h.s.Mine(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": os})
}

// APIGet answers GET /api/v1/offers/{id}.
func (h *Handler) APIGet(c *fiber.Ctx) error {
	return h.apiStep(c, func(call auth.Caller, id uuid.UUID) (*View, error) { return h.s.Own(c.UserContext(), call, id) })
}

// APIAccept answers POST /api/v1/offers/{id}/accept.
func (h *Handler) APIAccept(c *fiber.Ctx) error {
	return h.apiStep(c, func(call auth.Caller, id uuid.UUID) (*View, error) {
		if _, err := h.s.Accept(c.UserContext(), call, id); err != nil {
			return nil, err
		}
		return h.s.Own(c.UserContext(), call, id)
	})
}

type reasonBody struct {
	Reason string `json:"reason"`
}

func optionalBody(c *fiber.Ctx, v any) error {
	if len(c.Body()) == 0 {
		return nil
	}
	return httpserver.DecodeJSON(c, v)
}

// APIDecline answers POST /api/v1/offers/{id}/decline {reason?}.
func (h *Handler) APIDecline(c *fiber.Ctx) error {
	var b reasonBody
	if err := optionalBody(c, &b); err != nil {
		return err
	}
	return h.apiStep(c, func(call auth.Caller, id uuid.UUID) (*View, error) {
		if _, err := h.s.Decline(c.UserContext(), call, id, b.Reason); err != nil {
			return nil, err
		}
		return h.s.Own(c.UserContext(), call, id)
	})
}

// APIStaffList answers GET /api/v1/staff/offers?facility=.
func (h *Handler) APIStaffList(c *fiber.Ctx) error {
	facility, err := optionalID(c.Query("facility"), "facility")
	if err != nil {
		return err
	}
	vs, err := h.s.AtFacilities(c.UserContext(), auth.CallerOf(c), facility)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": vs})
}

// APIStaffGet answers GET /api/v1/staff/offers/{id}.
func (h *Handler) APIStaffGet(c *fiber.Ctx) error {
	return h.apiStep(c, func(call auth.Caller, id uuid.UUID) (*View, error) { return h.s.Staff(c.UserContext(), call, id) })
}

// APIMake answers POST /api/v1/staff/offers {application_id, rank, group_id?, reason?}:
// 201 with the offer.
func (h *Handler) APIMake(c *fiber.Ctx) error {
	var b struct {
		ApplicationID string `json:"application_id"`
		Rank          int    `json:"rank"`
		GroupID       string `json:"group_id"`
		Reason        string `json:"reason"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	in, err := newOfferOf(b.ApplicationID, strconv.Itoa(b.Rank), b.GroupID, b.Reason)
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	o, err := h.s.Make(c.UserContext(), call, in)
	if err != nil {
		return err
	}
	v, err := h.s.Staff(c.UserContext(), call, o.ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

// APIReserve answers POST /api/v1/applications/{id}/reserve {rank}: 201 with the
// reservation.
func (h *Handler) APIReserve(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Rank int `json:"rank"`
	}
	if err := httpserver.DecodeJSON(c, &b); err != nil {
		return err
	}
	call := auth.CallerOf(c)
	o, err := h.s.Reserve(c.UserContext(), call, id, b.Rank)
	if err != nil {
		return err
	}
	v, err := h.s.Own(c.UserContext(), call, o.ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

// APIConfirmReservation answers POST /api/v1/staff/offers/{id}/confirm-reservation.
func (h *Handler) APIConfirmReservation(c *fiber.Ctx) error {
	return h.apiStep(c, func(call auth.Caller, id uuid.UUID) (*View, error) {
		return h.s.ConfirmReservation(c.UserContext(), call, id)
	})
}

// apiStep answers an action on the offer of the path with the offer as it is after it.
func (h *Handler) apiStep(c *fiber.Ctx, action func(auth.Caller, uuid.UUID) (*View, error)) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v, err := action(auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}

// APIConfirm answers POST /api/v1/staff/offers/{id}/confirm.
func (h *Handler) APIConfirm(c *fiber.Ctx) error {
	return h.apiStep(c, func(call auth.Caller, id uuid.UUID) (*View, error) { return h.s.Confirm(c.UserContext(), call, id) })
}

// APIWithdraw answers POST /api/v1/staff/offers/{id}/withdraw {reason}.
func (h *Handler) APIWithdraw(c *fiber.Ctx) error {
	var b reasonBody
	if err := optionalBody(c, &b); err != nil {
		return err
	}
	return h.apiStep(c, func(call auth.Caller, id uuid.UUID) (*View, error) {
		return h.s.Withdraw(c.UserContext(), call, id, b.Reason)
	})
}
