package application

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/care"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// The request form starts from the parent's search: the facilities ticked on the results
// or the Merkliste arrive as ?facility=… (with the child's birth date, the start and the
// scope), and the form shows them as the ordered list of wishes, each with its distance
// and expected availability. Facilities that cannot take the child then are set apart
// with the reason instead of being offered. Moving and removing are plain submit buttons
// that draw the form again (nothing is saved), so the list works without JavaScript;
// request.js moves the items in place.

// MaxCarried caps the facility ids read from a query or a form: twice what any city
// stores. The rest is ignored.
const MaxCarried = 2 * MaxChoicesStored

// ParseCandidates reads facility ids in the family's order; what is no id and repeats
// are left out, and the ids that are not are counted (ignored).
func ParseCandidates(raw []string) (ids []uuid.UUID, ignored int) {
	for _, s := range raw {
		id, err := uuid.Parse(strings.TrimSpace(s))
		switch {
		case err != nil || id == uuid.Nil || len(ids) >= MaxCarried:
			ignored++
		case !slices.Contains(ids, id):
			ids = append(ids, id)
		}
	}
	return ids, ignored
}

// Point is a place (WGS 84).
type Point struct{ Lat, Lon float64 }

// Distance from where distances on the list are measured.
const (
	FromAddress = "address" // the family's address
	FromSearch  = "search"  // the place of the search the family came from
)

// Move is a change of the list asked for by one of its buttons.
type Move struct {
	Kind string // up, down, remove
	ID   uuid.UUID
}

// ParseMove reads a button's value ("up:<id>", "down:<id>", "remove:<id>"); ok is false
// for anything else ("add" and garbage just draw the list again).
func ParseMove(s string) (Move, bool) {
	kind, rest, _ := strings.Cut(s, ":")
	id, err := uuid.Parse(rest)
	if err != nil || (kind != "up" && kind != "down" && kind != "remove") {
		return Move{}, false
	}
	return Move{Kind: kind, ID: id}, true
}

// ShortlistAsk is what the form knows when it draws the list.
type ShortlistAsk struct {
	Candidates []uuid.UUID // the family's order; unknown and foreign ids are left out
	Ignored    int         // ids the handler could not read
	Birth      date.Date   // zero: not known yet
	Start      date.Date   // zero: not known yet
	CareHours  int         // 0: not known yet
	Origin     *Point      // the search's place, used when the family's address has no point
	Move       *Move
	Lang       string
	// Fields names the form field a candidate came in (its place among the posted
	// choices, "choices.<n>"), so a refusal of the rules stands next to it.
	Fields map[uuid.UUID]string
}

// Pick is one facility of the list.
type Pick struct {
	FacilityOption
	Slot       int    // the form field choice.<Slot> it is posted in
	Rank       int    // 1, 2, … within its list
	Field      string // the rules' field of this choice, "" when it came from the query
	DistanceKm *float64
	// Status is the expected availability for the child's band and scope in the month of
	// the start; "" while the band is not known.
	Status  availability.Status
	Problem *ChoiceProblem // why it cannot be chosen (the list's set-apart part)
	Reason  string         // Problem in the reader's words (set by the handler)
	// Moved is the button ("up", "down") that just moved it: the form without JavaScript
	// puts the focus back there.
	Moved       string
	First, Last bool // first or last on its list: no way further up or down
}

// Shortlist is the request form's list of wishes.
type Shortlist struct {
	Kitas       []Pick // in the family's order
	Tagespflege []Pick // Kindertagespflege on top of the Kitas, where the city allows it
	Unfit       []Pick // not offered: each with its Problem
	Ignored     int    // ids that name no facility of this city
	Checked     bool   // the child's age band at the start was known: the list is checked against it
	From        string // FromAddress, FromSearch or "": where distances are measured from
	Origin      *Point // the search's place (From == FromSearch), carried along in the form
	// The fallback selects "add another facility" for the places left on each list (their
	// fields choice.<n>): only facilities that fit, not yet on the list.
	AddKitas, AddTagespflege    []FacilityOption
	KitaSlots, TagespflegeSlots []int
	Extra                       bool // the city takes Kindertagespflege in addition
	Max                         int
	MovedText                   string // set by the handler: what the last button did
}

