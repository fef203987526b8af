package tenant_test

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"kitaportal/internal/tenant"
)

func TestSeedCityFilesAreValid(t *testing.T) {
	t.Parallel()
	loaded, err := tenant.LoadDir(os.DirFS("../../tenants"), "tenants")
	if err != nil {
		t.Fatalf("seed city files must load cleanly: %v", err)
	}
	want := map[string]int{"herzberg": 3, "leipzig": 5, "kempten": 3, "bochum": 5, "lueneburg": 5}
	if len(loaded) != len(want) {
		t.Fatalf("loaded %d tenants, want %d", len(loaded), len(want))
	}
	for _, lr := range loaded {
		if got := lr.Rules.Registration.MaxChoices; got != want[lr.Rules.Slug] {
			t.Errorf("%s: max_choices = %d, want %d", lr.Rules.Slug, got, want[lr.Rules.Slug])
		}
		if lr.Rules.Branding.LogoSVG == "" {
			t.Errorf("%s: logo not loaded", lr.Rules.Slug)
		}
		if len(lr.Checksum) != 64 {
			t.Errorf("%s: checksum %q", lr.Rules.Slug, lr.Checksum)
		}
	}
	// Facts from the seeds that the rules must carry.
	byslug := map[string]*tenant.Rules{}
	for _, lr := range loaded {
		byslug[lr.Rules.Slug] = lr.Rules
	}
	if r := byslug["kempten"]; r.Registration.MaxLeadMonths != 36 || r.Offers.LeadMonths != 6 || r.Allocation.Mode != tenant.ModeOneOfferLock {
		t.Errorf("kempten: lead %d, offers %d, mode %s", r.Registration.MaxLeadMonths, r.Offers.LeadMonths, r.Allocation.Mode)
	}
	if r := byslug["bochum"]; !r.Registration.TagespflegeExtraChoice || r.Allocation.Mode != tenant.ModeDeferredAcceptance || len(r.Districts) != 6 {
		t.Errorf("bochum: tagespflege extra %v, mode %s, districts %d", r.Registration.TagespflegeExtraChoice, r.Allocation.Mode, len(r.Districts))
	}
	if r := byslug["leipzig"]; r.Residence.Rule != tenant.ResidentsAndTickets || !r.Tickets.Enabled || r.Registration.BeforeBirth {
		t.Errorf("leipzig: residence %s tickets %v before birth %v", r.Residence.Rule, r.Tickets.Enabled, r.Registration.BeforeBirth)
	}
	// Kempten's fee table: the smallest scope row that covers the hours.
	for _, c := range []struct {
		band  string
		hours int
		cents int
		ok    bool
	}{{"krippe", 20, 21000, true}, {"krippe", 33, 28500, true}, {"krippe", 45, 33500, true}, {"krippe", 50, 0, false}, {"schule", 20, 0, false}} {
		if cents, ok := byslug["kempten"].Fee(c.band, c.hours); cents != c.cents || ok != c.ok {
			t.Errorf("kempten fee %s %dh = %d %v, want %d %v", c.band, c.hours, cents, ok, c.cents, c.ok)
		}
	}
	for slug, r := range byslug {
		if want := map[string]int{"leipzig": 5}[slug]; r.Allocation.ReservationDays != want {
			t.Errorf("%s: reservation days %d, want %d", slug, r.Allocation.ReservationDays, want)
		}
	}
	if r := byslug["herzberg"]; !r.Contract.PapersOnSite || len(r.Contract.Attachments) == 0 {
		t.Errorf("herzberg: papers on site %v, %d attachments", r.Contract.PapersOnSite, len(r.Contract.Attachments))
	}
	if r := byslug["lueneburg"]; !r.Residence.KitaBoundToMunicipality || r.Residence.TagespflegeBoundToMunicipality || r.Allocation.CascadeDays != 14 {
		t.Errorf("lueneburg: binding kita %v tagespflege %v cascade %d", r.Residence.KitaBoundToMunicipality, r.Residence.TagespflegeBoundToMunicipality, r.Allocation.CascadeDays)
	}
}

// brokenCase mutates the valid kempten.yaml and expects every listed fragment in the error.
type brokenCase struct {
	name   string
	mutate func(string) string
	want   []string
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test fixture: " + old + " not in kempten.yaml")
		}
		return strings.Replace(s, old, new, 1)
	}
}

