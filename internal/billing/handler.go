package billing

import (
	"github.com/gofiber/fiber/v2"
	"github.com/stripe/stripe-go/v76/webhook"

	"kitaportal/internal/platform/apperr"
)

// Handler receives Stripe's webhooks on the base domain.
type Handler struct {
	svc    *Service
	secret string // STRIPE_WEBHOOK_SECRET; empty: billing is not set up here
}

// NewHandler returns the webhook handler.
func NewHandler(svc *Service, secret string) *Handler { return &Handler{svc: svc, secret: secret} }

// ErrBadSignature: the request does not come from Stripe (or is older than five minutes).
var ErrBadSignature = apperr.New(apperr.KindBadRequest, "invalid_signature")

// Webhook verifies the Stripe-Signature header and applies the event. stripe-go v76 pins
// API version 2023-10-16; an account on a newer version still sends events we can read,
// so the version check is relaxed while the signature and its age are checked strictly.
func (h *Handler) Webhook(c *fiber.Ctx) error {
	if h.secret == "" {
		return fiber.ErrNotFound
	}
	ev, err := webhook.ConstructEventWithOptions(c.Body(), c.Get("Stripe-Signature"), h.secret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		return ErrBadSignature.Wrap(err)
	}
	outcome, err := h.svc.Apply(c.UserContext(), ev)
	if err != nil {
		return err // 500: Stripe retries later
	}
	return c.JSON(fiber.Map{"received": true, "outcome": outcome})
}
