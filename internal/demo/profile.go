package demo

// Facility types as the schema spells them.
const (
	typeKrippe           = "krippe"
	typeKindergarten     = "kindergarten"
	typeKita             = "kita"
	typeHort             = "hort"
	typeTagespflege      = "tagespflege"
	typeGrosstagespflege = "grosstagespflege"
)

// Age band keys the generator puts groups into; each must exist in the tenant's rules
// when a facility type needs it.
const (
	bandKrippe       = "krippe"
	bandKindergarten = "kindergarten"
	bandHort         = "hort"
)

// profile is everything city-specific about the demo data; the generator reads nothing
// else about a city besides its rules.
type profile struct {
	slug      string
	postcodes []postcode
	// anchors place districts for cities whose municipality has several districts and
	// whose postcodes do not name one: a facility belongs to the nearest anchor.
	anchors []anchor
	// spreadKm is how far streets lie from their postcode's centroid.
	spreadKm float64

	kitas      []facilityMix
	kitaPlaces int // exact number of Kita places in the current Kita year

	tagespflege int     // Kindertagespflege facilities, each with its own childminder
	grossShare  float64 // fraction of them that are Großtagespflege

	openingGroups int // Kitas that open an extra Krippe group on 1 January
	growingGroups int // groups that get more places from the next Kita year

	providers []providerSpec
}

// postcode is a real postcode of the city with an approximate centroid.
type postcode struct {
	plz          string
	municipality string // key in the tenant's rules
	place        string // as people write it in an address
	district     string // district key; empty: decided by location
	areaCode     string // telephone area code
	lat, lon     float64
	weight       int      // share of facilities and families
	streets      []string // real streets of the area; generic names fill up
}

// anchor is a point standing for a district.
type anchor struct {
	district string
	lat, lon float64
}

// facilityMix is how many facilities of a type a city has and how many groups of each
// age band one of them runs.
type facilityMix struct {
	typ                string
	count              int
	krippe, kiga, hort span
}

// span is an inclusive range.
type span struct{ min, max int }

// Provider naming styles.
const (
	styleMunicipal  = "municipal"  // "Städtische Kita Sonnenblume"
	styleEv         = "ev"         // "Ev. Kita St. Markus"
	styleKath       = "kath"       // "Kath. Kita St. Josef"
	styleOrg        = "org"        // "AWO Kita Regenbogen"
	styleInclusive  = "inclusive"  // "Integrative Kita Löwenzahn"
	styleParents    = "parents"    // one association per facility: "Kinderladen Zwergenland"
	styleCompany    = "company"    // "Betriebskita Pusteblume"
	styleMontessori = "montessori" // "Montessori-Kinderhaus Kleeblatt"
	stylePrivate    = "private"    // "Kinderhaus Wirbelwind"
)

// providerSpec is a Träger. Facilities pick one by weight among those allowed in their
// municipality.
type providerSpec struct {
	name         string // for styleParents a pattern with %s for the facility's nickname
	kind         string // provider.kind
	style        string
	label        string // prefix of facility names for styleOrg, e.g. "AWO"
	weight       int
	municipality string // only facilities of this municipality; empty: all
	website      bool
}