func TestBrokenTenantFilesAreRefusedWithFileFieldAndReason(t *testing.T) {
	t.Parallel()
	valid, err := os.ReadFile("../../tenants/kempten.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logo, err := os.ReadFile("../../tenants/logos/kempten.svg")
	if err != nil {
		t.Fatal(err)
	}
	cases := []brokenCase{
		{"empty file", func(string) string { return "" }, []string{"file is empty"}},
		{"not YAML", func(string) string { return "slug: [kempten\n  name: x" }, []string{"not valid YAML"}},
		{"unknown field", replace("  max_choices: 3", "  max_choices: 3\n  max_choice: 4"), []string{`unknown field "max_choice"`, "line "}},
		{"wrong type", replace("max_choices: 3", "max_choices: drei"), []string{`"drei" must be a whole number`}},
		{"two documents", func(s string) string { return s + "\n---\nslug: other\n" }, []string{"more than one YAML document"}},
		{"slug differs from file name", replace("slug: kempten", "slug: kemptn"), []string{"slug:", "must match"}},
		{"zero choices", replace("max_choices: 3", "max_choices: 0"), []string{"registration.max_choices: must be from 1 to 10 (got 0)"}},
		{"retention beyond ten years", replace("unplaced_request_months: 12", "unplaced_request_months: 121"), []string{"retention.unplaced_request_months: must be 0 (not swept) or from 1 to 120"}},
		{"mail kept less than a week", replace("mail_days: 365", "mail_days: 3"), []string{"retention.mail_days: must be 0 (not swept) or from 7 to 3650"}},
		{"negative session days", replace("session_days: 30", "session_days: -1"), []string{"retention.session_days"}},
		{"notice beyond lead", replace("notice_months: 3 ", "notice_months: 40 "), []string{"registration.notice_months"}},
		{"unknown state", replace("state: BY", "state: XX"), []string{"state: must be a Land code"}},
		{"German missing", replace("languages: [de, en]", "languages: [en]"), []string{"languages: must start with de"}},
		{"language without catalogue", replace("languages: [de, en]", "languages: [de, fr]"), []string{`languages[1]: "fr" has no message catalogue`}},
		{"colour not hex", replace(`primary_color: "#8a1c2b"`, `primary_color: "red"`), []string{"branding.primary_color: must be a colour"}},
		{"colour too light for white text", replace(`primary_color: "#8a1c2b"`, `primary_color: "#f4d35e"`), []string{"branding.primary_color: is too light", "4.5:1"}},
		{"logo missing", replace("logo: kempten.svg", "logo: nowhere.svg"), []string{"branding.logo: logo file"}},
		{"bad kita year start", replace(`start: "09-01"`, `start: "02-30"`), []string{"kita_year.start: must be a day of the year"}},
		{"unknown allocation mode", replace("mode: one_offer_lock", "mode: first_come"), []string{"allocation.mode: must be one of"}},
		{"lottery not last", replace("tie_breaks: [points, birth_date, application_date]", "tie_breaks: [lottery, points]"), []string{"criteria.tie_breaks[0]: lottery must come last"}},
		{"tie-breaks can tie", replace("tie_breaks: [points, birth_date, application_date]", "tie_breaks: [points, birth_date]"), []string{"criteria.tie_breaks: must end with application_date or lottery"}},
		{"care scopes not ascending", replace("care_scopes: [20, 25, 30, 35, 40, 45]", "care_scopes: [20, 45, 30]"), []string{"care_scopes[2]: care scopes must be ascending"}},
		{"reminder after deadline", replace("reminder_days: [7, 3]", "reminder_days: [30]"), []string{"offers.reminder_days[0]"}},
		{"district in unknown municipality", replace("{key: nord, name: Kempten-Nord, municipality: kempten", "{key: nord, name: Kempten-Nord, municipality: ulm"), []string{`districts[0].municipality: "ulm" is not one of the municipalities`}},
		{"duplicate district", replace("{key: ost, name: Kempten-Ost", "{key: nord, name: Kempten-Ost"), []string{`districts[1].key: "nord" is used twice`}},
		{"tickets quota without tickets", replace("tickets:\n  enabled: false", "tickets:\n  enabled: false\n  quota: {krippe: 3}"), []string{"tickets.quota: is only allowed when tickets are enabled"}},
		{"residents and tickets without tickets", replace("rule: residents_only", "rule: residents_and_tickets"), []string{"tickets.enabled: must be true"}},
		{"criterion label without German", replace(`de: "Alleinerziehend"`, `fr: "Alleinerziehend"`), []string{"criteria.catalogue[2].label.de: a German text is required"}},
		{"facility criterion with a reason text", replace("scope: facility\n      kind: flag", "scope: facility\n      kind: text"), []string{"criteria.catalogue[0].kind: a facility criterion must be a flag"}},
		{"fee of an unknown band", replace("{band: krippe, max_hours: 20,", "{band: wiege, max_hours: 20,"), []string{`contract.fees[0].band: "wiege" is not an age band`}},
		{"fees not covering the longest scope", replace("{band: hort, max_hours: 45, monthly_eur: 120.00}", "{band: hort, max_hours: 30, monthly_eur: 120.00}"), []string{`band "hort" has no fee up to 45 hours`}},
		{"negative fee", replace("monthly_eur: 210.00", "monthly_eur: -5"), []string{"contract.fees[0].monthly_eur: must be from 0"}},
		{"attachment without English title", replace(`title: {de: "Hausordnung der Einrichtung", en: "House rules of the facility"}`, `title: {de: "Hausordnung der Einrichtung"}`), []string{"contract.attachments[0].title.en: is required"}},
		{"attachment twice", replace("- key: fotos", "- key: hausordnung"), []string{`contract.attachments[1].key: "hausordnung" is listed twice`}},
		{"fee rows not ascending", replace("{band: krippe, max_hours: 25, monthly_eur: 235.00}", "{band: krippe, max_hours: 15, monthly_eur: 235.00}"), []string{"contract.fees[1].max_hours: must be above the band's previous row (20 hours)"}},
		{"fee in fractions of a cent", replace("monthly_eur: 210.00", "monthly_eur: 210.005"), []string{"contract.fees[0].monthly_eur: must have at most two decimals"}},
		{"fee of 10000 euros", replace("monthly_eur: 210.00", "monthly_eur: 10000"), []string{"contract.fees[0].monthly_eur: must be from 0 to less than 10000"}},
		{"reservations outside decentral mode", replace("mode: one_offer_lock", "mode: one_offer_lock\n  reservation_days: 5"), []string{"allocation.reservation_days: is only used in decentral mode"}},
		{"reservation days beyond 60", replace("mode: one_offer_lock", "mode: decentral\n  reservation_days: 61"), []string{"allocation.reservation_days: must be from 0 to 60 (got 61)"}},
		{"larger scope outside central mode", replace("mode: one_offer_lock", "mode: one_offer_lock\n  larger_scope: true"), []string{"allocation.larger_scope: is only used in deferred_acceptance mode"}},
		{"follow-up outside central mode", replace("mode: one_offer_lock", "mode: cascade\n  cascade_days: 14\n  auto_follow_up: true"), []string{"allocation.auto_follow_up: is only used in deferred_acceptance mode"}},
		{"age band overlap order", replace("min_months: 36\n    until_school: true", "min_months: 36\n    max_months: 20"), []string{"age_bands[1].max_months"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{
				"kempten.yaml":      {Data: []byte(tc.mutate(string(valid)))},
				"logos/kempten.svg": {Data: logo},
			}
			_, err := tenant.LoadFile(fsys, "kempten.yaml", "tenants/kempten.yaml")
			if err == nil {
				t.Fatal("a broken file was accepted")
			}
			msg := err.Error()
			for _, line := range strings.Split(msg, "\n") {
				if !strings.HasPrefix(line, "tenants/kempten.yaml: ") {
					t.Errorf("error line does not name the file: %q", line)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestHostileLogosAreRefused(t *testing.T) {
	t.Parallel()
	valid, err := os.ReadFile("../../tenants/kempten.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logos := map[string]string{
		"script":        `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		"event handler": `<svg xmlns="http://www.w3.org/2000/svg"><rect onload="alert(1)"/></svg>`,
		"external href": `<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>`,
		"entity":        `<svg><!ENTITY x "y"></svg>`,
		"not svg":       `<html><body>hello</body></html>`,
		"too large":     `<svg>` + strings.Repeat(" ", 70<<10) + `</svg>`,
	}
	for name, svg := range logos {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{"kempten.yaml": {Data: valid}, "logos/kempten.svg": {Data: []byte(svg)}}
			_, err := tenant.LoadFile(fsys, "kempten.yaml", "tenants/kempten.yaml")
			if err == nil || !strings.Contains(err.Error(), "branding.logo") {
				t.Fatalf("hostile logo accepted or wrong error: %v", err)
			}
		})
	}
}

func TestLoadDirKeepsGoodFilesAndReportsBrokenOnes(t *testing.T) {
	t.Parallel()
	valid, _ := os.ReadFile("../../tenants/kempten.yaml")
	logo, _ := os.ReadFile("../../tenants/logos/kempten.svg")
	fsys := fstest.MapFS{
		"kempten.yaml":      {Data: valid},
		"logos/kempten.svg": {Data: logo},
		"broken.yaml":       {Data: []byte("slug: broken\nname: x\n")},
	}
	loaded, err := tenant.LoadDir(fsys, "tenants")
	if len(loaded) != 1 || loaded[0].Rules.Slug != "kempten" {
		t.Fatalf("good file not loaded: %v", loaded)
	}
	if err == nil || !strings.Contains(err.Error(), "tenants/broken.yaml: ") {
		t.Fatalf("broken file not reported with its name: %v", err)
	}
}

func TestCanonicalChecksumIsStable(t *testing.T) {
	t.Parallel()
	a, err := tenant.LoadDir(os.DirFS("../../tenants"), "tenants")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := tenant.LoadDir(os.DirFS("../../tenants"), "tenants")
	for i := range a {
		if a[i].Checksum != b[i].Checksum {
			t.Errorf("%s: checksum differs between two loads", a[i].Rules.Slug)
		}
	}
}