// Empty tells whether the list has nothing to show yet.
func (s *Shortlist) Empty() bool { return len(s.Kitas)+len(s.Tagespflege)+len(s.Unfit) == 0 }

// Shortlist draws the list of opts' family for ask: every active facility of the city and
// every candidate are read with what the rules look at, the family's address is placed
// on the city's map, and the expected availability of the candidates is looked up for
// the child's band, scope and start month.
func (s *Service) Shortlist(ctx context.Context, c auth.Caller, opts *FormOptions, ask ShortlistAsk) (*Shortlist, error) {
	t := c.Tenant
	var (
		facts  map[uuid.UUID]provider.Choosable
		origin *Point
		from   string
		free   map[uuid.UUID]int
	)
	band, bandOK := tenant.AgeBand{}, false
	if !ask.Birth.IsZero() && !ask.Start.IsZero() {
		band, bandOK = t.Rules.Calendar().BandAt(ask.Birth, ask.Start)
	}
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		ids := slices.Clone(ask.Candidates)
		for _, o := range opts.Facilities {
			if !slices.Contains(ask.Candidates, o.ID) {
				ids = append(ids, o.ID)
			}
		}
		list, err := provider.Choosables(ctx, tx, t.ID, ids)
		if err != nil {
			return err
		}
		facts = make(map[uuid.UUID]provider.Choosable, len(list))
		for _, f := range list {
			facts[f.ID] = f
		}
		if origin, err = addressPoint(ctx, tx, t.ID, opts.Family); err != nil {
			return err
		}
		from = FromAddress
		if origin == nil && ask.Origin != nil {
			origin, from = ask.Origin, FromSearch
		}
		if origin == nil {
			from = ""
		}
		if !bandOK {
			return nil
		}
		var found []uuid.UUID
		for _, id := range ask.Candidates {
			if _, ok := facts[id]; ok {
				found = append(found, id)
			}
		}
		free, err = availability.Lookup(ctx, tx, t.ID, found, band.Key, scopeFor(t.Rules, ask.CareHours), ask.Start)
		return err
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	in := shortlistFacts{rules: t.Rules, opts: opts, facts: facts, band: band, bandOK: bandOK, origin: origin, free: free}
	if opts.Family != nil {
		in.municipality = opts.Family.Municipality
	}
	out := buildShortlist(in, ask)
	if ask.Move != nil {
		// Apply the button to the list as drawn, then draw it again: slots, ranks and the
		// selects follow the new order.
		ask.Candidates = out.moved(*ask.Move)
		ask.Ignored = out.Ignored
		out = buildShortlist(in, ask)
		out.markMoved(*ask.Move)
	}
	out.From = from
	if from == FromSearch {
		out.Origin = origin
	}
	return out, nil
}

// scopeFor is the scope availability is read for: the asked one, or the city's smallest
// (as the search does).
func scopeFor(r *tenant.Rules, hours int) int {
	if hours > 0 || len(r.CareScopes) == 0 {
		return hours
	}
	return slices.Min(r.CareScopes)
}

