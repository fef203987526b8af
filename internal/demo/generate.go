package demo

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// namespace makes demo ids: uuid v5 over "<slug>/<kind>/<n>".
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://kitaportal.example/demo"))

// groupSizes are the places a group of each band has (before fitting the city's total).
var groupSizes = map[string]span{
	bandKrippe:       {10, 15},
	bandKindergarten: {20, 25},
	bandHort:         {20, 28},
}

type point struct{ lat, lon float64 }

type streetPlan struct {
	name string
	pt   point
}

// demand says how sought-after a facility is, and so how full its groups are.
type demand int

const (
	demandFull demand = iota // every place taken, some groups one over
	demandHigh               // a place or two free
	demandLow                // several places free
)

type facilityPlan struct {
	id, providerID        uuid.UUID
	typ, name             string
	pc                    *postcode
	street, house         string
	pt                    point
	district              string
	ageMin, ageMax        int
	concepts              []string
	barrierFree, lunch    bool
	phone, email, website string
	level                 demand
	nameSeed              int // offset into the group name lists
	groups                []*groupPlan
}

// places is what the facility offers in the current Kita year.
func (f *facilityPlan) places() int {
	n := 0
	for _, g := range f.groups {
		n += g.places
	}
	return n
}

func (f *facilityPlan) isTagespflege() bool {
	return f.typ == typeTagespflege || f.typ == typeGrosstagespflege
}

type groupPlan struct {
	id         uuid.UUID
	n          int // number in the id; children are numbered within their group
	name, band string
	careHours  int
	places     int
	min, max   int       // bounds for fitting the city's total
	opens      date.Date // zero: open since the Kita year began; else opens on this day
	growth     int       // extra places from the next Kita year
	children   int       // children once the group is open
}

// generator turns a profile and the tenant's rules into rows. All randomness comes from
// three streams seeded by the slug: geography and facilities never depend on the date,
// and children depend only on the month being seeded.
type generator struct {
	p        *profile
	rules    *tenant.Rules
	tenantID uuid.UUID
	cal      calendar

	yearStart, nextYear, midYear date.Date
	// from and to bound the current month (within the Kita year). Every child fits its
	// band on each day of it and every contract runs through it, so seeding on any day of
	// a month gives the same data.
	from, to date.Date
	stamp    time.Time

	geo, fac, people *rand.Rand

	districtsOf    map[string][]string // municipality → its districts, in rules order
	streets        map[string][]streetPlan
	byMunicipality map[string][]*postcode
	providerIDs    map[int]uuid.UUID // pooled providers already created, by index
	usedNames      map[string]bool
	usedMails      map[string]bool
	usedPersons    map[string]bool
	counters       map[string]int

	facilities []*facilityPlan
	out        dataset
}

func newRand(slug, stream string) *rand.Rand {
	sum := sha256.Sum256([]byte("kitaportal/demo/" + slug + "/" + stream))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
}

// build generates the demo data of one city.
func build(p *profile, rules *tenant.Rules, tenantID uuid.UUID, today date.Date) (*dataset, error) {
	g, err := newGenerator(p, rules, tenantID, today)
	if err != nil {
		return nil, err
	}
	if err := g.check(); err != nil {
		return nil, err
	}
	g.geography()
	if err := g.kitas(); err != nil {
		return nil, err
	}
	if err := g.tagespflege(); err != nil {
		return nil, err
	}
	g.finishFacilities()
	if err := g.children(); err != nil {
		return nil, err
	}
	return &g.out, nil
}

func newGenerator(p *profile, rules *tenant.Rules, tenantID uuid.UUID, today date.Date) (*generator, error) {
	cal := newCalendar(rules)
	g := &generator{
		p: p, rules: rules, tenantID: tenantID, cal: cal,
		geo: newRand(p.slug, "geo"), fac: newRand(p.slug, "facilities"), people: newRand(p.slug, "people"),
		districtsOf:    map[string][]string{},
		streets:        map[string][]streetPlan{},
		byMunicipality: map[string][]*postcode{},
		providerIDs:    map[int]uuid.UUID{},
		usedNames:      map[string]bool{},
		usedMails:      map[string]bool{},
		usedPersons:    map[string]bool{},
		counters:       map[string]int{},
	}
	g.yearStart = cal.YearStart(today)
	g.nextYear = g.yearStart.AddMonths(12)
	g.midYear = date.Of(g.yearStart.Year()+1, time.January, 1)
	if !g.midYear.Before(g.nextYear) { // a Kita year that starts on 1 January
		g.midYear = g.yearStart.AddMonths(6)
	}
	g.from = today.FirstOfMonth()
	if g.from.Before(g.yearStart) {
		g.from = g.yearStart
	}
	g.to = monthAfter(today).AddDays(-1)
	if !g.to.Before(g.nextYear) {
		g.to = g.nextYear.AddDays(-1)
	}
	g.stamp = g.yearStart.Time()
	for _, d := range rules.Districts {
		g.districtsOf[d.Municipality] = append(g.districtsOf[d.Municipality], d.Key)
	}
	return g, nil
}

