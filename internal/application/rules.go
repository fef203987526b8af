package application

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// The rule engine: pure functions over the city's rules and the facts of one request.
// The service gathers the facts from the database; the engine decides. Every refusal
// names the field, the rule (its code) and what to change (the message arguments), so
// parents read e.g. "at most 3 choices" or "a start at most 36 months ahead, so no
// later than 01.12.2029".

// Facts is everything the rules look at for one request.
type Facts struct {
	Today date.Date
	Child ChildFacts
	// Municipality is the key of the family's municipality of residence inside the
	// city's area; "" when the family lives outside (or has no address yet: NoAddress).
	Municipality string
	NoAddress    bool
	HasTicket    bool       // a granted, unexpired ticket for this child and start period
	Ticket       *uuid.UUID // that ticket
	Start        date.Date
	CareHours    int
	Choices      []ChoiceFacts
	Criteria     map[string]string // criterion key → "yes" (flags), the reason (text) or the facility id (facility criteria)
	Declared     bool              // the family declared its criteria answers true
	// Submitting: the checks that only bind at submission (registration windows, the
	// declaration) apply too.
	Submitting bool
	// ActiveOther: the child already has another active application for the period.
	ActiveOther bool
}

// ChildFacts is what the rules know of the child.
type ChildFacts struct {
	BirthDate date.Date // the birth date, or the expected one before birth
	Born      bool
}

// ChoiceFacts is one chosen facility as the rules see it.
type ChoiceFacts struct {
	FacilityID   uuid.UUID
	Name         string
	Type         string // krippe, kindergarten, kita, hort, tagespflege, grosstagespflege
	Municipality string
	District     string         // planning district (Kindertagespflege is routed by it)
	Active       bool           // not closed
	Found        bool           // a facility of this city at all
	Bands        map[string]int // age band → the longest weekly care its groups offer
}

// Limits on free text.
const (
	MaxCriterionText = 2000
	MaxChoicesStored = 20 // the schema's rank limit; no city allows more
)

// Check applies every rule of r to f and returns all refusals at once, so a form can
// mark every problem in one go. An empty list means the request may be filed.
func Check(r *tenant.Rules, f Facts) apperr.List {
	var out apperr.List
	add := func(field, code string, kv ...any) {
		out = append(out, apperr.Invalid(field, code, args(kv...)))
	}
	cal := r.Calendar()
	reg := r.Registration

	// The child: born, or expected where the city registers before birth.
	if !f.Child.Born && !reg.BeforeBirth {
		add("child_id", "child_not_born")
	}

	// The start: a real day after birth, within the lead time and the notice period.
	band, bandOK := tenant.AgeBand{}, false
	switch {
	case f.Start.IsZero():
		add("start_date", "start_date_missing")
	case !f.Start.After(f.Today):
		add("start_date", "start_in_past", "earliest", f.Today.AddMonths(reg.NoticeMonths))
	case f.Start.Before(f.Child.BirthDate):
		add("start_date", "start_before_birth", "birth", f.Child.BirthDate)
	default:
		if earliest := f.Today.AddMonths(reg.NoticeMonths); f.Start.Before(earliest) {
			add("start_date", "start_too_soon", "months", reg.NoticeMonths, "earliest", earliest)
		}
		if latest := f.Today.AddMonths(reg.MaxLeadMonths); f.Start.After(latest) {
			add("start_date", "start_beyond_lead_time", "months", reg.MaxLeadMonths, "latest", latest)
		}
		if band, bandOK = cal.BandAt(f.Child.BirthDate, f.Start); !bandOK {
			add("start_date", "child_no_age_band", "start", f.Start)
		}
	}
	if f.ActiveOther {
		add("start_date", "application_exists_for_period")
	}

	if !validScope(r.CareScopes, f.CareHours) {
		add("care_hours", "care_scope_unknown", "scopes", tenant.ScopesText(r.CareScopes))
	}

	// Residence: residents, ticket holders, or anyone.
	outside := f.Municipality == ""
	switch {
	case f.NoAddress:
		add("address", "family_address_missing")
	case outside && r.Residence.Rule == tenant.ResidentsOnly:
		add("address", "residence_required", "city", r.Name)
	case outside && r.Residence.Rule == tenant.ResidentsAndTickets && !f.HasTicket:
		add("address", "ticket_required", "city", r.Name)
	}

	out = append(out, checkChoices(r, f, band, bandOK)...)
	out = append(out, checkCriteria(r, f)...)

	if f.Submitting {
		if len(reg.Windows) > 0 && !inWindow(reg.Windows, f.Today) {
			from, until := nextWindow(reg.Windows, f.Today)
			add("start_date", "outside_registration_window", "from", from, "until", until)
		}
		if len(f.Criteria) > 0 && !f.Declared {
			add("declaration", "declaration_required")
		}
	}
	return out
}

func checkChoices(r *tenant.Rules, f Facts, band tenant.AgeBand, bandOK bool) apperr.List {
	var out apperr.List
	add := func(field, code string, kv ...any) {
		out = append(out, apperr.Invalid(field, code, args(kv...)))
	}
	reg := r.Registration
	if len(f.Choices) == 0 {
		add("choices", "choices_empty")
		return out
	}
	kitas, tagespflege := 0, 0
	seen := map[uuid.UUID]bool{}
	for i, c := range f.Choices {
		field := "choices." + strconv.Itoa(i)
		if !c.Found {
			add(field, "choice_unknown", "rank", i+1)
			continue
		}
		if seen[c.FacilityID] {
			add(field, "choice_duplicate", "facility", c.Name)
			continue
		}
		seen[c.FacilityID] = true
		if care.IsTagespflege(c.Type) {
			tagespflege++
		} else {
			kitas++
		}
		for _, p := range choiceProblems(r, c, band, bandOK, f.CareHours, f.Municipality, "de") {
			add(field, p.Code, p.Args...)
		}
	}
	if reg.TagespflegeExtraChoice {
		// Kindertagespflege comes on top of the Kita choices (Bochum, Lüneburg), with the
		// same maximum of its own.
		if kitas > reg.MaxChoices {
			add("choices", "choices_too_many", "max", reg.MaxChoices)
		}
		if tagespflege > reg.MaxChoices {
			add("choices", "choices_tagespflege_too_many", "max", reg.MaxChoices)
		}
	} else if kitas+tagespflege > reg.MaxChoices {
		add("choices", "choices_too_many", "max", reg.MaxChoices)
	}
	return out
}

