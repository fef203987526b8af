package cityadmin

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// The form page's model: sections of inputs and row tables, every label, help text,
// value and error already resolved, so that one generic template renders every rule.
// Labels are "rules.f.<path>" (indices left out), help texts "rules.f.<path>.help",
// options "rules.o.<path>.<value>" of web/i18n/*/rules.json.

// Input is one input of the form.
type Input struct {
	Name    string
	Label   string
	Help    string
	Type    string // number, text, email, tel, checkbox, select
	Value   string
	Checked bool
	Err     string
	Options []view.Option
}

// Table is a row table (a list of records).
type Table struct {
	Name    string
	Label   string
	Help    string
	Err     string
	More    string    // the "more rows" button
	Columns []string  // column headers
	Rows    [][]Input // per row: the inputs, the last the "remove" box
}

// Item is an input or a table of a section.
type Item struct {
	Input *Input
	Table *Table
}

// Section is a group of rules with its heading and help.
type Section struct {
	ID    string
	Title string
	Help  string
	Items []Item
}

// formModel builds the sections of the form from the values typed so far (f.Values)
// and the errors (f.Errors), for rules r (the municipalities, bands and bands' labels
// the form's choices and quota inputs name).
type formModel struct {
	cat  *i18n.Catalogue
	lang string
	f    *view.Form
}

func (m formModel) t(key string, args map[string]any) string { return m.cat.T(m.lang, key, args) }

// help is the help text of key, "" when the catalogue has none.
func (m formModel) help(key string) string {
	if !m.cat.Has(i18n.Default, key+".help") {
		return ""
	}
	return m.t(key+".help", nil)
}

var rowNumber = regexp.MustCompile(`\[\d+\]`)

// label names an input for the error summary: its label, with the row of a table.
func (m formModel) label(name string) string {
	key := labelKey(name)
	if strings.HasPrefix(name, "tickets.quota.") {
		return m.t("rules.f.tickets.quota", map[string]any{"band": strings.TrimPrefix(name, "tickets.quota.")})
	}
	if !m.cat.Has(i18n.Default, key) {
		return name
	}
	l := m.t(key, nil)
	if row := indexed.FindStringSubmatch(name); row != nil && !strings.HasPrefix(name, "criteria.tie_breaks") {
		n, _ := strconv.Atoi(row[2])
		l = fmt.Sprintf("%s – %s (%s)", m.t(labelKey(row[1]), nil), l, m.t("rules.row", map[string]any{"n": n + 1}))
	}
	return l
}

// labelKey is the catalogue key of an input name: indices left out.
func labelKey(name string) string { return "rules.f." + rowNumber.ReplaceAllString(name, "") }

func (m formModel) input(name, typ string, opts ...string) Item {
	in := m.field(name, typ, labelKey(name), opts...)
	in.Help = m.help(labelKey(name))
	return Item{Input: &in}
}

// field is one input; opts are select options: value, then label key, alternating.
func (m formModel) field(name, typ, label string, opts ...string) Input {
	in := Input{Name: name, Label: m.t(label, nil), Type: typ, Value: m.f.Values[name], Err: m.f.Errors[name]}
	in.Checked = typ == "checkbox" && in.Value == on
	for i := 0; i+1 < len(opts); i += 2 {
		in.Options = append(in.Options, view.Option{Value: opts[i], Label: m.t(opts[i+1], nil), Selected: in.Value == opts[i]})
	}
	return in
}

func (m formModel) selectRaw(name, label string, values, labels []string) Input {
	in := Input{Name: name, Label: label, Type: "select", Value: m.f.Values[name], Err: m.f.Errors[name]}
	in.Options = append(in.Options, view.Option{Value: "", Label: m.t("rules.choose", nil), Selected: in.Value == ""})
	for i, v := range values {
		in.Options = append(in.Options, view.Option{Value: v, Label: labels[i], Selected: in.Value == v})
	}
	return in
}

type column struct {
	suffix, typ string
	opts        []string
}