// addressPoint places the family's address on the city's map: its street in its
// postcode, else the postcode's centre; nil when neither is known.
func addressPoint(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, fam *family.Family) (*Point, error) {
	if !fam.HasAddress() {
		return nil, nil
	}
	if strings.TrimSpace(fam.Street) != "" {
		streets, err := tenant.StreetsNamed(ctx, tx, tenantID, fam.Street, fam.PLZ)
		if err != nil {
			return nil, err
		}
		if len(streets) > 0 && streets[0].PLZ == fam.PLZ {
			return &Point{Lat: streets[0].Lat, Lon: streets[0].Lon}, nil
		}
	}
	codes, err := tenant.Postcodes(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, p := range codes {
		if p.PLZ == fam.PLZ {
			return &Point{Lat: p.Lat, Lon: p.Lon}, nil
		}
	}
	return nil, nil
}

// shortlistFacts is what buildShortlist decides on.
type shortlistFacts struct {
	rules        *tenant.Rules
	opts         *FormOptions
	facts        map[uuid.UUID]provider.Choosable
	band         tenant.AgeBand
	bandOK       bool
	municipality string
	origin       *Point
	free         map[uuid.UUID]int
}

// buildShortlist is the pure part: the candidates in order, sorted into the Kita list,
// the Kindertagespflege list and the set-apart ones, with the selects' options.
func buildShortlist(in shortlistFacts, ask ShortlistAsk) *Shortlist {
	r := in.rules
	reg := r.Registration
	out := &Shortlist{Ignored: ask.Ignored, Checked: in.bandOK, Extra: reg.TagespflegeExtraChoice, Max: reg.MaxChoices}
	named := map[uuid.UUID]FacilityOption{}
	for _, o := range in.opts.Facilities {
		named[o.ID] = o
	}
	problems := func(f provider.Choosable) []ChoiceProblem {
		cf := ChoiceFacts{FacilityID: f.ID, Name: f.Name, Type: f.Type, Municipality: f.Municipality, District: f.District,
			Active: f.Active(), Found: true, Bands: f.Bands}
		return choiceProblems(r, cf, in.band, in.bandOK, ask.CareHours, in.municipality, ask.Lang)
	}
	extra := func(typ string) bool { return reg.TagespflegeExtraChoice && care.IsTagespflege(typ) }
	chosen := map[uuid.UUID]bool{}
	for _, id := range ask.Candidates {
		f, ok := in.facts[id]
		if !ok {
			out.Ignored++ // not a facility of this city
			continue
		}
		chosen[id] = true
		opt, ok := named[id]
		if !ok {
			opt = FacilityOption{ID: f.ID, Name: f.Name, Type: f.Type, Tagespflege: care.IsTagespflege(f.Type)}
		}
		p := Pick{FacilityOption: opt, Field: ask.Fields[id]}
		if in.origin != nil {
			km := distanceKm(*in.origin, Point{Lat: f.Lat, Lon: f.Lon})
			p.DistanceKm = &km
		}
		if in.bandOK {
			n, known := in.free[id]
			p.Status = availability.StatusOf(n, known)
		}
		list := &out.Kitas
		if extra(f.Type) {
			list = &out.Tagespflege
		}
		switch ps := problems(f); {
		case len(ps) > 0:
			p.Problem = &ps[0]
		case len(*list) >= reg.MaxChoices:
			p.Problem = &ChoiceProblem{Code: "shortlist_full", Args: []any{"max", reg.MaxChoices}}
		}
		if p.Problem != nil {
			out.Unfit = append(out.Unfit, p)
			continue
		}
		p.Rank = len(*list) + 1
		p.Slot = len(*list)
		if list == &out.Tagespflege {
			p.Slot += reg.MaxChoices
		}
		*list = append(*list, p)
	}
	for i := len(out.Kitas); i < reg.MaxChoices; i++ {
		out.KitaSlots = append(out.KitaSlots, i)
	}
	if reg.TagespflegeExtraChoice {
		for i := len(out.Tagespflege); i < reg.MaxChoices; i++ {
			out.TagespflegeSlots = append(out.TagespflegeSlots, reg.MaxChoices+i)
		}
	}
	for _, o := range in.opts.Facilities {
		f, ok := in.facts[o.ID]
		if !ok || chosen[o.ID] || len(problems(f)) > 0 {
			continue
		}
		if extra(o.Type) {
			out.AddTagespflege = append(out.AddTagespflege, o)
		} else {
			out.AddKitas = append(out.AddKitas, o)
		}
	}
	return out
}

// moved is the order of the list after m: up and down swap neighbours within their
// list, remove drops the facility (set-apart ones too). The set-apart ones follow.
func (s *Shortlist) moved(m Move) []uuid.UUID {
	var out []uuid.UUID
	for _, list := range [][]Pick{s.Kitas, s.Tagespflege, s.Unfit} {
		ids := make([]uuid.UUID, len(list))
		for i, p := range list {
			ids[i] = p.ID
		}
		if i := slices.Index(ids, m.ID); i >= 0 {
			switch {
			case m.Kind == "remove":
				ids = slices.Delete(ids, i, i+1)
			case m.Kind == "up" && i > 0 && list[i].Problem == nil:
				ids[i-1], ids[i] = ids[i], ids[i-1]
			case m.Kind == "down" && i+1 < len(ids) && list[i].Problem == nil:
				ids[i], ids[i+1] = ids[i+1], ids[i]
			}
		}
		out = append(out, ids...)
	}
	return out
}

// markMoved flags the facility m moved, so its button keeps the focus.
func (s *Shortlist) markMoved(m Move) {
	if m.Kind == "remove" {
		return
	}
	for _, list := range [][]Pick{s.Kitas, s.Tagespflege} {
		for i := range list {
			if list[i].ID == m.ID {
				list[i].Moved = m.Kind
			}
		}
	}
}

// PickGroup is one list of the form: the Kitas, or Kindertagespflege on top.
type PickGroup struct {
	Key     string // "kita" or "tagespflege"
	Picks   []Pick
	Slots   []SlotView // the selects for the places left
	Options []FacilityOption
}

// SlotView is one select of a group: its field choice.<Field> and the wish it is.
type SlotView struct{ Field, Rank int }

// Groups are the lists the form shows: the Kitas, and Kindertagespflege where the city
// takes it in addition.
func (s *Shortlist) Groups() []PickGroup {
	group := func(key string, picks []Pick, slots []int, opts []FacilityOption, base int) PickGroup {
		g := PickGroup{Key: key, Picks: picks, Options: opts}
		for i := range g.Picks {
			g.Picks[i].First, g.Picks[i].Last = i == 0, i == len(g.Picks)-1
		}
		for _, f := range slots {
			g.Slots = append(g.Slots, SlotView{Field: f, Rank: f - base + 1})
		}
		return g
	}
	out := []PickGroup{group("kita", s.Kitas, s.KitaSlots, s.AddKitas, 0)}
	if s.Extra {
		out = append(out, group("tagespflege", s.Tagespflege, s.TagespflegeSlots, s.AddTagespflege, s.Max))
	}
	return out
}

// Km is the distance in lang's way of writing it ("1,2 km", "1.2 km"); "" when unknown.
func (p Pick) Km(lang string) string {
	if p.DistanceKm == nil {
		return ""
	}
	km := *p.DistanceKm
	s := strconv.FormatFloat(km, 'f', 1, 64)
	if km >= 10 {
		s = strconv.FormatFloat(km, 'f', 0, 64)
	}
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " km"
}

// Find returns the pick of facility id on the list (not the set-apart ones).
func (s *Shortlist) Find(id uuid.UUID) (Pick, bool) {
	for _, list := range [][]Pick{s.Kitas, s.Tagespflege} {
		for _, p := range list {
			if p.ID == id {
				return p, true
			}
		}
	}
	return Pick{}, false
}

// distanceKm is the great-circle distance between a and b.
func distanceKm(a, b Point) float64 {
	const earthKm = 6371.0088
	rad := math.Pi / 180
	dLat, dLon := (b.Lat-a.Lat)*rad, (b.Lon-a.Lon)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKm * math.Asin(math.Min(1, math.Sqrt(h)))
}
