package provider

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/platform/date"
)

// OccupancyMonths is how far the occupancy looks ahead: two Kita years.
const OccupancyMonths = 24

// Month is the occupancy of a group (or a whole facility) in one month, counted the way
// the availability engine counts: the places of the period covering the first day, the
// contracts that overlap the month, and the open or accepted offers that start by its end.
type Month struct {
	Month      date.Date `json:"month"`
	Places     int       `json:"places"`
	Contracted int       `json:"contracted"`
	Offered    int       `json:"offered"`
	// Free is places − contracted − offered; negative when the group is over capacity.
	Free int `json:"free"`
}

// Over tells whether more children hold a place than there are places.
func (m Month) Over() bool { return m.Free < 0 }

func (m *Month) add(o Month) {
	m.Places += o.Places
	m.Contracted += o.Contracted
	m.Offered += o.Offered
	m.Free += o.Free
}

// Holding is a contract or an offer, in the group it names (uuid.Nil: none).
type Holding struct {
	Group uuid.UUID
	From  date.Date
	Until date.Date // first day without care; zero: open-ended
	Offer bool
}

// GroupPlaces is a group with its places over time.
type GroupPlaces struct {
	ID      uuid.UUID
	Periods []Period
}

// Occupied is the result of Occupancy: one line per group in the order given, the
// holdings in no (known) group, and the facility's total.
type Occupied struct {
	Groups     map[uuid.UUID][]Month
	Unassigned []Month
	Total      []Month
}

// Occupancy counts places, contracts and offers per group and month (first days, in
// order). It is pure: the same inputs give the same months.
func Occupancy(months []date.Date, groups []GroupPlaces, holdings []Holding) Occupied {
	out := Occupied{Groups: map[uuid.UUID][]Month{}, Unassigned: make([]Month, len(months)), Total: make([]Month, len(months))}
	for _, g := range groups {
		line := make([]Month, len(months))
		for i, m := range months {
			line[i].Month = m
			for _, p := range g.Periods {
				if p.covers(m) {
					line[i].Places = p.Places
					break
				}
			}
		}
		out.Groups[g.ID] = line
	}
	for i, m := range months {
		out.Unassigned[i].Month, out.Total[i].Month = m, m
		next := m.AddMonths(1)
		for _, h := range holdings {
			if !h.From.Before(next) || (!h.Until.IsZero() && !h.Until.After(m)) {
				continue // not in this month
			}
			line, ok := out.Groups[h.Group]
			if !ok {
				line = out.Unassigned
			}
			if h.Offer {
				line[i].Offered++
			} else {
				line[i].Contracted++
			}
		}
	}
	for _, line := range append(groupLines(groups, out.Groups), out.Unassigned) {
		for i := range line {
			line[i].Free = line[i].Places - line[i].Contracted - line[i].Offered
			out.Total[i].add(line[i])
		}
	}
	return out
}

func groupLines(groups []GroupPlaces, by map[uuid.UUID][]Month) [][]Month {
	out := make([][]Month, 0, len(groups))
	for _, g := range groups {
		out = append(out, by[g.ID])
	}
	return out
}

// MonthsFrom lists n first days of months starting with the month of d.
func MonthsFrom(d date.Date, n int) []date.Date {
	out := make([]date.Date, n)
	for i := range out {
		out[i] = d.FirstOfMonth().AddMonths(i)
	}
	return out
}

// GroupOccupancy is one group's line.
type GroupOccupancy struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	AgeBand   string    `json:"age_band"`
	CareHours int       `json:"care_hours"`
	Months    []Month   `json:"months"`
}

// FacilityOccupancy is a facility's occupancy for the next OccupancyMonths months: per
// group, for contracts and offers in no group, and in total.
type FacilityOccupancy struct {
	Facility   Ref              `json:"facility"`
	Groups     []GroupOccupancy `json:"groups"`
	Unassigned []Month          `json:"unassigned"`
	Total      []Month          `json:"total"`
	// OverCapacity tells whether a group or the facility is over capacity in any month.
	OverCapacity bool `json:"over_capacity"`
}

