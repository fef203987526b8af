package tenant

import (
	"math"
	"strconv"
	"strings"
)

// Rules is the whole configuration surface of one city: what tenants/<slug>.yaml holds,
// what tenant admins may change, and what every rule engine reads. The YAML and JSON
// names are the same; the JSON form is what the database keeps per version.
type Rules struct {
	Slug      string   `yaml:"slug" json:"slug"`
	Name      string   `yaml:"name" json:"name"`   // official name, e.g. "Stadt Kempten (Allgäu)"
	State     string   `yaml:"state" json:"state"` // Land code: BB, SN, BY, NW, NI, …
	Languages []string `yaml:"languages" json:"languages"`

	Branding     Branding     `yaml:"branding" json:"branding"`
	Map          Map          `yaml:"map" json:"map"`
	KitaYear     KitaYear     `yaml:"kita_year" json:"kita_year"`
	Registration Registration `yaml:"registration" json:"registration"`
	Offers       Offers       `yaml:"offers" json:"offers"`
	Residence    Residence    `yaml:"residence" json:"residence"`
	Tickets      Tickets      `yaml:"tickets" json:"tickets"`
	Allocation   Allocation   `yaml:"allocation" json:"allocation"`
	Criteria     Criteria     `yaml:"criteria" json:"criteria"`
	Contract     Contract     `yaml:"contract" json:"contract"`

	CareScopes     []int          `yaml:"care_scopes" json:"care_scopes"` // weekly hours a family can book, ascending
	AgeBands       []AgeBand      `yaml:"age_bands" json:"age_bands"`
	FacilityLimits FacilityLimits `yaml:"facility_limits" json:"facility_limits"`

	Municipalities []Municipality `yaml:"municipalities" json:"municipalities"`
	Districts      []District     `yaml:"districts" json:"districts"`

	SignIn *SignIn `yaml:"sign_in,omitempty" json:"sign_in,omitempty"` // besides passwords; signin.go

	Retention Retention `yaml:"retention" json:"retention"` // how long personal data is kept (internal/retention)
}

// Retention is how long the city keeps personal data that no longer serves its purpose;
// the daily retention job (internal/retention) deletes what is older. A zero period
// means the category is not swept (shown as "not set" on the retention and Art. 30 pages).
type Retention struct {
	// Requests that never got a place (withdrawn, refused, expired, closed, or still
	// waiting) are deleted this many months after their desired start passed.
	UnplacedRequestMonths int `yaml:"unplaced_request_months" json:"unplaced_request_months"`
	// Inbox messages, and mails already sent (outbox rows, delivery receipts), after this many days.
	MailDays int `yaml:"mail_days" json:"mail_days"`
	// Sessions that ended (expired or signed out) after this many days.
	SessionDays int `yaml:"session_days" json:"session_days"`
}

// Text is a short text per language; "de" is required, other languages fall back to it.
type Text map[string]string

// In returns the text in lang, or German.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	return t["de"]
}

// Branding is how the portal looks for this city.
type Branding struct {
	DisplayName  string `yaml:"display_name" json:"display_name"` // e.g. "Kita-Portal Bochum"
	Claim        Text   `yaml:"claim" json:"claim"`               // one line under the name
	PrimaryColor string `yaml:"primary_color" json:"primary_color"`
	AccentColor  string `yaml:"accent_color" json:"accent_color"`
	// Logo names an SVG file in tenants/logos/. Its checked content is kept in LogoSVG.
	Logo    string `yaml:"logo" json:"logo"`
	LogoSVG string `yaml:"-" json:"logo_svg"`
	// LogoPNG is a PNG logo uploaded in the staff area (re-encoded, see the branding
	// editor); a city has an SVG or a PNG logo, not both.
	LogoPNG []byte `yaml:"-" json:"logo_png,omitempty"`

	ContactName  string `yaml:"contact_name" json:"contact_name"`
	ContactEmail string `yaml:"contact_email" json:"contact_email"`
	ContactPhone string `yaml:"contact_phone" json:"contact_phone"`
	ImprintURL   string `yaml:"imprint_url" json:"imprint_url"`
	PrivacyURL   string `yaml:"privacy_url" json:"privacy_url"`
	// ImprintText and PrivacyText are the Impressum and the Datenschutzerklärung
	// themselves (plain text, paragraphs separated by blank lines), served by the portal
	// at /impressum and /datenschutz; a city that sets one needs no URL for it.
	ImprintText Text `yaml:"imprint_text,omitempty" json:"imprint_text,omitempty"`
	PrivacyText Text `yaml:"privacy_text,omitempty" json:"privacy_text,omitempty"`
}

