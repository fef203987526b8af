package cityadmin

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/tenant"
)

// The rules form: every rule of the editor as named inputs whose names are the field
// paths of the validator (registration.max_choices, criteria.catalogue[2].points), so a
// FieldError lands next to its input. Lists of records are row tables (name[i].column)
// with a few empty rows and a "remove" box per row, so rows are added and removed
// without JavaScript; lists of numbers or words are one text input ("7, 3").
//
// Values is the whole form as typed: encode fills it from a version of the rules, the
// browser posts it back, parse turns it into rules on top of the version in force. What
// the form does not show (branding, map, name, state, municipalities) is kept as it is.

// Values is a rules form as text, by input name; "rows.<table>" holds a table's row count.
type Values map[string]string

// on is the value of a ticked checkbox.
const on = "on"

// Row tables of the form and their columns (the validator's sub-paths).
var tables = []struct {
	Name    string
	Columns []string
}{
	{"registration.windows", []string{".from", ".until"}},
	{"criteria.catalogue", []string{".key", ".label.de", ".label.en", ".points", ".scope", ".kind", ".evidence"}},
	{"age_bands", []string{".key", ".label.de", ".label.en", ".min_months", ".max_months", ".until_school", ".school_age"}},
	{"districts", []string{".key", ".name", ".municipality", ".fachberatung.name", ".fachberatung.email", ".fachberatung.phone"}},
	{"contract.fees", []string{".band", ".max_hours", ".monthly_eur"}},
	{"contract.attachments", []string{".key", ".title.de", ".title.en"}},
}

// tieBreakSlots is how many ranked tie-break selects the form has (one per known rule).
const tieBreakSlots = 5

// Limits of the form: more rows than this are refused, blank rows shown after the
// filled ones.
const (
	maxRows   = 200
	blankRows = 2
	moreRows  = 3
)

// labelLangs are the languages the form offers texts in (the catalogues we have).
var labelLangs = []string{"de", "en"}

func b(v bool) string {
	if v {
		return on
	}
	return ""
}

