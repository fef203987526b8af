// Package application is the pre-registration (Vormerkung): a family's request for one
// child, one desired start and care scope, at up to N ranked facilities under the city's
// rules (rules.go), from draft to submitted with a reference number, editable until
// processing starts, withdrawable, with its history. Around it: the mails and inbox
// notices of every change, the routing of Kindertagespflege choices to the district's
// Fachberatung, the staff's request lists with the facilities' decisions, and the filing
// of the requests staff enter for a family (walk-ins and the waitlist import: casework).
//
// The statuses already carry the offer and contract flow that follows: an application
// is draft → submitted → in_review → offered → accepted → contracted, or ends refused,
// withdrawn, expired or closed (lifecycle.go has the table every change goes through).
package application

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// Sources of an application.
const (
	SourceOnline = "online"
	SourceWalkIn = "walk_in"
	SourceImport = "import"
)

// Application is one request with its choices and history.
type Application struct {
	ID           uuid.UUID         `json:"id"`
	Reference    string            `json:"reference,omitempty"`
	Status       Status            `json:"status"`
	ChildID      uuid.UUID         `json:"child_id"`
	Child        ChildSummary      `json:"child"`
	StartDate    date.Date         `json:"start_date"`
	CareHours    int               `json:"care_hours"`
	Criteria     map[string]string `json:"criteria"`
	Points       int               `json:"points"` // the global criteria's: they count at every choice
	Source       string            `json:"source"`
	SubmittedAt  *time.Time        `json:"submitted_at,omitempty"`
	DeclaredAt   *time.Time        `json:"declared_at,omitempty"`
	TicketID     *uuid.UUID        `json:"ticket_id,omitempty"`
	Version      int               `json:"version"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	Choices      []Choice          `json:"choices"`
	History      []HistoryEntry    `json:"history"`
	Editable     bool              `json:"editable"`
	Withdrawable bool              `json:"withdrawable"`
	// Tagespflege lists the Fachberatung each Kindertagespflege choice went to.
	Tagespflege []Routing `json:"tagespflege,omitempty"`
	// Claims are the facility criteria claimed for a chosen facility, with where that
	// facility stands on each (claims.go).
	Claims []Claim `json:"claims,omitempty"`
}

// ChildSummary names the child of an application.
type ChildSummary struct {
	FirstName string    `json:"first_name"`
	LastName  string    `json:"last_name"`
	BirthDate date.Date `json:"birth_date"`
	Born      bool      `json:"born"`
}

// Choice is one ranked facility of an application.
type Choice struct {
	Rank     int          `json:"rank"`
	Facility Facility     `json:"facility"`
	Status   ChoiceStatus `json:"status"`
	Note     string       `json:"note,omitempty"`
	Updated  time.Time    `json:"updated_at"`
	// Points count here: the global criteria and the facility criteria this facility
	// confirmed.
	Points int `json:"points"`
	// TurnUntil: in a cascade city, until when this facility has the request.
	TurnUntil *time.Time `json:"turn_until,omitempty"`
}

// Facility names a chosen facility.
type Facility struct {
	ID       uuid.UUID `json:"id"`
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	District string    `json:"district,omitempty"`
}

// HistoryEntry is one entry of an application's history.
type HistoryEntry struct {
	At        time.Time `json:"at"`
	ActorKind string    `json:"actor"`
	From      Status    `json:"from_status,omitempty"`
	To        Status    `json:"to_status"`
	Note      string    `json:"note,omitempty"`
}

// Routing tells where a Kindertagespflege choice went: the district's Fachberatung.
type Routing struct {
	Facility     string         `json:"facility"`
	District     string         `json:"district"`
	Fachberatung tenant.Contact `json:"fachberatung"`
}

// editable: a draft always; a submitted request until processing starts (no choice is
// beyond pending) and until the city's cut-off before the desired start.
func editable(a *Application, r *tenant.Rules, today date.Date) bool {
	switch a.Status {
	case StatusDraft:
		return true
	case StatusSubmitted:
		for _, c := range a.Choices {
			if c.Status != ChoicePending {
				return false
			}
		}
		cutoff := a.StartDate.AddDays(-r.Registration.EditableDaysBeforeStart)
		return !today.After(cutoff)
	}
	return false
}

// withdrawable: until a place was accepted, a family may take its request back.
func withdrawable(a *Application) bool {
	_, ok := Next(a.Status, EventWithdraw)
	return ok
}

// Input is an application as the family (or staff entering it) types it.
type Input struct {
	ChildID   uuid.UUID
	StartDate string
	CareHours int
	Choices   []uuid.UUID // ranked
	Criteria  map[string]string
	Declared  bool
}

// Criteria answers in JSON: true for a flag, a string for a reason or, for a facility
// criterion, the id of the chosen facility it is claimed for; false or "" leaves the
// criterion out.
type Criteria map[string]string

// UnmarshalJSON reads {"employment": true, "hardship": "…"}.
func (c *Criteria) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*c = Criteria{}
	for k, v := range raw {
		switch x := v.(type) {
		case bool:
			if x {
				(*c)[k] = FlagYes
			}
		case string:
			if strings.TrimSpace(x) != "" {
				(*c)[k] = x
			}
		default:
			return apperr.Invalid("criteria."+k, "criterion_value_invalid", nil)
		}
	}
	return nil
}

// FlagYes is how a claimed flag criterion is stored.
const FlagYes = "yes"

// ErrNotFound answers unknown ids, other families' and other cities' alike.
var ErrNotFound = apperr.NotFound("not_found")