// check compares the profile with the tenant's rules, so a changed rules file gives a
// clear error instead of a foreign-key violation halfway through.
func (g *generator) check() error {
	var errs []error
	munis := map[string]bool{}
	for _, m := range g.rules.Municipalities {
		munis[m.Key] = true
	}
	for _, pc := range g.p.postcodes {
		if !munis[pc.municipality] {
			errs = append(errs, fmt.Errorf("postcode %s: municipality %q is not in the rules", pc.plz, pc.municipality))
		}
		if pc.district != "" {
			if d, ok := g.rules.District(pc.district); !ok || d.Municipality != pc.municipality {
				errs = append(errs, fmt.Errorf("postcode %s: district %q is not a district of %q in the rules", pc.plz, pc.district, pc.municipality))
			}
		}
	}
	for _, a := range g.p.anchors {
		if _, ok := g.rules.District(a.district); !ok {
			errs = append(errs, fmt.Errorf("anchor: district %q is not in the rules", a.district))
		}
	}
	need := map[string]bool{}
	for _, m := range g.p.kitas {
		need[bandKrippe] = need[bandKrippe] || m.krippe.max > 0
		need[bandKindergarten] = need[bandKindergarten] || m.kiga.max > 0
		need[bandHort] = need[bandHort] || m.hort.max > 0
	}
	if g.p.tagespflege > 0 {
		need[bandKrippe] = true
		if g.rules.FacilityLimits.TagespflegeMaxPlaces < 1 || g.rules.FacilityLimits.GrosstagespflegeMaxPlaces < 1 {
			errs = append(errs, errors.New("facility_limits: Kindertagespflege needs place limits"))
		}
	}
	for _, band := range []string{bandKrippe, bandKindergarten, bandHort} {
		if _, ok := g.rules.AgeBand(band); need[band] && !ok {
			errs = append(errs, fmt.Errorf("age band %q is needed by the demo facilities but not in the rules", band))
		}
	}
	if len(g.rules.CareScopes) == 0 {
		errs = append(errs, errors.New("care_scopes: none"))
	}
	return errors.Join(errs...)
}

// newID numbers the rows of a kind in the order they are generated.
func (g *generator) newID(kind string) uuid.UUID {
	g.counters[kind]++
	return g.id(kind, strconv.Itoa(g.counters[kind]))
}

func (g *generator) id(kind, n string) uuid.UUID {
	return uuid.NewSHA1(namespace, []byte(g.p.slug+"/"+kind+"/"+n))
}

// geography writes the postcodes and gives each 8–25 streets around its centroid.
func (g *generator) geography() {
	deck := genericStreets()
	g.geo.Shuffle(len(deck), func(i, j int) { deck[i], deck[j] = deck[j], deck[i] })
	next := 0
	for i := range g.p.postcodes {
		pc := &g.p.postcodes[i]
		g.byMunicipality[pc.municipality] = append(g.byMunicipality[pc.municipality], pc)
		centre := point{pc.lat, pc.lon}
		g.out.postcodes = append(g.out.postcodes, postcodeRow{
			TenantID: g.tenantID, PLZ: pc.plz, MunicipalityKey: pc.municipality, Place: pc.place, Lat: pc.lat, Lon: pc.lon,
		})
		n := 25
		if len(g.p.postcodes) > 1 {
			n = min(25, 8+4*pc.weight+g.geo.IntN(5))
		}
		names := append([]string(nil), pc.streets...)
		seen := map[string]bool{}
		for _, s := range names {
			seen[s] = true
		}
		// The deck is shared by the city's postcodes, so names repeat only once it is used up.
		for tries := 0; len(names) < n && tries < 2*len(deck); tries++ {
			s := deck[next%len(deck)]
			next++
			if !seen[s] {
				seen[s] = true
				names = append(names, s)
			}
		}
		for _, s := range names {
			pt := scatter(g.geo, centre, g.p.spreadKm)
			g.streets[pc.plz] = append(g.streets[pc.plz], streetPlan{name: s, pt: pt})
			g.out.streets = append(g.out.streets, streetRow{
				TenantID: g.tenantID, PLZ: pc.plz, Name: s, MunicipalityKey: pc.municipality, Lat: pt.lat, Lon: pt.lon,
			})
		}
	}
}

func genericStreets() []string {
	out := append([]string(nil), streetNames...)
	for _, stem := range streetStems {
		out = append(out, stem+"straße", stem+"weg")
	}
	return out
}

