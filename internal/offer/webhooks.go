package offer

import (
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/webhook"
)

// offerTypes are the offer statuses a back office hears of, with their webhook event: an
// offer made (out to the family) and answered. The waiting steps before it goes out,
// staff withdrawals and the contract (contract.created) are no offer event.
var offerTypes = map[Status]string{
	StatusOpen: webhook.OfferMade, StatusAccepted: webhook.OfferAccepted, StatusDeclined: webhook.OfferDeclined,
	StatusExpired: webhook.OfferExpired,
}

// offerEvent is the webhook event of offer id reaching status to (Type empty: none).
func offerEvent(id uuid.UUID, from, to Status, data map[string]any, now time.Time) webhook.Event {
	if data == nil {
		data = map[string]any{}
	}
	data["offer_id"], data["status"] = id, to
	if from != "" && from != to {
		data["previous_status"] = from
	}
	return webhook.Event{Type: offerTypes[to], ObjectID: id, Data: data, At: now}
}