// ChoiceProblem is why a facility cannot take the child as asked: the rule's code and
// its message arguments (name/value pairs).
type ChoiceProblem struct {
	Code string
	Args []any
}

// choiceProblems are the rules one known facility c breaks for a child of band (bandOK:
// the band is known) at careHours (0: not yet known) in municipality ("" outside the
// city's area); lang is the language of the band's label in the message. The checks
// of a request and the request form's shortlist (shortlist.go) share them.
func choiceProblems(r *tenant.Rules, c ChoiceFacts, band tenant.AgeBand, bandOK bool, careHours int, municipality, lang string) []ChoiceProblem {
	if !c.Active {
		return []ChoiceProblem{{"choice_closed", []any{"facility", c.Name}}}
	}
	var out []ChoiceProblem
	if bandOK {
		hours, takes := c.Bands[band.Key]
		switch {
		case !takes:
			out = append(out, ChoiceProblem{"choice_age_mismatch", []any{"facility", c.Name, "band", band.Label.In(lang), "band_key", band.Key}})
		case careHours > hours:
			out = append(out, ChoiceProblem{"choice_scope_not_offered", []any{"facility", c.Name, "hours", careHours, "max", hours}})
		}
	}
	bound := r.Residence.KitaBoundToMunicipality
	if care.IsTagespflege(c.Type) {
		bound = r.Residence.TagespflegeBoundToMunicipality
	}
	if bound && municipality != "" && c.Municipality != municipality {
		out = append(out, ChoiceProblem{"choice_wrong_municipality", []any{"facility", c.Name}})
	}
	return out
}

func checkCriteria(r *tenant.Rules, f Facts) apperr.List {
	var out apperr.List
	for key, val := range f.Criteria {
		c, ok := criterion(r, key)
		field := "criteria." + key
		switch {
		case !ok:
			out = append(out, apperr.Invalid(field, "criterion_unknown", nil))
		case isFacilityCriterion(c):
			// A facility criterion names the chosen facility it is claimed for.
			at, named := claimedAt(val)
			switch {
			case !named:
				out = append(out, apperr.Invalid(field, "criterion_facility_missing", args("criterion", c.Label.In("de"))))
			case !slices.ContainsFunc(f.Choices, func(ch ChoiceFacts) bool { return ch.FacilityID == at }):
				out = append(out, apperr.Invalid(field, "criterion_facility_not_chosen", args("criterion", c.Label.In("de"))))
			}
		case c.Kind == "text" && strings.TrimSpace(val) == "":
			out = append(out, apperr.Invalid(field, "criterion_reason_missing", args("criterion", c.Label.In("de"))))
		case utf8.RuneCountInString(val) > MaxCriterionText:
			out = append(out, apperr.Invalid(field, "field_too_long", args("max", MaxCriterionText)))
		}
	}
	return out
}

func criterion(r *tenant.Rules, key string) (tenant.Criterion, bool) {
	for _, c := range r.Criteria.Catalogue {
		if c.Key == key {
			return c, true
		}
	}
	return tenant.Criterion{}, false
}

// Points sums the global criteria the family claims. Facility criteria (a sibling in
// that facility) count only at the facility they are claimed for, once it confirmed
// them (PointsAt), so they are not in here.
func Points(r *tenant.Rules, criteria map[string]string) int {
	n := 0
	for key := range criteria {
		if c, ok := criterion(r, key); ok && !isFacilityCriterion(c) {
			n += c.Points
		}
	}
	return n
}

func validScope(scopes []int, h int) bool {
	for _, s := range scopes {
		if s == h {
			return true
		}
	}
	return false
}

// inWindow tells whether day lies in one of the yearly windows (MM-DD, both inclusive;
// a window may run over New Year, e.g. 11-01 to 01-31).
func inWindow(ws []tenant.Window, day date.Date) bool {
	md := int(day.Month())*100 + day.Day()
	for _, w := range ws {
		from, until := monthDay(w.From), monthDay(w.Until)
		if from <= until && md >= from && md <= until {
			return true
		}
		if from > until && (md >= from || md <= until) {
			return true
		}
	}
	return false
}

// nextWindow names the window that opens next after day (as MM-DD), for the message.
func nextWindow(ws []tenant.Window, day date.Date) (string, string) {
	md := int(day.Month())*100 + day.Day()
	best, bestDist := ws[0], 10000
	for _, w := range ws {
		d := monthDay(w.From) - md
		if d < 0 {
			d += 1300
		}
		if d < bestDist {
			best, bestDist = w, d
		}
	}
	return best.From, best.Until
}

func monthDay(s string) int {
	md, err := tenant.ParseMonthDay(s)
	if err != nil {
		return 0
	}
	return int(md.Month)*100 + md.Day
}

// args turns name/value pairs into message arguments.
func args(kv ...any) map[string]any {
	if len(kv) == 0 {
		return nil
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}