// kitas creates the Krippen, Kindergärten, Kitas and Horte with their groups and fits
// their places to the city's total.
func (g *generator) kitas() error {
	var mixes []*facilityMix
	for i := range g.p.kitas {
		for range g.p.kitas[i].count {
			mixes = append(mixes, &g.p.kitas[i])
		}
	}
	g.fac.Shuffle(len(mixes), func(i, j int) { mixes[i], mixes[j] = mixes[j], mixes[i] })
	where := g.spreadOver(len(mixes))
	var kitas []*facilityPlan
	var groups []*groupPlan
	for i, mix := range mixes {
		f, err := g.newKita(mix, where[i])
		if err != nil {
			return err
		}
		kitas = append(kitas, f)
		groups = append(groups, f.groups...)
	}

	// Realism for the allocation: a few Kitas open another Krippe group on 1 January …
	var withKrippe []*facilityPlan
	for _, f := range kitas {
		if f.typ == typeKita {
			withKrippe = append(withKrippe, f)
		}
	}
	for _, i := range g.fac.Perm(len(withKrippe))[:min(g.p.openingGroups, len(withKrippe))] {
		grp := g.newGroup(withKrippe[i], bandKrippe)
		grp.opens = g.midYear
		groups = append(groups, grp)
	}
	// … and some groups grow with the next Kita year.
	for _, i := range g.fac.Perm(len(groups))[:min(g.p.growingGroups, len(groups))] {
		if groups[i].opens.IsZero() {
			groups[i].growth = 2 + g.fac.IntN(4)
		}
	}
	if g.p.kitaPlaces > 0 {
		if err := fitTotal(g.fac, groups, g.p.kitaPlaces); err != nil {
			return fmt.Errorf("%s: %w", g.p.slug, err)
		}
	}
	for _, grp := range groups {
		if grp.growth > 0 { // a group may grow a little beyond its usual size, not more
			grp.growth = max(1, min(grp.growth, grp.max+2-grp.places))
		}
	}
	return nil
}

func (g *generator) newKita(mix *facilityMix, pc *postcode) (*facilityPlan, error) {
	f := &facilityPlan{id: g.newID("facility"), typ: mix.typ, pc: pc, nameSeed: g.fac.IntN(100)}
	if err := g.locate(f); err != nil {
		return nil, err
	}
	spec, idx, err := g.pickProvider(pc.municipality)
	if err != nil {
		return nil, err
	}
	wald := mix.typ == typeKindergarten && g.fac.Float64() < 0.25
	var nick string
	f.name, nick = g.kitaName(spec, mix.typ, wald, f.street)
	f.providerID = g.provider(idx, spec, nick, pc)
	switch mix.typ {
	case typeKrippe:
		f.ageMin, f.ageMax = pick(g.fac, []int{8, 12}), 36
	case typeKindergarten:
		f.ageMin, f.ageMax = 36, 84
	case typeKita:
		f.ageMin, f.ageMax = pick(g.fac, []int{8, 12, 12}), 84
	case typeHort:
		// School entry may come a few months before the sixth birthday (cutoff after the
		// Kita-year start), so a Hort admits from 5½.
		f.ageMin, f.ageMax = 66, 132
	}
	f.concepts = g.conceptsFor(spec.style, mix.typ, wald)
	f.barrierFree = g.fac.Float64() < 0.55
	f.lunch = g.fac.Float64() < 0.95
	f.level = g.demandLevel()
	for _, b := range []struct {
		band string
		n    span
	}{{bandKrippe, mix.krippe}, {bandKindergarten, mix.kiga}, {bandHort, mix.hort}} {
		if b.n.max == 0 {
			continue
		}
		for range between(g.fac, b.n.min, b.n.max) {
			g.newGroup(f, b.band)
		}
	}
	f.phone = phone(g.fac, pc.areaCode)
	f.email, f.website = g.contact(f.name, spec.website || g.fac.Float64() < 0.3)
	g.facilities = append(g.facilities, f)
	return f, nil
}

// locate gives a facility an address on one of its postcode's streets.
func (g *generator) locate(f *facilityPlan) error {
	st := pick(g.fac, g.streets[f.pc.plz])
	f.street, f.house = st.name, houseNumber(g.fac)
	f.pt = scatter(g.fac, st.pt, 0.08)
	d, err := g.districtFor(f.pc, f.pt)
	f.district = d
	return err
}

func (g *generator) newGroup(f *facilityPlan, band string) *groupPlan {
	n := 0
	for _, o := range f.groups {
		if o.band == band {
			n++
		}
	}
	names := groupNames[band]
	size := groupSizes[band]
	grp := &groupPlan{
		id:        g.newID("group"),
		n:         g.counters["group"],
		name:      names[(f.nameSeed+n)%len(names)],
		band:      band,
		careHours: g.groupHours(band),
		places:    between(g.fac, size.min, size.max),
		min:       size.min,
		max:       size.max,
	}
	f.groups = append(f.groups, grp)
	return grp
}

// groupHours is the longest weekly scope a group offers: usually the tenant's largest,
// Horte around 25–30 hours (afternoons only).
func (g *generator) groupHours(band string) int {
	scopes := g.rules.CareScopes
	if band == bandHort {
		for _, s := range scopes {
			if s >= 25 {
				return s
			}
		}
		return scopes[len(scopes)-1]
	}
	if len(scopes) > 1 && g.fac.Float64() < 0.2 {
		return scopes[len(scopes)-2]
	}
	return scopes[len(scopes)-1]
}

