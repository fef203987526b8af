// Package report is the demand planning (Bedarfsplanung) of a city: per planning district,
// age band and month, how many children wait for a place (demand), how many places there
// are, how many are held by contracts and offers, what is free and how far the places
// cover the need; the children whose desired start has passed without a place (the list
// the Jugendamt keeps for the legal claim of §24 SGB VIII); waiting times from request to
// offer and first choices; out-of-town tickets against the quota. Charts are drawn as SVG
// on the server (svg.go) with their numbers as tables; CSV and Excel exports (export.go).
//
// The package owns no table: it reads through the owners (provider, availability,
// application, family, offer, contract, ticket) and counts in Go. Places, contracts and
// offers are counted by availability's rule (the search's "voraussichtlich frei"): the
// places of the capacity period covering a month's first day; contracts overlapping the
// month; open or accepted offers starting by its end; each holder in the band the child is
// in that month. Kindertagespflege is counted beside the Kitas; district desks (brokered)
// take requests but have no places.
//
// A request counts at one facility: its highest-ranked choice among the facilities the
// caller's roles reach (for the city's own staff, the first choice), so the districts of
// one report add up to its total and a provider admin sees the demand on their
// facilities. It waits while it is filed and no offer was made on it (submitted, in
// review): it is demand in the month of its desired start and waiting from then on, in
// the band the child is in that month.
package report

