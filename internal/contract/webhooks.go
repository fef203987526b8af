package contract

import (
	"time"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/webhook"
)

// contractEvent is the webhook event typ of contract k, now in status (its end: the
// first day without care; zero: open-ended).
func contractEvent(typ string, k *Contract, status string, end date.Date) webhook.Event {
	data := map[string]any{"contract_id": k.ID, "child_id": k.ChildID, "facility_id": k.FacilityID, "status": status,
		"start_date": k.Start.String(), "care_hours": k.CareHours}
	if !end.IsZero() {
		data["end_date"] = end.String()
	}
	return webhook.Event{Type: typ, ObjectID: k.ID, Data: data, At: time.Now()}
}
