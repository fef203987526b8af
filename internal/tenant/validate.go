package tenant

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FieldError names the field of a rules file that is wrong and why.
type FieldError struct {
	Field  string // dotted path, e.g. registration.max_choices or districts[2].municipality
	Reason string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// Languages we have a message catalogue for. A tenant may offer any of them.
var knownLanguages = []string{"de", "en"}

// States are the 16 German Länder.
var states = []string{"BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH"}

var (
	keyPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	slugPattern  = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)
	colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	// Criterion keys become JSON field names of a request's answers.
	criterionPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// Validate checks every rule and returns all problems at once, joined; each is a FieldError.
func (r *Rules) Validate() error {
	v := &validator{}
	v.check(slugPattern.MatchString(r.Slug), "slug", "must be lower-case letters, digits and dashes, starting with a letter")
	v.check(strings.TrimSpace(r.Name) != "" && len(r.Name) <= 200, "name", "is required (at most 200 characters)")
	v.check(slices.Contains(states, r.State), "state", "must be a Land code such as BY, NW, SN, NI or BB")
	r.validateLanguages(v)
	r.validateBranding(v)
	r.validateMap(v)
	r.validateKitaYear(v)
	r.validateRegistration(v)
	r.validateOffers(v)
	r.validateAgeBands(v) // before residence/tickets, which refer to bands
	r.validateResidence(v)
	r.validateAllocation(v)
	r.validateCriteria(v)
	r.validateContract(v)
	r.validateCareScopes(v)
	r.validateFacilityLimits(v)
	r.validateGeography(v)
	r.validateSignIn(v)
	r.validateRetention(v)
	return v.err()
}

func (r *Rules) validateLanguages(v *validator) {
	v.check(len(r.Languages) > 0 && r.Languages[0] == "de", "languages", "must start with de (German is the default)")
	seen := map[string]bool{}
	for i, l := range r.Languages {
		f := fmt.Sprintf("languages[%d]", i)
		v.check(slices.Contains(knownLanguages, l), f, fmt.Sprintf("%q has no message catalogue; known: %s", l, strings.Join(knownLanguages, ", ")))
		v.check(!seen[l], f, fmt.Sprintf("%q is listed twice", l))
		seen[l] = true
	}
}

func (r *Rules) validateBranding(v *validator) {
	b := r.Branding
	v.check(strings.TrimSpace(b.DisplayName) != "" && len(b.DisplayName) <= 80, "branding.display_name", "is required (at most 80 characters)")
	v.text("branding.claim", b.Claim, 160)
	for field, c := range map[string]string{"branding.primary_color": b.PrimaryColor, "branding.accent_color": b.AccentColor} {
		if !colorPattern.MatchString(c) {
			v.add(field, fmt.Sprintf("must be a colour like #1a5f7a (got %q)", c))
		}
	}
	// White text sits on the primary colour (header, buttons): WCAG AA needs 4.5:1.
	if colorPattern.MatchString(b.PrimaryColor) {
		if ratio := contrastWithWhite(b.PrimaryColor); ratio < MinTextContrast {
			v.add("branding.primary_color", fmt.Sprintf("is too light for white text: contrast %.2f:1, needs at least 4.5:1 (BITV 2.0)", ratio))
		}
	}
	if b.Logo != "" {
		v.check(keyPattern.MatchString(strings.TrimSuffix(b.Logo, ".svg")) && strings.HasSuffix(b.Logo, ".svg"), "branding.logo", "must be the name of an .svg file in tenants/logos/")
	}
	// A stored logo is checked again on every load: the database is not trusted more
	// than the file.
	if b.LogoSVG != "" {
		if _, err := CheckLogoSVG([]byte(b.LogoSVG)); err != nil {
			v.add("branding.logo", err.Error())
		}
	}
	if len(b.LogoPNG) > 0 {
		v.check(b.LogoSVG == "", "branding.logo", "an SVG and a PNG logo at once: keep one")
		v.check(len(b.LogoPNG) <= MaxLogoBytes && bytes.HasPrefix(b.LogoPNG, pngSignature), "branding.logo",
			fmt.Sprintf("a PNG logo must be a PNG file of at most %d KiB", MaxLogoBytes>>10))
	}
	v.legalText("branding.imprint_text", b.ImprintText)
	v.legalText("branding.privacy_text", b.PrivacyText)
	if b.ContactEmail != "" {
		v.email("branding.contact_email", b.ContactEmail)
	}
	for field, u := range map[string]string{"branding.imprint_url": b.ImprintURL, "branding.privacy_url": b.PrivacyURL} {
		if u != "" {
			v.httpsURL(field, u)
		}
	}
}

func (r *Rules) validateMap(v *validator) {
	m := r.Map
	v.check(m.CenterLat >= 47 && m.CenterLat <= 55.1 && m.CenterLon >= 5.8 && m.CenterLon <= 15.1, "map.center_lat", "the map centre must lie in Germany")
	v.check(m.Zoom >= 5 && m.Zoom <= 18, "map.zoom", "must be from 5 to 18")
	v.check(m.DefaultRadiusKm >= 0.5 && m.DefaultRadiusKm <= 50, "map.default_radius_km", "must be from 0.5 to 50")
	if m.TileURL != "" {
		v.check(strings.HasPrefix(m.TileURL, "https://") && strings.Contains(m.TileURL, "{z}") && strings.Contains(m.TileURL, "{x}") && strings.Contains(m.TileURL, "{y}"),
			"map.tile_url", "must be an https URL template with {z}, {x} and {y}")
		v.check(strings.TrimSpace(m.TileAttribution) != "", "map.tile_attribution", "is required when tiles are used (licence)")
	}
}

func (r *Rules) validateKitaYear(v *validator) {
	v.monthDay("kita_year.start", r.KitaYear.Start)
	v.monthDay("kita_year.school_cutoff", r.KitaYear.SchoolCutoff)
	v.check(r.KitaYear.SchoolEntryAge >= 5 && r.KitaYear.SchoolEntryAge <= 7, "kita_year.school_entry_age", "must be 5, 6 or 7")
}

func (r *Rules) validateRegistration(v *validator) {
	g := r.Registration
	v.between("registration.max_choices", g.MaxChoices, 1, 10)
	v.between("registration.max_lead_months", g.MaxLeadMonths, 1, 72)
	v.between("registration.notice_months", g.NoticeMonths, 0, 12)
	if g.NoticeMonths >= g.MaxLeadMonths && g.MaxLeadMonths > 0 {
		v.add("registration.notice_months", fmt.Sprintf("must be less than max_lead_months (%d), or no start date could ever be chosen", g.MaxLeadMonths))
	}
	v.between("registration.editable_days_before_start", g.EditableDaysBeforeStart, 0, 365)
	for i, w := range g.Windows {
		f := fmt.Sprintf("registration.windows[%d]", i)
		v.monthDay(f+".from", w.From)
		v.monthDay(f+".until", w.Until)
	}
}

func (r *Rules) validateOffers(v *validator) {
	o := r.Offers
	v.between("offers.lead_months", o.LeadMonths, 0, 24)
	v.between("offers.response_days", o.ResponseDays, 1, 90)
	seen := map[int]bool{}
	for i, d := range o.ReminderDays {
		f := fmt.Sprintf("offers.reminder_days[%d]", i)
		v.check(d >= 1 && d < o.ResponseDays, f, fmt.Sprintf("must be from 1 to %d (less than response_days)", max(1, o.ResponseDays-1)))
		v.check(!seen[d], f, fmt.Sprintf("%d is listed twice", d))
		seen[d] = true
	}
}

// validateRetention: each period is unset (0) or within bounds a city could defend.
func (r *Rules) validateRetention(v *validator) {
	p := r.Retention
	v.check(p.UnplacedRequestMonths == 0 || (p.UnplacedRequestMonths >= 1 && p.UnplacedRequestMonths <= 120),
		"retention.unplaced_request_months", "must be 0 (not swept) or from 1 to 120")
	v.check(p.MailDays == 0 || (p.MailDays >= 7 && p.MailDays <= 3650), "retention.mail_days", "must be 0 (not swept) or from 7 to 3650")
	v.check(p.SessionDays == 0 || (p.SessionDays >= 1 && p.SessionDays <= 3650), "retention.session_days", "must be 0 (not swept) or from 1 to 3650")
}

// validateContract: every fee row names a band of the city with a positive scope and an
// amount below 10,000 €, each band's rows cover its longest scope, attachment keys are
// unique and titled in every language of the city.
func (r *Rules) validateContract(v *validator) {
	longest := 0
	if n := len(r.CareScopes); n > 0 {
		longest = r.CareScopes[n-1]
	}
	covered := map[string]int{}
	for i, fee := range r.Contract.Fees {
		f := fmt.Sprintf("contract.fees[%d]", i)
		_, known := r.AgeBand(fee.Band)
		v.check(known, f+".band", fmt.Sprintf("%q is not an age band of the city", fee.Band))
		v.between(f+".max_hours", fee.MaxHours, 1, 60)
		// A band's rows read like the statute's table, shortest scope first; a row out of
		// order or repeated is a typo that would otherwise pick a surprising fee.
		if prev, seen := covered[fee.Band]; seen {
			v.check(fee.MaxHours > prev, f+".max_hours", fmt.Sprintf("must be above the band's previous row (%d hours): rows ascend per band", prev))
		}
		v.check(fee.MonthlyEUR >= 0 && fee.MonthlyEUR < 10000, f+".monthly_eur", "must be from 0 to less than 10000")
		v.check(wholeCents(fee.MonthlyEUR), f+".monthly_eur", "must have at most two decimals (whole cents)")
		covered[fee.Band] = max(covered[fee.Band], fee.MaxHours)
	}
	for band, upTo := range covered {
		v.check(upTo >= longest, "contract.fees", fmt.Sprintf("band %q has no fee up to %d hours, the city's longest scope", band, longest))
	}
	seen := map[string]bool{}
	for i, a := range r.Contract.Attachments {
		f := fmt.Sprintf("contract.attachments[%d]", i)
		v.check(criterionPattern.MatchString(a.Key), f+".key", "must be lower-case letters, digits and underscores")
		v.check(!seen[a.Key], f+".key", fmt.Sprintf("%q is listed twice", a.Key))
		seen[a.Key] = true
		for _, lang := range r.Languages {
			v.check(strings.TrimSpace(a.Title[lang]) != "", f+".title."+lang, "is required in every language of the city")
		}
	}
}

func (r *Rules) validateAgeBands(v *validator) {
	v.check(len(r.AgeBands) > 0, "age_bands", "at least one age band is required")
	seen := map[string]bool{}
	for i, b := range r.AgeBands {
		f := fmt.Sprintf("age_bands[%d]", i)
		v.key(f+".key", b.Key)
		v.check(!seen[b.Key], f+".key", fmt.Sprintf("%q is used twice", b.Key))
		seen[b.Key] = true
		v.text(f+".label", b.Label, 60)
		v.between(f+".min_months", b.MinMonths, 0, 180)
		switch {
		case b.UntilSchool && b.SchoolAge:
			v.add(f, "cannot both end at school entry and start at it")
		case b.UntilSchool:
			v.check(b.MaxMonths == 0, f+".max_months", "must be left out when the band ends at school entry (until_school)")
		default:
			v.check(b.MaxMonths > b.MinMonths && b.MaxMonths <= 180, f+".max_months", fmt.Sprintf("must be greater than min_months (%d) and at most 180", b.MinMonths))
		}
		if i > 0 && !b.SchoolAge && b.MinMonths < r.AgeBands[i-1].MinMonths {
			v.add(f+".min_months", "age bands must be listed from the youngest to the oldest")
		}
	}
}

func (r *Rules) validateResidence(v *validator) {
	res := r.Residence
	v.check(slices.Contains([]string{ResidentsOnly, ResidentsAndTickets, ResidenceOpen}, res.Rule), "residence.rule",
		fmt.Sprintf("must be %s, %s or %s (got %q)", ResidentsOnly, ResidentsAndTickets, ResidenceOpen, res.Rule))
	t := r.Tickets
	if res.Rule == ResidentsAndTickets {
		v.check(t.Enabled, "tickets.enabled", "must be true when residence.rule is residents_and_tickets")
	}
	if !t.Enabled {
		v.check(len(t.Quota) == 0, "tickets.quota", "is only allowed when tickets are enabled")
		return
	}
	v.between("tickets.validity_months", t.ValidityMonths, 1, 24)
	v.check(len(t.Quota) > 0, "tickets.quota", "needs a quota per age band when tickets are enabled")
	for band, n := range t.Quota {
		f := "tickets.quota." + band
		_, ok := r.AgeBand(band)
		v.check(ok, f, "is not one of the age_bands")
		v.between(f, n, 0, 100000)
	}
}

func (r *Rules) validateAllocation(v *validator) {
	a := r.Allocation
	modes := []string{ModeDecentral, ModeOneOfferLock, ModeCascade, ModeDeferredAcceptance}
	v.check(slices.Contains(modes, a.Mode), "allocation.mode", fmt.Sprintf("must be one of %s (got %q)", strings.Join(modes, ", "), a.Mode))
	if a.Mode == ModeCascade {
		v.between("allocation.cascade_days", a.CascadeDays, 1, 60)
	} else {
		v.check(a.CascadeDays == 0, "allocation.cascade_days", "is only used in cascade mode")
	}
	if a.AdminConfirms {
		v.check(a.Mode == ModeDecentral, "allocation.admin_confirms", "is only used in decentral mode")
	}
	v.between("allocation.reservation_days", a.ReservationDays, 0, 60)
	if a.ReservationDays > 0 {
		// Elsewhere the city or the cascade decides who gets a place, not the first to reserve.
		v.check(a.Mode == ModeDecentral, "allocation.reservation_days", "is only used in decentral mode")
	}
	if a.LargerScope {
		v.check(a.Mode == ModeDeferredAcceptance, "allocation.larger_scope", "is only used in deferred_acceptance mode")
	}
	if a.AutoFollowUp {
		v.check(a.Mode == ModeDeferredAcceptance, "allocation.auto_follow_up", "is only used in deferred_acceptance mode")
	}
}

func (r *Rules) validateCriteria(v *validator) {
	seen := map[string]bool{}
	for i, c := range r.Criteria.Catalogue {
		f := fmt.Sprintf("criteria.catalogue[%d]", i)
		v.check(criterionPattern.MatchString(c.Key), f+".key", fmt.Sprintf("must be lower-case letters, digits and underscores (got %q)", c.Key))
		v.check(!seen[c.Key], f+".key", fmt.Sprintf("%q is used twice", c.Key))
		seen[c.Key] = true
		v.text(f+".label", c.Label, 120)
		v.between(f+".points", c.Points, -100, 100)
		v.check(c.Scope == "global" || c.Scope == "facility", f+".scope", "must be global or facility")
		v.check(c.Kind == "flag" || c.Kind == "text", f+".kind", "must be flag or text")
		// A family claims a facility criterion for one chosen facility: its answer is that
		// facility, so there is no room for a reason text.
		v.check(c.Scope != "facility" || c.Kind == "flag", f+".kind", "a facility criterion must be a flag")
	}
	tb := r.Criteria.TieBreaks
	v.check(len(tb) > 0, "criteria.tie_breaks", "at least one tie-break is required so that every ranking is deterministic")
	known := []string{TieBreakPoints, TieBreakSiblings, TieBreakApplicationDate, TieBreakBirthDate, TieBreakLottery}
	used := map[string]bool{}
	for i, t := range tb {
		f := fmt.Sprintf("criteria.tie_breaks[%d]", i)
		v.check(slices.Contains(known, t), f, fmt.Sprintf("must be one of %s (got %q)", strings.Join(known, ", "), t))
		v.check(!used[t], f, fmt.Sprintf("%q is listed twice", t))
		used[t] = true
		if t == TieBreakLottery {
			v.check(i == len(tb)-1, f, "lottery must come last: nothing after it could ever decide")
		}
	}
	if n := len(tb); n > 0 && tb[n-1] != TieBreakLottery && tb[n-1] != TieBreakApplicationDate {
		v.add("criteria.tie_breaks", "must end with application_date or lottery, which never tie")
	}
}

func (r *Rules) validateCareScopes(v *validator) {
	v.check(len(r.CareScopes) > 0, "care_scopes", "at least one care scope (weekly hours) is required")
	for i, h := range r.CareScopes {
		f := fmt.Sprintf("care_scopes[%d]", i)
		v.between(f, h, 5, 60)
		if i > 0 && h <= r.CareScopes[i-1] {
			v.add(f, "care scopes must be ascending and distinct")
		}
	}
}

func (r *Rules) validateFacilityLimits(v *validator) {
	v.between("facility_limits.tagespflege_max_places", r.FacilityLimits.TagespflegeMaxPlaces, 1, 10)
	v.between("facility_limits.grosstagespflege_max_places", r.FacilityLimits.GrosstagespflegeMaxPlaces, 1, 20)
}

func (r *Rules) validateGeography(v *validator) {
	v.check(len(r.Municipalities) > 0, "municipalities", "at least one municipality is required")
	munis := map[string]bool{}
	for i, m := range r.Municipalities {
		f := fmt.Sprintf("municipalities[%d]", i)
		v.key(f+".key", m.Key)
		v.check(!munis[m.Key], f+".key", fmt.Sprintf("%q is used twice", m.Key))
		munis[m.Key] = true
		v.check(strings.TrimSpace(m.Name) != "", f+".name", "is required")
	}
	if r.Residence.KitaBoundToMunicipality {
		v.check(len(r.Municipalities) > 1, "residence.kita_bound_to_municipality", "only makes sense with more than one municipality")
	}
	districts := map[string]bool{}
	for i, d := range r.Districts {
		f := fmt.Sprintf("districts[%d]", i)
		v.key(f+".key", d.Key)
		v.check(!districts[d.Key], f+".key", fmt.Sprintf("%q is used twice", d.Key))
		districts[d.Key] = true
		v.check(strings.TrimSpace(d.Name) != "", f+".name", "is required")
		v.check(munis[d.Municipality], f+".municipality", fmt.Sprintf("%q is not one of the municipalities", d.Municipality))
		v.check(strings.TrimSpace(d.Fachberatung.Name) != "", f+".fachberatung.name", "is required: Kindertagespflege requests of the district go there")
		v.email(f+".fachberatung.email", d.Fachberatung.Email)
	}
	if r.Registration.TagespflegeExtraChoice {
		v.check(len(r.Districts) > 0, "districts", "are required when Kindertagespflege can be chosen: its Fachberatung is per district")
	}
	if r.Registration.TagespflegeByDistrict {
		v.check(len(r.Districts) > 0, "registration.tagespflege_by_district", "needs districts: the family chooses one, its Fachberatung places the child")
	}
}

// validator collects FieldErrors.
type validator struct{ errs []error }

func (v *validator) add(field, reason string) { v.errs = append(v.errs, FieldError{field, reason}) }

func (v *validator) check(ok bool, field, reason string) {
	if !ok {
		v.add(field, reason)
	}
}

func (v *validator) between(field string, n, lo, hi int) {
	v.check(n >= lo && n <= hi, field, fmt.Sprintf("must be from %d to %d (got %d)", lo, hi, n))
}

func (v *validator) key(field, k string) {
	v.check(keyPattern.MatchString(k), field, fmt.Sprintf("must be lower-case letters, digits and dashes (got %q)", k))
}

func (v *validator) text(field string, t Text, maxLen int) {
	if strings.TrimSpace(t["de"]) == "" {
		v.add(field+".de", "a German text is required")
	}
	for lang, s := range t {
		if !slices.Contains(knownLanguages, lang) {
			v.add(field+"."+lang, "is not a known language")
		}
		if len([]rune(s)) > maxLen {
			v.add(field+"."+lang, fmt.Sprintf("is longer than %d characters", maxLen))
		}
	}
}

func (v *validator) email(field, s string) {
	a, err := mail.ParseAddress(s)
	v.check(err == nil && a.Address == s, field, fmt.Sprintf("must be an e-mail address (got %q)", s))
}

func (v *validator) httpsURL(field, s string) {
	u, err := url.Parse(s)
	v.check(err == nil && u.Scheme == "https" && u.Host != "", field, fmt.Sprintf("must be an https URL (got %q)", s))
}

func (v *validator) monthDay(field, s string) {
	_, err := ParseMonthDay(s)
	v.check(err == nil, field, fmt.Sprintf("must be a day of the year as MM-DD, e.g. 08-01 (got %q)", s))
}

func (v *validator) err() error { return errors.Join(v.errs...) }

// MonthDay is a day of the year, as used for Kita-year starts and school cut-offs.
type MonthDay struct {
	Month time.Month
	Day   int
}

// ParseMonthDay reads MM-DD; 02-29 is refused because it does not exist every year.
func ParseMonthDay(s string) (MonthDay, error) {
	if len(s) != 5 || s[2] != '-' {
		return MonthDay{}, fmt.Errorf("not MM-DD: %q", s)
	}
	m, err1 := strconv.Atoi(s[:2])
	d, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || m < 1 || m > 12 || d < 1 {
		return MonthDay{}, fmt.Errorf("not MM-DD: %q", s)
	}
	if last := time.Date(2025, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
		return MonthDay{}, fmt.Errorf("no such day: %q", s)
	}
	return MonthDay{time.Month(m), d}, nil
}

// MinTextContrast is WCAG 2.x level AA for normal text (success criterion 1.4.3), which
// BITV 2.0 makes law for public bodies.
const MinTextContrast = 4.5

// contrastWithWhite is the WCAG 2 contrast ratio of a #rrggbb colour against white.
func contrastWithWhite(hex string) float64 {
	return contrast(luminance(hex), 1)
}

// ContrastRatio is the WCAG 2.x contrast ratio (1 to 21) of two #rrggbb colours; ok is
// false when either is not such a colour.
func ContrastRatio(a, b string) (ratio float64, ok bool) {
	if !colorPattern.MatchString(a) || !colorPattern.MatchString(b) {
		return 0, false
	}
	return contrast(luminance(a), luminance(b)), true
}

// IsColor tells whether s is a colour as the rules write them (#rrggbb).
func IsColor(s string) bool { return colorPattern.MatchString(s) }

// luminance is the relative luminance of a valid #rrggbb colour (WCAG 2.x: sRGB channels
// linearised, weighted 0.2126 R + 0.7152 G + 0.0722 B).
func luminance(hex string) float64 {
	channel := func(i int) float64 {
		n, _ := strconv.ParseUint(hex[i:i+2], 16, 8)
		c := float64(n) / 255
		if c <= 0.04045 { // 0.03928 in the text of WCAG 2.0; no 8-bit value lies between
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*channel(1) + 0.7152*channel(3) + 0.0722*channel(5)
}

// contrast is (L1 + 0.05) / (L2 + 0.05) with L1 the lighter of the two.
func contrast(l1, l2 float64) float64 {
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05)
}

// MaxLegalText bounds an imprint or privacy text per language (a long
// Datenschutzerklärung runs to some 40,000 characters).
const MaxLegalText = 100_000

// legalText checks an imprint or privacy text: when set, German is required; only
// languages we have a catalogue for; plain text of bounded length.
func (v *validator) legalText(field string, t Text) {
	if len(t) == 0 {
		return
	}
	set := false
	for lang, s := range t {
		f := field + "." + lang
		v.check(slices.Contains(knownLanguages, lang), f, fmt.Sprintf("%q has no message catalogue; known: %s", lang, strings.Join(knownLanguages, ", ")))
		v.check(len(s) <= MaxLegalText, f, fmt.Sprintf("is longer than %d characters", MaxLegalText))
		v.check(!hasControlChars(s), f, "contains control characters")
		if strings.TrimSpace(s) != "" {
			set = true
		}
	}
	if set {
		v.check(strings.TrimSpace(t["de"]) != "", field+".de", "is required when the text is given in another language")
	}
}

// hasControlChars tells whether s holds control characters other than tab and line breaks.
func hasControlChars(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return true
		}
	}
	return false
}
