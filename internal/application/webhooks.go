package application

import (
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/webhook"
)

// requestEvent is the webhook event of request id moving from → to (the same status: a
// change of its content). A draft is the family's own until it is filed: its moves are
// no event (Type empty).
func requestEvent(id uuid.UUID, from, to Status, reference string, now time.Time) webhook.Event {
	typ := webhook.ApplicationChanged
	switch {
	case from == StatusDraft && to == StatusSubmitted:
		typ = webhook.ApplicationSubmitted
	case from == StatusDraft:
		typ = ""
	case to == StatusWithdrawn:
		typ = webhook.ApplicationWithdrawn
	}
	data := map[string]any{"application_id": id, "status": to, "previous_status": from}
	if reference != "" {
		data["reference"] = reference
	}
	return webhook.Event{Type: typ, ObjectID: id, Data: data, At: now}
}