// Occupancy returns the occupancy of facility id.
func (s *Service) Occupancy(ctx context.Context, c auth.Caller, id uuid.UUID) (*FacilityOccupancy, error) {
	var out []FacilityOccupancy
	err := s.read(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		f, err := InScope(ctx, tx, c, id, false)
		if err != nil {
			return err
		}
		out, err = s.occupancy(ctx, tx, c.Tenant.ID, []Ref{*f})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// ProviderOccupancy returns the occupancy of every facility in the caller's scope.
func (s *Service) ProviderOccupancy(ctx context.Context, c auth.Caller) ([]FacilityOccupancy, error) {
	var out []FacilityOccupancy
	err := s.read(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		var fs []Ref
		if err := ScopedFacilities(ctx, tx, c, &fs); err != nil {
			return err
		}
		var err error
		out, err = s.occupancy(ctx, tx, c.Tenant.ID, fs)
		return err
	})
	return out, err
}

// occupancy loads groups, places, contracts and offers of the facilities fs in three
// queries and counts them per month.
func (s *Service) occupancy(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, fs []Ref) ([]FacilityOccupancy, error) {
	months := MonthsFrom(s.Today(), OccupancyMonths)
	first, end := months[0], months[len(months)-1].AddMonths(1)
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID.String()
	}
	type groupRow struct {
		Facility  uuid.UUID `bun:"facility_id"`
		ID        uuid.UUID `bun:"id"`
		Name      string    `bun:"name"`
		AgeBand   string    `bun:"age_band"`
		CareHours int       `bun:"care_hours"`
		From      date.Date `bun:"valid_from"`
		Until     date.Date `bun:"valid_until"`
		Places    int       `bun:"places"`
	}
	var groupRows []groupRow
	if err := tx.NewRaw(`SELECT g.facility_id, g.id, g.name, g.age_band, g.care_hours, gc.valid_from, gc.valid_until, coalesce(gc.places, 0) AS places
		FROM facility_group g
		LEFT JOIN group_capacity gc ON gc.tenant_id = g.tenant_id AND gc.group_id = g.id AND gc.period && daterange(?::date, ?::date)
		WHERE g.tenant_id = ? AND g.facility_id = ANY(?::uuid[])
		ORDER BY g.facility_id, g.age_band, g.name, g.id, gc.valid_from`, first, end, tenantID, pgdialect.Array(ids)).Scan(ctx, &groupRows); err != nil {
		return nil, fmt.Errorf("provider: occupancy groups: %w", err)
	}
	facilityIDs := make([]uuid.UUID, len(fs))
	for i, f := range fs {
		facilityIDs[i] = f.ID
	}
	held, err := availability.Holdings(ctx, tx, tenantID, facilityIDs, first, end)
	if err != nil {
		return nil, err
	}
	groups := map[uuid.UUID][]GroupPlaces{}
	lines := map[uuid.UUID][]GroupOccupancy{}
	for _, r := range groupRows {
		gs := groups[r.Facility]
		if len(gs) == 0 || gs[len(gs)-1].ID != r.ID {
			gs = append(gs, GroupPlaces{ID: r.ID})
			lines[r.Facility] = append(lines[r.Facility], GroupOccupancy{ID: r.ID, Name: r.Name, AgeBand: r.AgeBand, CareHours: r.CareHours})
		}
		if !r.From.IsZero() {
			gs[len(gs)-1].Periods = append(gs[len(gs)-1].Periods, Period{From: r.From, Until: r.Until, Places: r.Places})
		}
		groups[r.Facility] = gs
	}
	holdings := map[uuid.UUID][]Holding{}
	for _, r := range held {
		h := Holding{From: r.From, Until: r.Until, Offer: r.Offer}
		if r.Group != nil {
			h.Group = *r.Group
		}
		holdings[r.Facility] = append(holdings[r.Facility], h)
	}
	out := make([]FacilityOccupancy, len(fs))
	for i, f := range fs {
		occ := Occupancy(months, groups[f.ID], holdings[f.ID])
		fo := FacilityOccupancy{Facility: f, Groups: lines[f.ID], Unassigned: occ.Unassigned, Total: occ.Total}
		if fo.Groups == nil {
			fo.Groups = []GroupOccupancy{}
		}
		for j := range fo.Groups {
			fo.Groups[j].Months = occ.Groups[fo.Groups[j].ID]
		}
		fo.OverCapacity = anyOver(occ.Total) // holdings in no group are in the total
		for _, g := range fo.Groups {
			fo.OverCapacity = fo.OverCapacity || anyOver(g.Months)
		}
		out[i] = fo
	}
	return out, nil
}

func anyOver(ms []Month) bool {
	for _, m := range ms {
		if m.Over() {
			return true
		}
	}
	return false
}