// HasImprint tells whether the city names its imprint: a URL or a text of its own.
func (b Branding) HasImprint() bool {
	return strings.TrimSpace(b.ImprintURL) != "" || strings.TrimSpace(b.ImprintText["de"]) != ""
}

// HasPrivacy tells whether the city names its privacy notice: a URL or a text of its own.
func (b Branding) HasPrivacy() bool {
	return strings.TrimSpace(b.PrivacyURL) != "" || strings.TrimSpace(b.PrivacyText["de"]) != ""
}

// Map is where the city's map starts and which tile server it uses. With no tile URL the
// map is not shown at all and the list is the whole result.
type Map struct {
	CenterLat       float64 `yaml:"center_lat" json:"center_lat"`
	CenterLon       float64 `yaml:"center_lon" json:"center_lon"`
	Zoom            int     `yaml:"zoom" json:"zoom"`
	DefaultRadiusKm float64 `yaml:"default_radius_km" json:"default_radius_km"`
	TileURL         string  `yaml:"tile_url" json:"tile_url"` // https://…/{z}/{x}/{y}.png
	TileAttribution string  `yaml:"tile_attribution" json:"tile_attribution"`
}

// KitaYear fixes when the care year starts and when children enter school.
type KitaYear struct {
	Start string `yaml:"start" json:"start"` // MM-DD, usually 08-01
	// A child enters school at the start of the year whose SchoolCutoff day (MM-DD, same
	// calendar year) is the first on which it is SchoolEntryAge years old (Land law:
	// Saxony 06-30, Bavaria/NRW/Brandenburg/Lower Saxony 09-30). Calendar.SchoolEntry
	// computes it.
	SchoolEntryAge int    `yaml:"school_entry_age" json:"school_entry_age"`
	SchoolCutoff   string `yaml:"school_cutoff" json:"school_cutoff"`
}

// Registration is the rule set for filing a pre-registration (Vormerkung).
type Registration struct {
	MaxChoices             int  `yaml:"max_choices" json:"max_choices"`
	TagespflegeExtraChoice bool `yaml:"tagespflege_extra_choice" json:"tagespflege_extra_choice"`
	// TagespflegeByDistrict: besides a named childminder, a family may choose
	// Kindertagespflege "in district X"; that district's Fachberatung places the child
	// (Bochum). Needs districts with a Fachberatung (provider.EnsureDistrictDesks).
	TagespflegeByDistrict bool `yaml:"tagespflege_by_district" json:"tagespflege_by_district"`
	BeforeBirth           bool `yaml:"before_birth" json:"before_birth"`
	MaxLeadMonths         int  `yaml:"max_lead_months" json:"max_lead_months"` // start at most this far ahead
	NoticeMonths          int  `yaml:"notice_months" json:"notice_months"`     // legal notice: start at least this far ahead
	// EditableDaysBeforeStart: a submitted request can be changed until this many days
	// before the desired start (or until processing starts).
	EditableDaysBeforeStart int      `yaml:"editable_days_before_start" json:"editable_days_before_start"`
	Windows                 []Window `yaml:"windows" json:"windows"` // empty: all year, 365 days
}

// Window is a yearly registration period, From and Until as MM-DD, both inclusive.
type Window struct {
	From  string `yaml:"from" json:"from"`
	Until string `yaml:"until" json:"until"`
}

// Offers governs binding offers (Zusagen).
type Offers struct {
	LeadMonths   int   `yaml:"lead_months" json:"lead_months"`     // offers go out this long before the start
	ResponseDays int   `yaml:"response_days" json:"response_days"` // the family answers within this many days
	ReminderDays []int `yaml:"reminder_days" json:"reminder_days"` // reminders this many days before the deadline
}

