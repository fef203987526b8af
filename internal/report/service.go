package report

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/contract"
	"kitaportal/internal/family"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/ticket"
)

// Audit actions of the demand planning.
const (
	// ActionUnservedListed: the list of children without a place was shown with names.
	ActionUnservedListed = "planning.unserved_listed"
)

// waitingDays is how far back filed requests count in the waiting times: one year.
const waitingDays = 365

// Service computes the demand planning. Every method is one tenant transaction at
// REPEATABLE READ, so the figures of one report agree with each other.
type Service struct {
	db    bun.IDB
	clock clock.Clock
}

// NewService returns the demand planning's service.
func NewService(db bun.IDB, c clock.Clock) *Service { return &Service{db: db, clock: c} }

// Today is the current day in Germany.
func (s *Service) Today() date.Date { return date.Today(s.clock) }

// Options say what a report carries beyond the districts.
type Options struct {
	// Facilities: every facility of the selection month by month (exports), even without
	// a district or facility in the filter.
	Facilities bool
}

// Report computes the demand planning for f as the caller may see it: the whole city for
// the city's staff, the facilities of their roles' scope for everyone else. A facility
// outside the scope is ErrFacility.
func (s *Service) Report(ctx context.Context, c auth.Caller, f Filter, o Options) (*Report, error) {
	var rep *Report
	err := database.InTenantSnapshot(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		d, err := s.load(ctx, tx, c, f, true)
		if err != nil {
			return err
		}
		rep = build(d, o.Facilities)
		rep.CityWide = len(d.scope) == len(d.facilities)
		if !rep.CityWide {
			rep.Tickets = nil
		}
		return nil
	})
	return rep, database.Classify(err)
}

// UnservedList lists the children whose desired start has passed without a place, in the
// caller's scope and f's selection (its months do not matter: the list is about today),
// by desired start. With names (for callers who may see child data) the children's names
// and birth dates are filled in, and the read is audited with every child shown.
func (s *Service) UnservedList(ctx context.Context, c auth.Caller, f Filter, names bool) ([]Unserved, error) {
	var out []Unserved
	err := database.InTenantSnapshot(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		d, err := s.load(ctx, tx, c, f, false)
		if err != nil {
			return err
		}
		out = newCounter(d, false).unserved()
		if !names || len(out) == 0 {
			return nil
		}
		ids := make([]uuid.UUID, len(out))
		for i, u := range out {
			ids[i] = u.Child
		}
		children, err := family.ChildNames(ctx, tx, c.Tenant.ID, ids)
		if err != nil {
			return err
		}
		byID := make(map[uuid.UUID]family.ChildName, len(children))
		for _, ch := range children {
			byID[ch.ID] = ch
		}
		for i := range out {
			if ch, ok := byID[out[i].Child]; ok {
				birth := ch.Birth
				out[i].FirstName, out[i].LastName, out[i].Birth = ch.FirstName, ch.LastName, &birth
			}
		}
		slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionUnservedListed, ObjectKind: "planning",
			ChildIDs: slices.Compact(ids), Details: map[string]any{"children": len(ids), "filter": f.Query(d.today)}})
	})
	if out == nil {
		out = []Unserved{}
	}
	return out, database.Classify(err)
}

// RecordExport audits an export of the demand planning (aggregate figures, no child
// data) with its format and filter.
func (s *Service) RecordExport(ctx context.Context, c auth.Caller, f Filter, format string) error {
	return database.Classify(database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: audit.ActionExport, ObjectKind: "planning",
			Details: map[string]any{"format": format, "filter": f.Query(s.Today()), "months": strconv.Itoa(f.Months)}})
	}))
}

// load reads what a report counts; places says whether groups, contracts and offers
// are needed (not for the list of unserved children).
func (s *Service) load(ctx context.Context, tx bun.Tx, c auth.Caller, f Filter, places bool) (*data, error) {
	today := s.Today()
	t := c.Tenant
	d := &data{rules: t.Rules, filter: f, today: today, since: today.AddDays(-waitingDays), contracted: map[uuid.UUID]bool{}}
	var err error
	if d.facilities, err = provider.PlanningFacilities(ctx, tx, t.ID); err != nil {
		return nil, err
	}
	scope, err := provider.ScopeFacilityIDs(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	d.scope = make(map[uuid.UUID]bool, len(scope))
	for _, id := range scope {
		d.scope[id] = true
	}
	if f.Facility != uuid.Nil && !d.scope[f.Facility] {
		return nil, ErrFacility
	}
	if places {
		if d.inputs, err = availability.LoadInputs(ctx, tx, t.ID, f.From, f.End()); err != nil {
			return nil, err
		}
	} else {
		d.inputs = &availability.Inputs{}
	}
	if d.requests, err = application.ForPlanning(ctx, tx, t.ID, midnight(d.since)); err != nil {
		return nil, err
	}
	children := make([]uuid.UUID, 0, len(d.requests))
	var recent, late []uuid.UUID
	for _, r := range d.requests {
		children = append(children, r.ChildID)
		if r.SubmittedAt != nil && !date.In(*r.SubmittedAt).Before(d.since) {
			recent = append(recent, r.ID)
		}
		if r.Waiting() && !r.Start.After(today) {
			late = append(late, r.ChildID)
		}
	}
	if d.births, err = family.ChildBirths(ctx, tx, t.ID, children); err != nil {
		return nil, err
	}
	if d.offers, err = offer.MadeOnRequests(ctx, tx, t.ID, recent); err != nil {
		return nil, err
	}
	placed, err := contract.ChildIDsUnderContractOn(ctx, tx, t.ID, late, today)
	if err != nil {
		return nil, err
	}
	for _, id := range placed {
		d.contracted[id] = true
	}
	if places && t.Rules.Tickets.Enabled {
		if d.tickets, err = s.tickets(ctx, tx, c, f); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// tickets is the quota use of every Kita year the report's months touch, for the bands
// the rules give a quota.
func (s *Service) tickets(ctx context.Context, tx bun.Tx, c auth.Caller, f Filter) ([]TicketQuota, error) {
	r := c.Tenant.Rules
	uses, err := ticket.QuotaUses(ctx, tx, c.Tenant.ID)
	if err != nil {
		return nil, err
	}
	cal := r.Calendar()
	var years []date.Date
	for _, m := range f.MonthList() {
		if y := cal.YearStart(m); !slices.ContainsFunc(years, y.Equal) {
			years = append(years, y)
		}
	}
	out := []TicketQuota{}
	for _, y := range years {
		for _, b := range r.AgeBands {
			quota, ok := r.Tickets.Quota[b.Key]
			if !ok || (f.Band != "" && f.Band != b.Key) {
				continue
			}
			q := TicketQuota{KitaYear: y, Band: b.Key, Quota: quota}
			for _, u := range uses {
				if u.KitaYear.Equal(y) && u.AgeBand == b.Key {
					q.Granted, q.Requested = u.Granted, u.Waiting
				}
			}
			q.Left = q.Quota - q.Granted
			out = append(out, q)
		}
	}
	return out, nil
}

// midnight is the start of day d in Germany.
func midnight(d date.Date) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, clock.Berlin)
}