func ints(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

func euro(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// Encode writes r as form values, each table with blankRows empty rows after its own.
func Encode(r *tenant.Rules) Values {
	v := Values{}
	g := r.Registration
	v["registration.max_choices"] = strconv.Itoa(g.MaxChoices)
	v["registration.tagespflege_extra_choice"] = b(g.TagespflegeExtraChoice)
	v["registration.tagespflege_by_district"] = b(g.TagespflegeByDistrict)
	v["registration.before_birth"] = b(g.BeforeBirth)
	v["registration.max_lead_months"] = strconv.Itoa(g.MaxLeadMonths)
	v["registration.notice_months"] = strconv.Itoa(g.NoticeMonths)
	v["registration.editable_days_before_start"] = strconv.Itoa(g.EditableDaysBeforeStart)
	for i, w := range g.Windows {
		p := fmt.Sprintf("registration.windows[%d]", i)
		v[p+".from"], v[p+".until"] = w.From, w.Until
	}
	v.setRows("registration.windows", len(g.Windows)+blankRows)

	v["offers.lead_months"] = strconv.Itoa(r.Offers.LeadMonths)
	v["offers.response_days"] = strconv.Itoa(r.Offers.ResponseDays)
	v["offers.reminder_days"] = ints(r.Offers.ReminderDays)

	v["residence.rule"] = r.Residence.Rule
	v["residence.kita_bound_to_municipality"] = b(r.Residence.KitaBoundToMunicipality)
	v["residence.tagespflege_bound_to_municipality"] = b(r.Residence.TagespflegeBoundToMunicipality)
	v["tickets.enabled"] = b(r.Tickets.Enabled)
	v["tickets.validity_months"] = strconv.Itoa(r.Tickets.ValidityMonths)
	for band, n := range r.Tickets.Quota {
		v["tickets.quota."+band] = strconv.Itoa(n)
	}

	a := r.Allocation
	v["allocation.mode"] = a.Mode
	v["allocation.admin_confirms"] = b(a.AdminConfirms)
	v["allocation.cascade_days"] = strconv.Itoa(a.CascadeDays)
	v["allocation.facilities_see_other_choices"] = b(a.FacilitiesSeeOtherChoices)
	v["allocation.reservation_days"] = strconv.Itoa(a.ReservationDays)
	v["allocation.larger_scope"] = b(a.LargerScope)
	v["allocation.auto_follow_up"] = b(a.AutoFollowUp)

	for i, c := range r.Criteria.Catalogue {
		p := fmt.Sprintf("criteria.catalogue[%d]", i)
		v[p+".key"], v[p+".points"], v[p+".scope"], v[p+".kind"], v[p+".evidence"] = c.Key, strconv.Itoa(c.Points), c.Scope, c.Kind, b(c.Evidence)
		for _, l := range labelLangs {
			v[p+".label."+l] = c.Label[l]
		}
	}
	v.setRows("criteria.catalogue", len(r.Criteria.Catalogue)+blankRows)
	for i, t := range r.Criteria.TieBreaks {
		v[fmt.Sprintf("criteria.tie_breaks[%d]", i)] = t
	}

	v["care_scopes"] = ints(r.CareScopes)
	for i, band := range r.AgeBands {
		p := fmt.Sprintf("age_bands[%d]", i)
		v[p+".key"], v[p+".min_months"], v[p+".until_school"], v[p+".school_age"] = band.Key, strconv.Itoa(band.MinMonths), b(band.UntilSchool), b(band.SchoolAge)
		if !band.UntilSchool {
			v[p+".max_months"] = strconv.Itoa(band.MaxMonths)
		}
		for _, l := range labelLangs {
			v[p+".label."+l] = band.Label[l]
		}
	}
	v.setRows("age_bands", len(r.AgeBands)+blankRows)
	v["facility_limits.tagespflege_max_places"] = strconv.Itoa(r.FacilityLimits.TagespflegeMaxPlaces)
	v["facility_limits.grosstagespflege_max_places"] = strconv.Itoa(r.FacilityLimits.GrosstagespflegeMaxPlaces)

	v["kita_year.start"] = r.KitaYear.Start
	v["kita_year.school_entry_age"] = strconv.Itoa(r.KitaYear.SchoolEntryAge)
	v["kita_year.school_cutoff"] = r.KitaYear.SchoolCutoff

	for i, d := range r.Districts {
		p := fmt.Sprintf("districts[%d]", i)
		v[p+".key"], v[p+".name"], v[p+".municipality"] = d.Key, d.Name, d.Municipality
		v[p+".fachberatung.name"], v[p+".fachberatung.email"], v[p+".fachberatung.phone"] = d.Fachberatung.Name, d.Fachberatung.Email, d.Fachberatung.Phone
	}
	v.setRows("districts", len(r.Districts)+blankRows)

	v["languages"] = strings.Join(r.Languages, ", ")

	for i, f := range r.Contract.Fees {
		p := fmt.Sprintf("contract.fees[%d]", i)
		v[p+".band"], v[p+".max_hours"], v[p+".monthly_eur"] = f.Band, strconv.Itoa(f.MaxHours), euro(f.MonthlyEUR)
	}
	v.setRows("contract.fees", len(r.Contract.Fees)+blankRows)
	for i, a := range r.Contract.Attachments {
		p := fmt.Sprintf("contract.attachments[%d]", i)
		v[p+".key"] = a.Key
		for _, l := range labelLangs {
			v[p+".title."+l] = a.Title[l]
		}
	}
	v.setRows("contract.attachments", len(r.Contract.Attachments)+blankRows)
	v["contract.papers_on_site"] = b(r.Contract.PapersOnSite)
	v["contract.reopen_requests"] = b(r.Contract.ReopenRequests)
	return v
}

func (v Values) setRows(table string, n int) { v["rows."+table] = strconv.Itoa(n) }

// Rows is the row count of table, as rendered (at most maxRows).
func (v Values) Rows(table string) int {
	n, err := strconv.Atoi(v["rows."+table])
	if err != nil || n < 0 {
		return 0
	}
	return min(n, maxRows)
}

// More adds moreRows blank rows to table (the "more rows" button).
func (v Values) More(table string) {
	for _, t := range tables {
		if t.Name == table {
			v.setRows(table, min(v.Rows(table)+moreRows, maxRows))
		}
	}
}

// rowIndex maps each table's rows as parsed (blank and removed rows left out) to the
// form's row numbers, so an error of criteria.catalogue[1] marks the row the admin sees.
type rowIndex map[string][]int

// parser reads the form's values, collecting what is not even well-formed.
type parser struct {
	v    Values
	errs apperr.List
}

func (p *parser) text(name string) string { return strings.TrimSpace(p.v[name]) }

func (p *parser) flag(name string) bool { return p.v[name] == on }

// maxNumber keeps a number within what the validator can judge: anything longer is
// garbage, not a rule.
const maxNumberLen = 9

func (p *parser) int(name string) int {
	s := p.text(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || len(strings.TrimPrefix(s, "-")) > maxNumberLen {
		p.errs = append(p.errs, apperr.Invalid(name, "rules_not_a_number", map[string]any{"value": clip(s)}))
		return 0
	}
	return n
}

func (p *parser) ints(name string) []int {
	out := []int{}
	for _, part := range splitList(p.v[name]) {
		n, err := strconv.Atoi(part)
		if err != nil || len(strings.TrimPrefix(part, "-")) > maxNumberLen {
			p.errs = append(p.errs, apperr.Invalid(name, "rules_not_a_number", map[string]any{"value": clip(part)}))
			continue
		}
		out = append(out, n)
	}
	return out
}

func (p *parser) euro(name string) float64 {
	s := strings.ReplaceAll(p.text(name), ",", ".")
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || len(s) > 12 {
		p.errs = append(p.errs, apperr.Invalid(name, "rules_not_an_amount", map[string]any{"value": clip(p.text(name))}))
		return 0
	}
	return f
}

func (p *parser) texts(prefix string) tenant.Text {
	t := tenant.Text{}
	for _, l := range labelLangs {
		if s := p.text(prefix + "." + l); s != "" {
			t[l] = s
		}
	}
	return t
}

// rows calls fn for each row of table that has anything typed and is not marked for
// removal, and answers the form's row numbers of the rows it kept.
func (p *parser) rows(table string, cols []string, fn func(prefix string)) []int {
	var kept []int
	for i := range p.v.Rows(table) {
		prefix := fmt.Sprintf("%s[%d]", table, i)
		if p.flag(prefix + "._remove") {
			continue
		}
		blank := true
		for _, c := range cols {
			if p.text(prefix+c) != "" {
				blank = false
			}
		}
		if blank {
			continue
		}
		kept = append(kept, i)
		fn(prefix)
	}
	return kept
}

// splitList reads "7, 3" or "7 3" or "7;3".
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

func clip(s string) string {
	if r := []rune(s); len(r) > 20 {
		return string(r[:20]) + "…"
	}
	return s
}

// Parse reads the form into a copy of base: the rules of the form replaced by what was
// typed, everything else (branding, map, municipalities, …) as in base. A value that is
// not even well-formed (letters in a number) is refused here, naming its input; the rest
// is for the validator.
func Parse(v Values, base *tenant.Rules) (*tenant.Rules, rowIndex, error) {
	r := clone(base)
	p := &parser{v: v}
	idx := rowIndex{}
	for _, t := range tables {
		if n, err := strconv.Atoi(v["rows."+t.Name]); err == nil && n > maxRows {
			p.errs = append(p.errs, apperr.Invalid(t.Name, "rules_too_many_rows", map[string]any{"max": maxRows}))
		}
	}

	g := &r.Registration
	g.MaxChoices = p.int("registration.max_choices")
	g.TagespflegeExtraChoice = p.flag("registration.tagespflege_extra_choice")
	g.TagespflegeByDistrict = p.flag("registration.tagespflege_by_district")
	g.BeforeBirth = p.flag("registration.before_birth")
	g.MaxLeadMonths = p.int("registration.max_lead_months")
	g.NoticeMonths = p.int("registration.notice_months")
	g.EditableDaysBeforeStart = p.int("registration.editable_days_before_start")
	g.Windows = []tenant.Window{}
	idx["registration.windows"] = p.rows("registration.windows", tables[0].Columns, func(x string) {
		g.Windows = append(g.Windows, tenant.Window{From: p.text(x + ".from"), Until: p.text(x + ".until")})
	})

	r.Offers.LeadMonths = p.int("offers.lead_months")
	r.Offers.ResponseDays = p.int("offers.response_days")
	r.Offers.ReminderDays = p.ints("offers.reminder_days")

	r.Residence.Rule = p.text("residence.rule")
	r.Residence.KitaBoundToMunicipality = p.flag("residence.kita_bound_to_municipality")
	r.Residence.TagespflegeBoundToMunicipality = p.flag("residence.tagespflege_bound_to_municipality")
	r.Tickets.Enabled = p.flag("tickets.enabled")
	r.Tickets.ValidityMonths = p.int("tickets.validity_months")
	r.Tickets.Quota = nil
	var quotaKeys []string
	for k := range v {
		if strings.HasPrefix(k, "tickets.quota.") && p.text(k) != "" {
			quotaKeys = append(quotaKeys, k)
		}
	}
	sort.Strings(quotaKeys)
	for _, k := range quotaKeys {
		if r.Tickets.Quota == nil {
			r.Tickets.Quota = map[string]int{}
		}
		r.Tickets.Quota[strings.TrimPrefix(k, "tickets.quota.")] = p.int(k)
	}

	a := &r.Allocation
	a.Mode = p.text("allocation.mode")
	a.AdminConfirms = p.flag("allocation.admin_confirms")
	a.CascadeDays = p.int("allocation.cascade_days")
	a.FacilitiesSeeOtherChoices = p.flag("allocation.facilities_see_other_choices")
	a.ReservationDays = p.int("allocation.reservation_days")
	a.LargerScope = p.flag("allocation.larger_scope")
	a.AutoFollowUp = p.flag("allocation.auto_follow_up")

	r.Criteria.Catalogue = []tenant.Criterion{}
	idx["criteria.catalogue"] = p.rows("criteria.catalogue", tables[1].Columns[:6], func(x string) {
		r.Criteria.Catalogue = append(r.Criteria.Catalogue, tenant.Criterion{Key: p.text(x + ".key"), Label: p.texts(x + ".label"),
			Points: p.int(x + ".points"), Scope: p.text(x + ".scope"), Kind: p.text(x + ".kind"), Evidence: p.flag(x + ".evidence")})
	})
	r.Criteria.TieBreaks = []string{}
	var tb []int
	for i := range tieBreakSlots {
		if s := p.text(fmt.Sprintf("criteria.tie_breaks[%d]", i)); s != "" {
			r.Criteria.TieBreaks = append(r.Criteria.TieBreaks, s)
			tb = append(tb, i)
		}
	}
	idx["criteria.tie_breaks"] = tb

	r.CareScopes = p.ints("care_scopes")
	r.AgeBands = []tenant.AgeBand{}
	idx["age_bands"] = p.rows("age_bands", tables[2].Columns[:5], func(x string) {
		band := tenant.AgeBand{Key: p.text(x + ".key"), Label: p.texts(x + ".label"), MinMonths: p.int(x + ".min_months"),
			UntilSchool: p.flag(x + ".until_school"), SchoolAge: p.flag(x + ".school_age")}
		band.MaxMonths = p.int(x + ".max_months")
		r.AgeBands = append(r.AgeBands, band)
	})
	r.FacilityLimits.TagespflegeMaxPlaces = p.int("facility_limits.tagespflege_max_places")
	r.FacilityLimits.GrosstagespflegeMaxPlaces = p.int("facility_limits.grosstagespflege_max_places")

	r.KitaYear.Start = p.text("kita_year.start")
	r.KitaYear.SchoolEntryAge = p.int("kita_year.school_entry_age")
	r.KitaYear.SchoolCutoff = p.text("kita_year.school_cutoff")

	r.Districts = []tenant.District{}
	idx["districts"] = p.rows("districts", tables[3].Columns, func(x string) {
		r.Districts = append(r.Districts, tenant.District{Key: p.text(x + ".key"), Name: p.text(x + ".name"), Municipality: p.text(x + ".municipality"),
			Fachberatung: tenant.Contact{Name: p.text(x + ".fachberatung.name"), Email: p.text(x + ".fachberatung.email"), Phone: p.text(x + ".fachberatung.phone")}})
	})

	r.Languages = splitList(v["languages"])

	r.Contract.Fees = []tenant.Fee{}
	idx["contract.fees"] = p.rows("contract.fees", tables[4].Columns, func(x string) {
		r.Contract.Fees = append(r.Contract.Fees, tenant.Fee{Band: p.text(x + ".band"), MaxHours: p.int(x + ".max_hours"), MonthlyEUR: p.euro(x + ".monthly_eur")})
	})
	r.Contract.Attachments = []tenant.Attachment{}
	idx["contract.attachments"] = p.rows("contract.attachments", tables[5].Columns, func(x string) {
		r.Contract.Attachments = append(r.Contract.Attachments, tenant.Attachment{Key: p.text(x + ".key"), Title: p.texts(x + ".title")})
	})
	r.Contract.PapersOnSite = p.flag("contract.papers_on_site")
	r.Contract.ReopenRequests = p.flag("contract.reopen_requests")
	normalize(r)
	return r, idx, p.errs.Err()
}

// normalize gives empty lists the shape the files have (nil), so that an unchanged form
// gives rules equal to the version it came from.
func normalize(r *tenant.Rules) {
	if len(r.Registration.Windows) == 0 {
		r.Registration.Windows = nil
	}
	if len(r.Offers.ReminderDays) == 0 {
		r.Offers.ReminderDays = nil
	}
	if len(r.Criteria.Catalogue) == 0 {
		r.Criteria.Catalogue = nil
	}
	if len(r.Criteria.TieBreaks) == 0 {
		r.Criteria.TieBreaks = nil
	}
	if len(r.CareScopes) == 0 {
		r.CareScopes = nil
	}
	if len(r.AgeBands) == 0 {
		r.AgeBands = nil
	}
	if len(r.Districts) == 0 {
		r.Districts = nil
	}
	if len(r.Languages) == 0 {
		r.Languages = nil
	}
	if len(r.Contract.Fees) == 0 {
		r.Contract.Fees = nil
	}
	if len(r.Contract.Attachments) == 0 {
		r.Contract.Attachments = nil
	}
}

// editorFields are the prefixes of the field paths the form shows; a problem elsewhere
// (a branding or map field of the version in force) is shown above the form.
var editorFields = []string{"registration.", "offers.", "residence.", "tickets.", "allocation.", "criteria.", "care_scopes",
	"age_bands", "facility_limits.", "kita_year.", "districts", "languages", "contract."}

var indexed = regexp.MustCompile(`^([a-z_.]+)\[(\d+)\](.*)$`)

// FormField is the input of the form that field (a validator path of the parsed rules)
// belongs to, "" when the form does not show it.
func (idx rowIndex) FormField(field string) string {
	if !slices.ContainsFunc(editorFields, func(p string) bool { return strings.HasPrefix(field, p) }) {
		return ""
	}
	m := indexed.FindStringSubmatch(field)
	if m == nil {
		return field
	}
	list, rest := m[1], m[3]
	i, _ := strconv.Atoi(m[2])
	switch list {
	case "offers.reminder_days", "care_scopes", "languages":
		return list // one text input for the whole list
	}
	rows, ok := idx[list]
	if !ok || i >= len(rows) {
		return list
	}
	if rest == "" && list != "criteria.tie_breaks" {
		rest = ".key" // the row itself: mark its first input
	}
	return fmt.Sprintf("%s[%d]%s", list, rows[i], rest)
}