import (
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/application"
	"kitaportal/internal/availability"
	"kitaportal/internal/care"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// Figures are the numbers of one district, band (or facility) and month.
type Figures struct {
	// Demand: waiting requests whose desired start lies in this month.
	Demand int `json:"demand"`
	// Waiting: waiting requests whose desired start lies in this month or before.
	Waiting int `json:"waiting"`
	// Places of the groups in this month (capacity period covering the first day).
	Places int `json:"places"`
	// Contracted: contracts overlapping the month.
	Contracted int `json:"contracted"`
	// Offered: open or accepted offers starting by the end of the month.
	Offered int `json:"offered"`
	// Free is places − contracted − offered; negative when over capacity.
	Free int `json:"free"`
	// Coverage is places / (contracted + offered + waiting): 1 covers every child holding
	// or waiting for a place; null when no child does.
	Coverage *float64 `json:"coverage"`
}

// Need is every child holding or waiting for a place.
func (f Figures) Need() int { return f.Contracted + f.Offered + f.Waiting }

// counts are what is added up; Figures derive from them.
type counts struct{ demand, waiting, places, contracted, offered int }

func (c *counts) add(o counts) {
	c.demand += o.demand
	c.waiting += o.waiting
	c.places += o.places
	c.contracted += o.contracted
	c.offered += o.offered
}

func (c counts) figures() Figures {
	f := Figures{Demand: c.demand, Waiting: c.waiting, Places: c.places, Contracted: c.contracted, Offered: c.offered,
		Free: c.places - c.contracted - c.offered}
	if need := f.Need(); need > 0 {
		r := math.Round(float64(c.places)/float64(need)*1000) / 1000
		f.Coverage = &r
	}
	return f
}

// Month is one month of a series: the figures of Kitas and Kindertagespflege together,
// and of each.
type Month struct {
	Month date.Date `json:"month"`
	Figures
	Kita        Figures `json:"kita"`
	Tagespflege Figures `json:"tagespflege"`
}

// Series is one age band month by month.
type Series struct {
	Band   string  `json:"band"`
	Months []Month `json:"months"`
}

// District is one planning district with a series per age band. Key "" gathers the
// facilities outside the planning districts.
type District struct {
	Key   string   `json:"key"`
	Name  string   `json:"name"`
	Bands []Series `json:"bands"`
}

// FacilityMonth is a facility's figures of one month, every band together.
type FacilityMonth struct {
	Month date.Date `json:"month"`
	Figures
}

// FacilitySeries is one facility month by month: the drill-down of a district.
type FacilitySeries struct {
	ID           uuid.UUID       `json:"id"`
	Name         string          `json:"name"`
	Type         string          `json:"type"`
	District     string          `json:"district"`
	ProviderKind string          `json:"provider_kind"`
	Months       []FacilityMonth `json:"months"`
}

// WaitingTime is how long requests filed lately waited for their first offer, and how
// many got a place at their first choice.
type WaitingTime struct {
	Requests int `json:"requests"` // filed in the period
	Offered  int `json:"offered"`  // with at least one offer
	// MedianDays and P90Days: calendar days from filing to the first offer (linear
	// interpolation between ranks); null without offers.
	MedianDays  *float64 `json:"median_days"`
	P90Days     *float64 `json:"p90_days"`
	Placed      int      `json:"placed"`       // an offer accepted or become a contract
	FirstChoice int      `json:"first_choice"` // of those placed: at the first choice
	// FirstChoiceShare is FirstChoice / Placed; null when none was placed.
	FirstChoiceShare *float64 `json:"first_choice_share"`
}

// Waiting is WaitingTime for every request filed since Since, and for Kitas and
// Kindertagespflege apart.
type Waiting struct {
	Since       date.Date   `json:"since"`
	All         WaitingTime `json:"all"`
	Kita        WaitingTime `json:"kita"`
	Tagespflege WaitingTime `json:"tagespflege"`
}

// TicketQuota is how much of one Kita year's quota of out-of-town tickets for one band is
// used.
type TicketQuota struct {
	KitaYear  date.Date `json:"kita_year"`
	Band      string    `json:"band"`
	Quota     int       `json:"quota"`
	Granted   int       `json:"granted"`
	Requested int       `json:"requested"` // waiting for a decision
	Left      int       `json:"left"`      // quota − granted; negative when over
}

// Report is the demand planning for a filter.
type Report struct {
	Filter Filter    `json:"filter"`
	Today  date.Date `json:"today"`
	// CityWide: the caller's roles reach every facility of the city (the tickets, which
	// are not a facility's, are shown only then).
	CityWide  bool        `json:"city_wide"`
	MonthList []date.Date `json:"-"`
	Districts []District  `json:"districts"`
	// Total is the whole selection per band, every district together.
	Total []Series `json:"total"`
	// Facilities: each facility of the selection, when the filter names a district or a
	// facility, or the caller asks for them (exports).
	Facilities []FacilitySeries `json:"facilities,omitempty"`
	Waiting    Waiting          `json:"waiting_time"`
	// TicketsEnabled: the city uses out-of-town tickets; Tickets only for CityWide callers.
	TicketsEnabled bool          `json:"tickets_enabled"`
	Tickets        []TicketQuota `json:"tickets,omitempty"`
	// Unserved counts the children whose desired start has passed without a place.
	Unserved int `json:"unserved"`
}

// Unserved is a child whose desired start has passed without a place: a request still
// waiting, its start on or before today, and no contract running today. Names and the
// birth date are filled only for callers who may see child data.
type Unserved struct {
	Request      uuid.UUID  `json:"request_id"`
	Reference    string     `json:"reference"`
	Child        uuid.UUID  `json:"child_id"`
	FirstName    string     `json:"first_name,omitempty"`
	LastName     string     `json:"last_name,omitempty"`
	Birth        *date.Date `json:"birth_date,omitempty"`
	Band         string     `json:"band"` // today; "" when the child fits no band
	District     string     `json:"district"`
	Facility     uuid.UUID  `json:"facility_id"`
	FacilityName string     `json:"facility"`
	Tagespflege  bool       `json:"tagespflege"`
	Start        date.Date  `json:"start_date"`
	CareHours    int        `json:"care_hours"`
	SubmittedAt  *time.Time `json:"submitted_at,omitempty"`
	DaysOverdue  int        `json:"days_overdue"` // days since the desired start
}

// Care types: Kitas (every type but Kindertagespflege) and Kindertagespflege.
const (
	kindKita = iota
	kindTagespflege
	kinds
)

// data is everything one report counts, read by the service.
type data struct {
	rules      *tenant.Rules
	filter     Filter
	today      date.Date
	facilities []provider.PlanningFacility
	scope      map[uuid.UUID]bool // facilities the caller's roles reach
	inputs     *availability.Inputs
	requests   []application.Planned
	births     map[uuid.UUID]date.Date
	offers     []offer.Made
	contracted map[uuid.UUID]bool // children under contract today
	since      date.Date          // requests filed since then count in the waiting times
	tickets    []TicketQuota
}

// facility is a facility of the selection as the counting needs it.
type facility struct {
	*provider.PlanningFacility
	district int // index into the report's districts
	kind     int
	series   []counts // per month, every band (for the drill-down)
}

// counter adds everything up for one report.
type counter struct {
	d        *data
	months   []date.Date
	bands    []tenant.AgeBand // the rules' bands (all of them: a child's band is found among all)
	bandIdx  map[string]int
	bandSel  []bool
	cal      tenant.Calendar
	births   map[int64][]int8 // the band index (−1: none) of a birth date (its day number) at each month's first day
	distKeys []string         // the report's districts, the rules' order, "" last
	selected map[uuid.UUID]*facility
	cells    []counts // [district][band][kind][month]
	withFac  bool
}

// inSelection tells whether a facility passes the filter (and the caller's scope).
func (d *data) inSelection(f *provider.PlanningFacility) bool {
	flt := d.filter
	return d.scope[f.ID] &&
		(flt.District == "" || f.District == flt.District) &&
		(flt.ProviderKind == "" || f.ProviderKind == flt.ProviderKind) &&
		(flt.Facility == uuid.Nil || f.ID == flt.Facility)
}

func newCounter(d *data, withFacilities bool) *counter {
	r := d.rules
	k := &counter{d: d, months: d.filter.MonthList(), bands: r.AgeBands, bandIdx: map[string]int{}, cal: r.Calendar(),
		births: map[int64][]int8{}, selected: map[uuid.UUID]*facility{}, withFac: withFacilities}
	for i, b := range r.AgeBands {
		k.bandIdx[b.Key] = i
		k.bandSel = append(k.bandSel, d.filter.Band == "" || d.filter.Band == b.Key)
	}
	known := map[string]bool{}
	for _, dist := range r.Districts {
		known[dist.Key] = true
	}
	// The districts shown: the filter's, or those of the selection's facilities.
	present := map[string]bool{}
	for i := range d.facilities {
		f := &d.facilities[i]
		if !known[f.District] {
			f.District = "" // a district the rules no longer name counts outside the districts
		}
		if d.inSelection(f) {
			present[f.District] = true
		}
	}
	for _, dist := range r.Districts {
		if d.filter.District == dist.Key || (d.filter.District == "" && present[dist.Key]) {
			k.distKeys = append(k.distKeys, dist.Key)
		}
	}
	if d.filter.District == "" && present[""] {
		k.distKeys = append(k.distKeys, "")
	}
	distIdx := map[string]int{}
	for i, key := range k.distKeys {
		distIdx[key] = i
	}
	for i := range d.facilities {
		f := &d.facilities[i]
		if !d.inSelection(f) {
			continue
		}
		sf := &facility{PlanningFacility: f, district: distIdx[f.District]}
		if care.IsTagespflege(f.Type) {
			sf.kind = kindTagespflege
		}
		if withFacilities {
			sf.series = make([]counts, len(k.months))
		}
		k.selected[f.ID] = sf
	}
	k.cells = make([]counts, len(k.distKeys)*len(k.bands)*kinds*len(k.months))
	return k
}

func (k *counter) cell(f *facility, band, month int) *counts {
	return &k.cells[((f.district*len(k.bands)+band)*kinds+f.kind)*len(k.months)+month]
}

// add counts c for facility f in band and month.
func (k *counter) add(f *facility, band, month int, c counts) {
	if band < 0 || !k.bandSel[band] {
		return
	}
	k.cell(f, band, month).add(c)
	if f.series != nil {
		f.series[month].add(c)
	}
}

// monthIndex is the index of d's month in the report (negative: before it, ≥ len: after).
func (k *counter) monthIndex(d date.Date) int {
	m0 := k.months[0]
	return (d.Year()-m0.Year())*12 + int(d.Month()) - int(m0.Month())
}

// bandOn is the index of the first band a child born on birth fits on day on, or −1.
func (k *counter) bandOn(birth, on date.Date) int {
	for i, b := range k.bands {
		if k.cal.Fits(b, birth, on) {
			return i
		}
	}
	return -1
}

// bandLine is bandOn at the first day of every month, computed once per birth date.
func (k *counter) bandLine(birth date.Date) []int8 {
	key := birth.Time().Unix() / 86400
	line, ok := k.births[key]
	if !ok {
		line = make([]int8, len(k.months))
		for i, first := range k.months {
			line[i] = int8(k.bandOn(birth, first))
		}
		k.births[key] = line
	}
	return line
}

// bandAt is the child's band in month m, on its first day or on day from when the child
// comes later in the month.
func (k *counter) bandAt(birth, from date.Date, m int) int {
	if from.After(k.months[m]) {
		return k.bandOn(birth, from)
	}
	return int(k.bandLine(birth)[m])
}

// countPlaces adds the places of the selection's groups.
func (k *counter) countPlaces() {
	hours := k.d.filter.Hours
	for id, f := range k.selected {
		if f.Brokered {
			continue // a district desk has no places of its own
		}
		for _, g := range k.d.inputs.Groups[id] {
			band, ok := k.bandIdx[g.Band]
			if !ok || (hours > 0 && g.CareHours < hours) {
				continue
			}
			for m, first := range k.months {
				for _, c := range g.Capacity {
					if !first.Before(c.From) && (c.Until.IsZero() || first.Before(c.Until)) {
						k.add(f, band, m, counts{places: c.Places})
						break
					}
				}
			}
		}
	}
}

// countHolders adds the contracts and offers at the selection's facilities, each in the
// band the child is in that month (the group's band when the child fits none).
func (k *counter) countHolders() {
	hours, n := k.d.filter.Hours, len(k.months)
	for id, f := range k.selected {
		for _, h := range k.d.inputs.Holders[id] {
			if hours > 0 && h.CareHours < hours {
				continue
			}
			lo := max(0, k.monthIndex(h.From))
			hi := n - 1
			if !h.Until.IsZero() {
				hi = min(hi, k.monthIndex(h.Until.AddDays(-1)))
			}
			groupBand, hasGroupBand := k.bandIdx[h.GroupBand]
			c := counts{contracted: 1}
			if h.Offer {
				c = counts{offered: 1}
			}
			line := k.bandLine(h.Birth)
			for m := lo; m <= hi; m++ {
				band := int(line[m])
				if m == lo && h.From.After(k.months[m]) {
					band = k.bandOn(h.Birth, h.From) // comes in the middle of its first month
				}
				if band < 0 {
					if !hasGroupBand {
						continue
					}
					band = groupBand
				}
				k.add(f, band, m, c)
			}
		}
	}
}

// attributed is the facility of the selection a request counts at: its highest-ranked
// choice in the caller's scope, when that one is in the selection.
func (k *counter) attributed(r *application.Planned) *facility {
	for _, id := range r.Choices {
		if k.d.scope[id] {
			return k.selected[id] // nil when the filter leaves it out
		}
	}
	return nil
}

// countRequests adds the waiting requests: demand in the month of the desired start,
// waiting from then on.
func (k *counter) countRequests() {
	hours, n := k.d.filter.Hours, len(k.months)
	for i := range k.d.requests {
		r := &k.d.requests[i]
		if !r.Waiting() || (hours > 0 && r.CareHours < hours) {
			continue
		}
		f := k.attributed(r)
		birth, born := k.d.births[r.ChildID]
		if f == nil || !born {
			continue
		}
		s := k.monthIndex(r.Start)
		if s >= 0 && s < n {
			k.add(f, k.bandAt(birth, r.Start, s), s, counts{demand: 1})
		}
		for m := max(0, s); m < n; m++ {
			k.add(f, k.bandAt(birth, r.Start, m), m, counts{waiting: 1})
		}
	}
}

// series builds the months of one district (or every district, d < 0) and band.
func (k *counter) series(d, band int) []Month {
	out := make([]Month, len(k.months))
	for m, first := range k.months {
		var by [kinds]counts
		for di := range k.distKeys {
			if d >= 0 && di != d {
				continue
			}
			for kind := range kinds {
				by[kind].add(k.cells[((di*len(k.bands)+band)*kinds+kind)*len(k.months)+m])
			}
		}
		all := by[kindKita]
		all.add(by[kindTagespflege])
		out[m] = Month{Month: first, Figures: all.figures(), Kita: by[kindKita].figures(), Tagespflege: by[kindTagespflege].figures()}
	}
	return out
}

// waitingTimes computes the waiting times of the requests filed since d.since.
func (k *counter) waitingTimes() Waiting {
	type firsts struct {
		at         time.Time
		placedRank int // rank of the choice an accepted or contracted offer is on; 0: none
		offered    bool
	}
	byRequest := map[uuid.UUID]*firsts{}
	for _, o := range k.d.offers {
		f := byRequest[o.ApplicationID]
		if f == nil {
			f = &firsts{at: o.At, offered: true}
			byRequest[o.ApplicationID] = f
		}
		if o.At.Before(f.at) {
			f.at = o.At
		}
		if o.Status == offer.StatusAccepted || o.Status == offer.StatusContracted {
			f.placedRank = o.ChoiceRank
		}
	}
	var days [kinds][]float64
	var wt [kinds]WaitingTime
	since := k.d.since
	for i := range k.d.requests {
		r := &k.d.requests[i]
		if r.SubmittedAt == nil || date.In(*r.SubmittedAt).Before(since) || (k.d.filter.Hours > 0 && r.CareHours < k.d.filter.Hours) {
			continue
		}
		f := k.attributed(r)
		birth, born := k.d.births[r.ChildID]
		if f == nil || !born {
			continue
		}
		if band := k.bandOn(birth, r.Start); k.d.filter.Band != "" && (band < 0 || k.bands[band].Key != k.d.filter.Band) {
			continue
		}
		w := &wt[f.kind]
		w.Requests++
		got := byRequest[r.ID]
		if got == nil {
			continue
		}
		w.Offered++
		days[f.kind] = append(days[f.kind], float64(daysBetween(date.In(*r.SubmittedAt), date.In(got.at))))
		if got.placedRank > 0 {
			w.Placed++
			if got.placedRank == 1 {
				w.FirstChoice++
			}
		}
	}
	all := WaitingTime{}
	var allDays []float64
	for kind := range kinds {
		finish(&wt[kind], days[kind])
		all.Requests += wt[kind].Requests
		all.Offered += wt[kind].Offered
		all.Placed += wt[kind].Placed
		all.FirstChoice += wt[kind].FirstChoice
		allDays = append(allDays, days[kind]...)
	}
	finish(&all, allDays)
	return Waiting{Since: since, All: all, Kita: wt[kindKita], Tagespflege: wt[kindTagespflege]}
}

func finish(w *WaitingTime, days []float64) {
	w.MedianDays, w.P90Days = Percentile(days, 50), Percentile(days, 90)
	if w.Placed > 0 {
		s := math.Round(float64(w.FirstChoice)/float64(w.Placed)*1000) / 1000
		w.FirstChoiceShare = &s
	}
}

// Percentile is the p-th percentile of xs by linear interpolation between the closest
// ranks (p 50: the median); nil for no values.
func Percentile(xs []float64, p float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	v := s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
	v = math.Round(v*10) / 10
	return &v
}

// unserved lists the children whose desired start has passed without a place.
func (k *counter) unserved() []Unserved {
	var out []Unserved
	today, hours := k.d.today, k.d.filter.Hours
	for i := range k.d.requests {
		r := &k.d.requests[i]
		if !r.Waiting() || r.Start.After(today) || k.d.contracted[r.ChildID] || (hours > 0 && r.CareHours < hours) {
			continue
		}
		f := k.attributed(r)
		if f == nil {
			continue
		}
		band := ""
		if birth, ok := k.d.births[r.ChildID]; ok {
			if b := k.bandOn(birth, today); b >= 0 {
				band = k.bands[b].Key
			}
		}
		if k.d.filter.Band != "" && band != k.d.filter.Band {
			continue
		}
		out = append(out, Unserved{Request: r.ID, Reference: r.Reference, Child: r.ChildID, Band: band, District: f.District,
			Facility: f.ID, FacilityName: f.Name, Tagespflege: f.kind == kindTagespflege, Start: r.Start, CareHours: r.CareHours,
			SubmittedAt: r.SubmittedAt, DaysOverdue: daysBetween(r.Start, today)})
	}
	slices.SortStableFunc(out, func(a, b Unserved) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if a.Reference != b.Reference {
			if a.Reference < b.Reference {
				return -1
			}
			return 1
		}
		return 0
	})
	return out
}