// tagespflegeHours is the longest scope a childminder offers: at most 40 hours.
func (g *generator) tagespflegeHours() int {
	best := g.rules.CareScopes[0]
	for _, s := range g.rules.CareScopes {
		if s <= 40 {
			best = s
		}
	}
	return best
}

func (g *generator) demandLevel() demand {
	switch r := g.fac.Float64(); {
	case r < 0.30:
		return demandFull
	case r < 0.75:
		return demandHigh
	default:
		return demandLow
	}
}

// districtFor is the postcode's district, the municipality's only district, or the
// district whose anchor is nearest.
func (g *generator) districtFor(pc *postcode, pt point) (string, error) {
	if pc.district != "" {
		return pc.district, nil
	}
	ds := g.districtsOf[pc.municipality]
	switch len(ds) {
	case 0:
		return "", nil
	case 1:
		return ds[0], nil
	}
	best, bestKm := "", math.Inf(1)
	for _, a := range g.p.anchors {
		if d := distKm(pt, point{a.lat, a.lon}); d < bestKm && slices.Contains(ds, a.district) {
			best, bestKm = a.district, d
		}
	}
	if best == "" {
		return "", fmt.Errorf("postcode %s: municipality %q has several districts; the profile needs a district or anchors", pc.plz, pc.municipality)
	}
	return best, nil
}

func (g *generator) pickProvider(municipality string) (*providerSpec, int, error) {
	var idx, weights []int
	for i, s := range g.p.providers {
		if s.municipality == "" || s.municipality == municipality {
			idx = append(idx, i)
			weights = append(weights, s.weight)
		}
	}
	if len(idx) == 0 {
		return nil, 0, fmt.Errorf("no provider for municipality %q", municipality)
	}
	i := idx[weighted(g.fac, weights)]
	return &g.p.providers[i], i, nil
}

// provider returns the id of the facility's provider, creating the provider row on first
// use. Each parents' initiative is its own association.
func (g *generator) provider(idx int, spec *providerSpec, nick string, pc *postcode) uuid.UUID {
	if id, ok := g.providerIDs[idx]; ok && spec.style != styleParents {
		return id
	}
	name := spec.name
	if spec.style == styleParents {
		name = fmt.Sprintf(spec.name, nick)
	}
	id := g.newID("provider")
	row := providerRow{
		TenantID: g.tenantID, ID: id, Name: name, Kind: spec.kind,
		Email:     slugify(shortName(name), 40) + "@traeger." + g.p.slug + ".kitaportal.example",
		Phone:     phone(g.fac, pc.areaCode),
		CreatedAt: g.stamp, UpdatedAt: g.stamp,
	}
	if spec.website {
		row.Website = "https://traeger." + g.p.slug + ".kitaportal.example/" + slugify(shortName(name), 40)
	}
	g.out.providers = append(g.out.providers, row)
	if spec.style != styleParents {
		g.providerIDs[idx] = id
	}
	return id
}

// kitaName invents a unique facility name in the provider's style; it also returns the
// nickname part, which names a parents' initiative.
func (g *generator) kitaName(spec *providerSpec, typ string, wald bool, street string) (string, string) {
	var name, nick string
	for range 8 {
		name, nick = g.kitaNameOnce(spec, typ, wald)
		if !g.usedNames[name] {
			g.usedNames[name] = true
			return name, nick
		}
	}
	return g.unique(name + " – " + street), nick
}

func (g *generator) kitaNameOnce(spec *providerSpec, typ string, wald bool) (string, string) {
	rng := g.fac
	nick := pick(rng, nicknames)
	word := map[string]string{typeKita: "Kita", typeKrippe: "Kinderkrippe", typeKindergarten: "Kindergarten", typeHort: "Hort"}[typ]
	switch {
	case wald:
		nick, word = pick(rng, forestAnimals), "Waldkindergarten"
	case typ == typeHort:
		nick = pick(rng, hortNicknames)
	case typ == typeKrippe && rng.IntN(2) == 0:
		word = "Krippe"
	}
	switch spec.style {
	case styleMunicipal:
		if rng.IntN(2) == 0 {
			return "Städtische " + word + " " + nick, nick
		}
	case styleEv:
		if !wald {
			if rng.IntN(2) == 0 {
				nick = "St. " + pick(rng, saints)
			} else {
				nick = pick(rng, evNames)
			}
		}
		return "Ev. " + word + " " + nick, nick
	case styleKath:
		if !wald {
			nick = "St. " + pick(rng, saints)
		}
		return "Kath. " + word + " " + nick, nick
	case styleOrg:
		return spec.label + " " + word + " " + nick, nick
	case styleInclusive:
		adjective := "Integrative"
		if typ == typeHort || typ == typeKindergarten {
			adjective = "Integrativer" // der Hort, der (Wald-)Kindergarten
		}
		return adjective + " " + word + " " + nick, nick
	case styleParents:
		switch {
		case wald:
		case typ == typeHort:
			word = "Schülerladen"
		case typ == typeKindergarten:
			word = "Kinderhaus"
		default:
			word = "Kinderladen"
		}
	case styleCompany:
		if rng.IntN(2) == 0 {
			nick = pick(rng, companyNicknames)
		}
		if typ != typeHort && !wald {
			word = "Betriebskita"
		}
	case styleMontessori:
		if !wald && typ != typeHort {
			word = "Kinderhaus"
		}
		return "Montessori-" + word + " " + nick, nick
	case stylePrivate:
		if typ == typeKita && rng.IntN(2) == 0 {
			word = "Kinderhaus"
		}
	}
	return word + " " + nick, nick
}