func (m formModel) table(name string, cols []column) Item {
	t := &Table{Name: name, Label: m.t(labelKey(name), nil), Help: m.help(labelKey(name)), Err: m.f.Errors[name],
		More: m.t("rules.more_rows", nil)}
	for _, c := range cols {
		t.Columns = append(t.Columns, m.t(labelKey(name+c.suffix), nil))
	}
	t.Columns = append(t.Columns, m.t("rules.remove", nil))
	n, _ := strconv.Atoi(m.f.Values["rows."+name])
	for i := range min(max(n, 0), maxRows) {
		var row []Input
		for _, c := range cols {
			field := fmt.Sprintf("%s[%d]%s", name, i, c.suffix)
			in := m.field(field, c.typ, labelKey(name+c.suffix), c.opts...)
			in.Label = fmt.Sprintf("%s (%s)", in.Label, m.t("rules.row", map[string]any{"n": i + 1}))
			if c.typ == "select" {
				in.Options = append([]view.Option{{Value: "", Label: m.t("rules.choose", nil), Selected: in.Value == ""}}, in.Options...)
			}
			row = append(row, in)
		}
		rm := m.field(fmt.Sprintf("%s[%d]._remove", name, i), "checkbox", "rules.remove")
		rm.Label = m.t("rules.remove.row", map[string]any{"n": i + 1})
		row = append(row, rm)
		t.Rows = append(t.Rows, row)
	}
	return Item{Table: t}
}