// Contract is what the city's care contract (Betreuungsvertrag) carries beyond the place:
// the parents' fee table and the attachments the family signs with it.
type Contract struct {
	Fees        []Fee        `yaml:"fees" json:"fees"`
	Attachments []Attachment `yaml:"attachments" json:"attachments"`
	// PapersOnSite: the family hands the signed papers in at the facility (Herzberg).
	PapersOnSite bool `yaml:"papers_on_site" json:"papers_on_site"`
	// ReopenRequests: a register contract cancelled, or ended before its planned end,
	// gives back the child's requests it had ended for the time it no longer covers.
	// Without it the family files again.
	ReopenRequests bool `yaml:"reopen_requests" json:"reopen_requests"`
}

// Fee is the monthly parents' fee (Elternbeitrag) of an age band up to a weekly scope.
type Fee struct {
	Band       string  `yaml:"band" json:"band"`
	MaxHours   int     `yaml:"max_hours" json:"max_hours"`
	MonthlyEUR float64 `yaml:"monthly_eur" json:"monthly_eur"`
}

// Attachment is a paper the contract comes with (house rules, SEPA mandate, …).
type Attachment struct {
	Key   string `yaml:"key" json:"key"`
	Title Text   `yaml:"title" json:"title"`
}

// Fee is the monthly fee in cents for band and a weekly scope of hours: the row of the
// band with the smallest max_hours that covers hours.
func (r *Rules) Fee(band string, hours int) (cents int, ok bool) {
	best := -1
	for i, f := range r.Contract.Fees {
		if f.Band == band && f.MaxHours >= hours && (best < 0 || f.MaxHours < r.Contract.Fees[best].MaxHours) {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	return int(math.Round(r.Contract.Fees[best].MonthlyEUR * 100)), true
}

// wholeCents: the file's decimal euro amount names whole cents (245.50, not 245.505);
// amounts below 10,000 € are exact enough in a float64 for this to be a fair test.
func wholeCents(eur float64) bool {
	return math.Abs(eur*100-math.Round(eur*100)) < 1e-6
}

// Residence rules: who may file requests, and whether Kitas are bound to the
// municipality of residence (Landkreis tenants).
type Residence struct {
	Rule                    string `yaml:"rule" json:"rule"` // residents_only | residents_and_tickets | open
	KitaBoundToMunicipality bool   `yaml:"kita_bound_to_municipality" json:"kita_bound_to_municipality"`
	// Kindertagespflege is usually not bound (Lüneburg); a tenant may still bind it.
	TagespflegeBoundToMunicipality bool `yaml:"tagespflege_bound_to_municipality" json:"tagespflege_bound_to_municipality"`
}

// Residence rules.
const (
	ResidentsOnly       = "residents_only"
	ResidentsAndTickets = "residents_and_tickets"
	ResidenceOpen       = "open"
)

// Tickets are access rights for families from outside (Leipzig's Ticketregelung).
type Tickets struct {
	Enabled        bool           `yaml:"enabled" json:"enabled"`
	Quota          map[string]int `yaml:"quota" json:"quota"` // per Kita year and age band key
	ValidityMonths int            `yaml:"validity_months" json:"validity_months"`
}

// Allocation modes.
const (
	ModeDecentral          = "decentral"           // facility decides, admin may confirm
	ModeOneOfferLock       = "one_offer_lock"      // one open offer per child, other requests pause
	ModeCascade            = "cascade"             // wishes forwarded in the parents' order with deadlines
	ModeDeferredAcceptance = "deferred_acceptance" // central stable matching
)

// Allocation chooses how places are given out.
type Allocation struct {
	Mode string `yaml:"mode" json:"mode"`
	// AdminConfirms: in decentral mode an administrator confirms the facility's choice.
	AdminConfirms bool `yaml:"admin_confirms" json:"admin_confirms"`
	// CascadeDays is each facility's time in cascade mode before the wish moves on.
	CascadeDays int `yaml:"cascade_days" json:"cascade_days"`
	// FacilitiesSeeOtherChoices: whether a facility sees the family's other choices.
	FacilitiesSeeOtherChoices bool `yaml:"facilities_see_other_choices" json:"facilities_see_other_choices"`
	// ReservationDays (decentral mode, Leipzig): a parent may reserve a place shown free
	// and the facility confirms within these days, or the reservation lapses; 0: parents
	// cannot reserve.
	ReservationDays int `yaml:"reservation_days" json:"reservation_days"`
	// LargerScope (central rounds): a child may take a place of a group with more weekly
	// hours than it asked for when none of its own scope is left (KiBiz: a 25-hour
	// booking in a 45-hour group).
	LargerScope bool `yaml:"larger_scope" json:"larger_scope"`
	// AutoFollowUp (central rounds): seats freed by declined or expired offers of a
	// published round go to the next children by a follow-up run published at once; off:
	// a case worker starts and publishes it.
	AutoFollowUp bool `yaml:"auto_follow_up" json:"auto_follow_up"`
}

// Criteria is the priority catalogue with its deterministic tie-breaks.
type Criteria struct {
	Catalogue []Criterion `yaml:"catalogue" json:"catalogue"`
	TieBreaks []string    `yaml:"tie_breaks" json:"tie_breaks"`
}

// Criterion is one priority criterion. Global criteria count everywhere; facility
// criteria only where the facility confirms them (e.g. child of the company's staff).
type Criterion struct {
	Key      string `yaml:"key" json:"key"`
	Label    Text   `yaml:"label" json:"label"`
	Points   int    `yaml:"points" json:"points"`
	Scope    string `yaml:"scope" json:"scope"`       // global | facility
	Kind     string `yaml:"kind" json:"kind"`         // flag | text (text: a hardship reason)
	Evidence bool   `yaml:"evidence" json:"evidence"` // proof is asked for
}

// Tie-breaks, applied in the configured order after points.
const (
	TieBreakPoints          = "points"
	TieBreakSiblings        = "siblings"
	TieBreakApplicationDate = "application_date"
	TieBreakBirthDate       = "birth_date"
	TieBreakLottery         = "lottery"
)

// AgeBand is an age range children are grouped and counted in. MaxMonths is exclusive.
// A band with UntilSchool ends at school entry instead of a fixed age; a band with
// SchoolAge starts at school entry.
type AgeBand struct {
	Key         string `yaml:"key" json:"key"`
	Label       Text   `yaml:"label" json:"label"`
	MinMonths   int    `yaml:"min_months" json:"min_months"`
	MaxMonths   int    `yaml:"max_months" json:"max_months"`
	UntilSchool bool   `yaml:"until_school" json:"until_school"`
	SchoolAge   bool   `yaml:"school_age" json:"school_age"`
}

// FacilityLimits caps places per Kindertagespflege kind (Land law).
type FacilityLimits struct {
	TagespflegeMaxPlaces      int `yaml:"tagespflege_max_places" json:"tagespflege_max_places"`
	GrosstagespflegeMaxPlaces int `yaml:"grosstagespflege_max_places" json:"grosstagespflege_max_places"`
}

// Municipality is a Gemeinde in the tenant's area.
type Municipality struct {
	Key  string `yaml:"key" json:"key"`
	Name string `yaml:"name" json:"name"`
}

// District is a planning district with the Fachberatung that handles Kindertagespflege.
type District struct {
	Key          string  `yaml:"key" json:"key"`
	Name         string  `yaml:"name" json:"name"`
	Municipality string  `yaml:"municipality" json:"municipality"`
	Fachberatung Contact `yaml:"fachberatung" json:"fachberatung"`
}

// Contact is a named office with mail and phone.
type Contact struct {
	Name  string `yaml:"name" json:"name"`
	Email string `yaml:"email" json:"email"`
	Phone string `yaml:"phone" json:"phone"`
}

// AgeBand returns the band with key, if the tenant has it.
func (r *Rules) AgeBand(key string) (AgeBand, bool) {
	for _, b := range r.AgeBands {
		if b.Key == key {
			return b, true
		}
	}
	return AgeBand{}, false
}

// District returns the district with key, if the tenant has it.
func (r *Rules) District(key string) (District, bool) {
	for _, d := range r.Districts {
		if d.Key == key {
			return d, true
		}
	}
	return District{}, false
}

// ScopesText writes care scopes (weekly hours) the way messages list them: "30, 35, 40".
func ScopesText(scopes []int) string {
	parts := make([]string, len(scopes))
	for i, h := range scopes {
		parts[i] = strconv.Itoa(h)
	}
	return strings.Join(parts, ", ")
}

// SupportsLanguage tells whether the portal of this tenant is offered in lang.
func (r *Rules) SupportsLanguage(lang string) bool {
	for _, l := range r.Languages {
		if l == lang {
			return true
		}
	}
	return false
}