// unique marks name as used, numbering it if it was taken.
func (g *generator) unique(name string) string {
	out := name
	for i := 2; g.usedNames[out]; i++ {
		out = fmt.Sprintf("%s %d", name, i)
	}
	g.usedNames[out] = true
	return out
}

// contact gives a facility its mail address and, maybe, a website.
func (g *generator) contact(name string, withWebsite bool) (mail, website string) {
	local := slugify(name, 40)
	for i := 2; g.usedMails[local]; i++ {
		local = fmt.Sprintf("%s-%d", slugify(name, 36), i)
	}
	g.usedMails[local] = true
	mail = local + "@kita." + g.p.slug + ".kitaportal.example"
	if withWebsite {
		website = "https://kita." + g.p.slug + ".kitaportal.example/" + local
	}
	return mail, website
}

func (g *generator) conceptsFor(style, typ string, wald bool) []string {
	rng := g.fac
	set := map[string]bool{}
	if wald {
		set["waldkindergarten"] = true
	}
	switch style {
	case styleEv, styleKath:
		set["religionspaedagogik"] = rng.Float64() < 0.8
	case styleInclusive:
		set["inklusion"] = true
	case styleMontessori:
		set["montessori"] = true
	case styleCompany:
		set["bilingual"] = rng.Float64() < 0.3
	}
	have := 0
	for _, v := range set {
		if v {
			have++
		}
	}
	extra := 0
	switch r := rng.Float64(); {
	case r < 0.15:
	case r < 0.55:
		extra = 1
	case r < 0.9:
		extra = 2
	default:
		extra = 3
	}
	pool := extraConcepts
	if typ == typeTagespflege || typ == typeGrosstagespflege {
		pool = []string{"situationsansatz", "naturpaedagogik", "bewegung", "montessori", "inklusion", "bilingual"}
		extra = min(extra, 2)
	}
	for tries := 0; extra > 0 && have < 3 && tries < 12; tries++ {
		c := pick(rng, pool)
		if !set[c] {
			set[c] = true
			have++
			extra--
		}
	}
	out := []string{} // never nil: the column is NOT NULL
	for _, c := range allConcepts {
		if set[c] {
			out = append(out, c)
		}
	}
	return out
}

// tagespflege creates the childminders, each with one facility and one group.
func (g *generator) tagespflege() error {
	n := g.p.tagespflege
	if n == 0 {
		return nil
	}
	limits := g.rules.FacilityLimits
	nGross := int(math.Round(float64(n) * g.p.grossShare))
	types := make([]string, n)
	for i := range types {
		types[i] = typeTagespflege
		if i < nGross {
			types[i] = typeGrosstagespflege
		}
	}
	g.fac.Shuffle(n, func(i, j int) { types[i], types[j] = types[j], types[i] })
	where := g.spreadOver(n)
	for i, typ := range types {
		rng := g.fac
		pc := where[i]
		f := &facilityPlan{id: g.newID("facility"), typ: typ, pc: pc}
		if err := g.locate(f); err != nil {
			return err
		}
		first, last := g.person()
		person := first + " " + last
		f.phone = mobile(rng)
		mailLocal := slugify(person, 36)
		for k := 2; g.usedMails[mailLocal]; k++ {
			mailLocal = fmt.Sprintf("%s-%d", slugify(person, 36), k)
		}
		g.usedMails[mailLocal] = true
		f.email = mailLocal + "@tagespflege." + g.p.slug + ".kitaportal.example"
		f.providerID = g.newID("provider")
		g.out.providers = append(g.out.providers, providerRow{
			TenantID: g.tenantID, ID: f.providerID, Name: "Kindertagespflege " + person, Kind: "childminder",
			Email: f.email, Phone: f.phone, CreatedAt: g.stamp, UpdatedAt: g.stamp,
		})

		places := limits.TagespflegeMaxPlaces
		if typ == typeGrosstagespflege {
			lo := min(max(limits.TagespflegeMaxPlaces+1, limits.GrosstagespflegeMaxPlaces-3), limits.GrosstagespflegeMaxPlaces)
			places = between(rng, lo, limits.GrosstagespflegeMaxPlaces)
		} else if r := rng.Float64(); r >= 0.6 {
			places = max(places-1-int((r-0.6)/0.25), 1) // 25 % one place less, 15 % two
		}
		f.name = g.tagespflegeName(typ, person)
		f.ageMin, f.ageMax = pick(rng, []int{8, 8, 8, 12}), 36
		f.concepts = g.conceptsFor("", typ, false)
		f.barrierFree = rng.Float64() < 0.2
		f.lunch = rng.Float64() < 0.75
		f.level = g.demandLevel()
		groupName := "Tagespflegegruppe"
		if typ == typeGrosstagespflege {
			groupName = "Großtagespflegegruppe"
		}
		f.groups = []*groupPlan{{
			id: g.newID("group"), n: g.counters["group"], name: groupName, band: bandKrippe, careHours: g.tagespflegeHours(),
			places: places, min: places, max: places,
		}}
		g.facilities = append(g.facilities, f)
	}
	return nil
}