// sections is the whole form.
func (m formModel) sections(r *tenant.Rules) []Section {
	yes := func(name string) Item { return m.input(name, "checkbox") }
	num := func(name string) Item { return m.input(name, "number") }
	text := func(name string) Item { return m.input(name, "text") }
	sec := func(id string, items ...Item) Section {
		return Section{ID: id, Title: m.t("rules.s."+id, nil), Help: m.help("rules.s." + id), Items: items}
	}

	var quota []Item
	seen := map[string]bool{}
	for _, band := range r.AgeBands {
		seen[band.Key] = true
		in := m.field("tickets.quota."+band.Key, "number", "rules.f.tickets.quota")
		in.Label = m.t("rules.f.tickets.quota", map[string]any{"band": band.Label.In(m.lang)})
		quota = append(quota, Item{Input: &in})
	}
	var stray []string // quota of a band no longer listed: shown so it can be cleared
	for k := range m.f.Values {
		if band, ok := strings.CutPrefix(k, "tickets.quota."); ok && band != "" && !seen[band] {
			stray = append(stray, band)
		}
	}
	sort.Strings(stray)
	for _, band := range stray {
		in := m.field("tickets.quota."+band, "number", "rules.f.tickets.quota")
		in.Label = m.t("rules.f.tickets.quota", map[string]any{"band": band})
		quota = append(quota, Item{Input: &in})
	}
	residence := []Item{
		m.input("residence.rule", "select", tenant.ResidentsOnly, "rules.o.residence.rule.residents_only",
			tenant.ResidentsAndTickets, "rules.o.residence.rule.residents_and_tickets", tenant.ResidenceOpen, "rules.o.residence.rule.open"),
		yes("residence.kita_bound_to_municipality"), yes("residence.tagespflege_bound_to_municipality"),
		yes("tickets.enabled"), num("tickets.validity_months"),
	}
	residence = append(residence, quota...)

	var tie []Item
	tieOpts := []string{}
	for _, k := range []string{tenant.TieBreakPoints, tenant.TieBreakSiblings, tenant.TieBreakApplicationDate, tenant.TieBreakBirthDate, tenant.TieBreakLottery} {
		tieOpts = append(tieOpts, k, "rules.o.tie_break."+k)
	}
	for i := range tieBreakSlots {
		in := m.field(fmt.Sprintf("criteria.tie_breaks[%d]", i), "select", "rules.f.criteria.tie_breaks.rank", tieOpts...)
		in.Label = m.t("rules.f.criteria.tie_breaks.rank", map[string]any{"n": i + 1})
		in.Options = append([]view.Option{{Value: "", Label: m.t("rules.none", nil), Selected: in.Value == ""}}, in.Options...)
		if i == 0 {
			in.Help = m.help("rules.f.criteria.tie_breaks")
		}
		tie = append(tie, Item{Input: &in})
	}

	munis := column{suffix: ".municipality", typ: "select"}
	for _, mu := range r.Municipalities {
		munis.opts = append(munis.opts, mu.Key, mu.Name)
	}

	criteria := []Item{m.table("criteria.catalogue", []column{
		{suffix: ".key", typ: "text"}, {suffix: ".label.de", typ: "text"}, {suffix: ".label.en", typ: "text"}, {suffix: ".points", typ: "number"},
		{suffix: ".scope", typ: "select", opts: []string{"global", "rules.o.scope.global", "facility", "rules.o.scope.facility"}},
		{suffix: ".kind", typ: "select", opts: []string{"flag", "rules.o.kind.flag", "text", "rules.o.kind.text"}},
		{suffix: ".evidence", typ: "checkbox"},
	})}
	criteria = append(criteria, tie...)

	districts := m.table("districts", []column{{suffix: ".key", typ: "text"}, {suffix: ".name", typ: "text"}, munis,
		{suffix: ".fachberatung.name", typ: "text"}, {suffix: ".fachberatung.email", typ: "email"}, {suffix: ".fachberatung.phone", typ: "tel"}})
	// (The municipalities' names are no catalogue keys: the catalogue answers them as they are.)

	return []Section{
		sec("registration", num("registration.max_choices"), yes("registration.tagespflege_extra_choice"), yes("registration.tagespflege_by_district"),
			yes("registration.before_birth"), num("registration.max_lead_months"), num("registration.notice_months"),
			num("registration.editable_days_before_start"),
			m.table("registration.windows", []column{{suffix: ".from", typ: "text"}, {suffix: ".until", typ: "text"}})),
		sec("offers", num("offers.lead_months"), num("offers.response_days"), text("offers.reminder_days")),
		sec("residence", residence...),
		sec("allocation", m.input("allocation.mode", "select",
			tenant.ModeDecentral, "rules.o.allocation.mode.decentral", tenant.ModeOneOfferLock, "rules.o.allocation.mode.one_offer_lock",
			tenant.ModeCascade, "rules.o.allocation.mode.cascade", tenant.ModeDeferredAcceptance, "rules.o.allocation.mode.deferred_acceptance"),
			yes("allocation.admin_confirms"), num("allocation.cascade_days"), yes("allocation.facilities_see_other_choices"),
			num("allocation.reservation_days"), yes("allocation.larger_scope"), yes("allocation.auto_follow_up")),
		sec("criteria", criteria...),
		sec("care", text("care_scopes"),
			m.table("age_bands", []column{{suffix: ".key", typ: "text"}, {suffix: ".label.de", typ: "text"}, {suffix: ".label.en", typ: "text"},
				{suffix: ".min_months", typ: "number"}, {suffix: ".max_months", typ: "number"}, {suffix: ".until_school", typ: "checkbox"}, {suffix: ".school_age", typ: "checkbox"}}),
			num("facility_limits.tagespflege_max_places"), num("facility_limits.grosstagespflege_max_places")),
		sec("kita_year", text("kita_year.start"), num("kita_year.school_entry_age"), text("kita_year.school_cutoff")),
		sec("districts", districts),
		sec("languages", text("languages")),
		sec("contract",
			m.table("contract.fees", []column{{suffix: ".band", typ: "text"}, {suffix: ".max_hours", typ: "number"}, {suffix: ".monthly_eur", typ: "text"}}),
			m.table("contract.attachments", []column{{suffix: ".key", typ: "text"}, {suffix: ".title.de", typ: "text"}, {suffix: ".title.en", typ: "text"}}),
			yes("contract.papers_on_site"), yes("contract.reopen_requests")),
	}
}