// build counts everything and assembles the report.
func build(d *data, withFacilities bool) *Report {
	withFacilities = withFacilities || d.filter.District != "" || d.filter.Facility != uuid.Nil
	k := newCounter(d, withFacilities)
	k.countPlaces()
	k.countHolders()
	k.countRequests()
	rep := &Report{Filter: d.filter, Today: d.today, MonthList: k.months, Districts: []District{}, Total: []Series{},
		TicketsEnabled: d.rules.Tickets.Enabled, Tickets: d.tickets}
	for bi, b := range k.bands {
		if k.bandSel[bi] {
			rep.Total = append(rep.Total, Series{Band: b.Key, Months: k.series(-1, bi)})
		}
	}
	for di, key := range k.distKeys {
		dist := District{Key: key}
		if rd, ok := d.rules.District(key); ok {
			dist.Name = rd.Name
		}
		for bi, b := range k.bands {
			if k.bandSel[bi] {
				dist.Bands = append(dist.Bands, Series{Band: b.Key, Months: k.series(di, bi)})
			}
		}
		rep.Districts = append(rep.Districts, dist)
	}
	if withFacilities {
		rep.Facilities = []FacilitySeries{}
		for i := range d.facilities {
			f, ok := k.selected[d.facilities[i].ID]
			if !ok {
				continue
			}
			fs := FacilitySeries{ID: f.ID, Name: f.Name, Type: f.Type, District: f.District, ProviderKind: f.ProviderKind,
				Months: make([]FacilityMonth, len(k.months))}
			for m, first := range k.months {
				fs.Months[m] = FacilityMonth{Month: first, Figures: f.series[m].figures()}
			}
			rep.Facilities = append(rep.Facilities, fs)
		}
	}
	rep.Waiting = k.waitingTimes()
	rep.Unserved = len(k.unserved())
	return rep
}

// daysBetween counts the calendar days from a to b.
func daysBetween(a, b date.Date) int { return int(b.Time().Sub(a.Time()) / (24 * time.Hour)) }