// tagespflegeName prefers a nickname for a Großtagespflege and sometimes for a single
// childminder; once the nicknames are taken, the person's name makes it unique.
func (g *generator) tagespflegeName(typ, person string) string {
	prefix, fallback := "Kindertagespflege ", "Kindertagespflege "+person
	tries := 0
	switch {
	case typ == typeGrosstagespflege:
		prefix, fallback, tries = "Großtagespflege ", "Großtagespflege bei "+person, 3
	case g.fac.Float64() < 0.4:
		tries = 3
	}
	for range tries {
		nick := pick(g.fac, tagespflegeNicknames)
		if typ == typeTagespflege {
			nick = "„" + nick + "“"
		}
		if name := prefix + nick; !g.usedNames[name] {
			g.usedNames[name] = true
			return name
		}
	}
	return g.unique(fallback)
}

// person invents a childminder's name that no other childminder of the city has.
func (g *generator) person() (string, string) {
	for {
		first, last := pick(g.fac, adultFirstNames), pick(g.fac, lastNames)
		if !g.usedPersons[first+" "+last] {
			g.usedPersons[first+" "+last] = true
			return first, last
		}
	}
}

// spreadOver distributes n facilities over the postcodes by weight (largest remainder),
// in random order.
func (g *generator) spreadOver(n int) []*postcode {
	weights := make([]int, len(g.p.postcodes))
	for i, pc := range g.p.postcodes {
		weights[i] = pc.weight
	}
	var out []*postcode
	for i, c := range apportion(n, weights) {
		for range c {
			out = append(out, &g.p.postcodes[i])
		}
	}
	g.fac.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// finishFacilities writes facilities, groups and capacities once places are final.
func (g *generator) finishFacilities() {
	for _, f := range g.facilities {
		longest := 0
		for _, grp := range f.groups {
			longest = max(longest, grp.careHours)
		}
		g.out.facilities = append(g.out.facilities, facilityRow{
			TenantID: g.tenantID, ID: f.id, ProviderID: f.providerID, Type: f.typ, Name: f.name, Status: "active",
			Street: f.street, HouseNumber: f.house, PLZ: f.pc.plz, City: f.pc.place,
			MunicipalityKey: f.pc.municipality, DistrictKey: f.district, Lat: f.pt.lat, Lon: f.pt.lon,
			Description: describe(g.fac, f), Concepts: f.concepts, OpeningHours: hoursFor(g.fac, f.typ, longest),
			AgeMinMonths: f.ageMin, AgeMaxMonths: f.ageMax, BarrierFree: f.barrierFree, Lunch: f.lunch,
			Phone: f.phone, Email: f.email, Website: f.website, CreatedAt: g.stamp, UpdatedAt: g.stamp,
		})
		g.out.photos = append(g.out.photos, g.photos(f)...)
		for _, grp := range f.groups {
			grp.children = g.occupied(f, grp.places)
			g.out.groups = append(g.out.groups, groupRow{
				TenantID: g.tenantID, ID: grp.id, FacilityID: f.id, Name: grp.name, AgeBand: grp.band,
				CareHours: grp.careHours, CreatedAt: g.stamp, UpdatedAt: g.stamp,
			})
			capacity := func(from, until date.Date, places int) {
				g.out.capacities = append(g.out.capacities, capacityRow{
					TenantID: g.tenantID, GroupID: grp.id, ValidFrom: from, ValidUntil: until, Places: places,
				})
			}
			switch {
			case !grp.opens.IsZero():
				capacity(grp.opens, date.Date{}, grp.places)
			case grp.growth > 0:
				capacity(g.yearStart, g.nextYear, grp.places)
				capacity(g.nextYear, date.Date{}, grp.places+grp.growth)
			default:
				capacity(g.yearStart, date.Date{}, grp.places)
			}
		}
	}
}

// children fills the open groups: one family, child and contract per occupied place.
// How many children a group has does not depend on the month, and their ids are numbered
// within the group, so seeding again in a later month only adds the children of groups
// that have opened since.
func (g *generator) children() error {
	for _, f := range g.facilities {
		for _, grp := range f.groups {
			if !grp.opens.IsZero() && grp.opens.After(g.from) {
				continue // not open yet this month
			}
			for i := range grp.children {
				if err := g.child(f, grp, fmt.Sprintf("%d.%d", grp.n, i+1)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// occupied is how many children a group has: facilities in demand are full or one over,
// others have a place or several free.
func (g *generator) occupied(f *facilityPlan, places int) int {
	if places == 0 {
		return 0
	}
	rng := g.fac
	if f.isTagespflege() {
		switch f.level {
		case demandFull:
			return places
		case demandHigh:
			return places - rng.IntN(2)
		default:
			return max(places-2, 0)
		}
	}
	switch f.level {
	case demandFull:
		if rng.Float64() < 0.2 {
			return places + 1 // overbooked by one, with the authority's consent
		}
		return places
	case demandHigh:
		return int(math.Round(float64(places) * (0.88 + 0.12*rng.Float64())))
	default:
		return int(math.Round(float64(places) * (0.65 + 0.23*rng.Float64())))
	}
}

func (g *generator) child(f *facilityPlan, grp *groupPlan, slot string) error {
	rng := g.people
	band, _ := g.rules.AgeBand(grp.band)
	birth, err := g.birthFor(f, band)
	if err != nil {
		return err
	}
	var start date.Date
	if band.SchoolAge {
		start = g.cal.SchoolEntry(birth) // Hort begins with school
	} else {
		earliest := birth.AddMonths(f.ageMin)
		if !grp.opens.IsZero() && earliest.Before(grp.opens) {
			earliest = grp.opens
		}
		start = g.cal.contractStart(rng, earliest, g.from)
	}
	end := g.cal.plannedEnd(f.typ, birth)
	if start.After(g.from) || !end.After(g.to) {
		return fmt.Errorf("demo: contract %s–%s of a child born %s does not cover %s–%s", start, end, birth, g.from, g.to)
	}

	home := g.homeFor(f)
	st := pick(rng, g.streets[home.plz])
	familyID, childID := g.id("family", slot), g.id("child", slot)
	g.out.families = append(g.out.families, familyRow{
		TenantID: g.tenantID, ID: familyID, Street: st.name, HouseNumber: houseNumber(rng), PLZ: home.plz,
		City: home.place, MunicipalityKey: home.municipality, CreatedAt: g.stamp, UpdatedAt: g.stamp,
	})
	g.out.children = append(g.out.children, childRow{
		TenantID: g.tenantID, ID: childID, FamilyID: familyID, FirstName: pick(rng, childFirstNames),
		LastName: pick(rng, lastNames), BirthDate: birth, CreatedAt: g.stamp, UpdatedAt: g.stamp,
	})
	g.out.contracts = append(g.out.contracts, contractRow{
		TenantID: g.tenantID, ID: g.id("contract", slot), ChildID: childID, FacilityID: f.id, GroupID: grp.id,
		CareHours: contractHours(rng, g.rules.CareScopes, grp.careHours), StartDate: start, EndDate: end,
		Status: "active", Source: "demo", CreatedAt: g.stamp, UpdatedAt: g.stamp,
	})
	return nil
}

// birthFor draws a birth date that fits the band and the facility on every day of the
// current month, and whose planned contract end lies after it.
func (g *generator) birthFor(f *facilityPlan, band tenant.AgeBand) (date.Date, error) {
	minAge := max(band.MinMonths, f.ageMin)
	maxAge := f.ageMax
	if band.MaxMonths > 0 {
		maxAge = min(maxAge, band.MaxMonths)
	}
	lo, hi := g.from.AddMonths(-(maxAge + 1)), g.from.AddMonths(-minAge)
	days := int(hi.Time().Sub(lo.Time()).Hours() / 24)
	for range 1000 {
		b := lo.AddDays(g.people.IntN(days + 1))
		if g.fitsFacility(f, band, b) {
			return b, nil
		}
	}
	return date.Date{}, fmt.Errorf("demo: no birth date fits band %q in a %s aged %d–%d months", band.Key, f.typ, f.ageMin, f.ageMax)
}

func (g *generator) fitsFacility(f *facilityPlan, band tenant.AgeBand, birth date.Date) bool {
	return g.cal.Fits(band, birth, g.from) && g.cal.Fits(band, birth, g.to) &&
		birth.MonthsUntil(g.from) >= f.ageMin && birth.MonthsUntil(g.to) < f.ageMax &&
		g.cal.plannedEnd(f.typ, birth).After(g.to)
}

// homeFor picks where a child's family lives: mostly near the facility, always in the
// facility's municipality when the tenant binds such places to residence.
func (g *generator) homeFor(f *facilityPlan) *postcode {
	bound := g.rules.Residence.KitaBoundToMunicipality
	if f.isTagespflege() {
		bound = g.rules.Residence.TagespflegeBoundToMunicipality
	}
	switch r := g.people.Float64(); {
	case r < 0.65:
		return f.pc
	case r < 0.95 || bound:
		return g.weightedPostcode(g.byMunicipality[f.pc.municipality])
	default:
		all := make([]*postcode, len(g.p.postcodes))
		for i := range g.p.postcodes {
			all[i] = &g.p.postcodes[i]
		}
		return g.weightedPostcode(all)
	}
}

func (g *generator) weightedPostcode(pcs []*postcode) *postcode {
	weights := make([]int, len(pcs))
	for i, pc := range pcs {
		weights[i] = pc.weight
	}
	return pcs[weighted(g.people, weights)]
}

// contractHours books one of the tenant's scopes up to the group's longest; most
// families book the longest or the one below.
func contractHours(rng *rand.Rand, scopes []int, longest int) int {
	var allowed []int
	for _, s := range scopes {
		if s <= longest {
			allowed = append(allowed, s)
		}
	}
	if len(allowed) == 0 {
		return longest
	}
	switch r := rng.Float64(); {
	case r < 0.55:
		return allowed[len(allowed)-1]
	case r < 0.85 && len(allowed) > 1:
		return allowed[len(allowed)-2]
	default:
		return allowed[rng.IntN(len(allowed))]
	}
}

// fitTotal moves group sizes one place at a time, round-robin in random order and
// within each group's bounds, until they add up to target.
func fitTotal(rng *rand.Rand, groups []*groupPlan, target int) error {
	sum := 0
	for _, grp := range groups {
		sum += grp.places
	}
	order := rng.Perm(len(groups))
	for sum != target {
		moved := false
		for _, i := range order {
			grp := groups[i]
			switch {
			case sum < target && grp.places < grp.max:
				grp.places++
				sum++
				moved = true
			case sum > target && grp.places > grp.min:
				grp.places--
				sum--
				moved = true
			}
			if sum == target {
				break
			}
		}
		if !moved {
			return fmt.Errorf("cannot reach %d places with %d groups (stuck at %d): adjust the profile's group counts", target, len(groups), sum)
		}
	}
	return nil
}

// apportion splits n by weights with the largest-remainder method.
func apportion(n int, weights []int) []int {
	total := 0
	for _, w := range weights {
		total += w
	}
	counts := make([]int, len(weights))
	if total == 0 {
		return counts
	}
	type remainder struct{ i, r int }
	rems := make([]remainder, len(weights))
	assigned := 0
	for i, w := range weights {
		counts[i] = n * w / total
		assigned += counts[i]
		rems[i] = remainder{i, n * w % total}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; assigned < n; k++ {
		counts[rems[k].i]++
		assigned++
	}
	return counts
}

// scatter moves p in a random direction by up to km, uniformly over the disc.
func scatter(rng *rand.Rand, p point, km float64) point {
	d := km * math.Sqrt(rng.Float64())
	a := 2 * math.Pi * rng.Float64()
	lat := p.lat + d*math.Cos(a)/111.32
	lon := p.lon + d*math.Sin(a)/(111.32*math.Cos(p.lat*math.Pi/180))
	return point{round6(lat), round6(lon)}
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// distKm is good enough for distances of a few kilometres.
func distKm(a, b point) float64 {
	dy := (a.lat - b.lat) * 111.32
	dx := (a.lon - b.lon) * 111.32 * math.Cos((a.lat+b.lat)/2*math.Pi/180)
	return math.Hypot(dx, dy)
}

// shortName drops explanations from a provider's name: "Stadt Bochum – Städtische Kitas"
// becomes "Stadt Bochum", "Kinderwerk Ruhr e.V. (Mitglied im Paritätischen)" becomes
// "Kinderwerk Ruhr e.V.".
func shortName(name string) string {
	for _, sep := range []string{" (", " – "} {
		if i := strings.Index(name, sep); i > 0 {
			name = name[:i]
		}
	}
	return name
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func between(rng *rand.Rand, lo, hi int) int { return lo + rng.IntN(hi-lo+1) }

func weighted(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := rng.IntN(total)
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}

func houseNumber(rng *rand.Rand) string {
	n := 1 + rng.IntN(rng.IntN(120)+1) // small numbers are more common
	if rng.Float64() < 0.08 {
		return fmt.Sprintf("%d%c", n, 'a'+rune(rng.IntN(3)))
	}
	return fmt.Sprint(n)
}

func phone(rng *rand.Rand, areaCode string) string {
	digits := max(5, 11-len(areaCode))
	n := between(rng, 2, 9)
	for range digits - 1 {
		n = n*10 + rng.IntN(10)
	}
	return fmt.Sprintf("%s %d", areaCode, n)
}

func mobile(rng *rand.Rand) string {
	return fmt.Sprintf("%s %d", pick(rng, []string{"0151", "0157", "0160", "0170", "0172", "0176"}), between(rng, 1000000, 99999999))
}
