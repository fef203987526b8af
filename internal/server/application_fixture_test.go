package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/platform/clock"
	"kitaportal/internal/tenant"
)

// Fixtures of the pre-registration scenarios: facilities with groups, the city's
// postcodes, and parents who have entered their family and a child.

// setupApplications is the router on the fixed test day (2026-11-21).
func setupApplications(t *testing.T) *bundle {
	t.Helper()
	return setupWith(t, nil, clock.NewManual(testNow))
}

// place is a postcode of a city with its municipality.
func (b *bundle) place(t testing.TB, tn *tenant.Tenant, plz, municipality string) {
	t.Helper()
	b.exec(`INSERT INTO postcode (tenant_id, plz, municipality_key, place, lat, lon) VALUES (?, ?, ?, ?, 51, 10) ON CONFLICT DO NOTHING`,
		tn.ID, plz, municipality, municipality)
}

// facility creates a facility of tn with one group per band (each up to 45 hours, or
// 50 where the city books that long).
func (b *bundle) facility(t testing.TB, tn *tenant.Tenant, name, typ, municipality, district string, bands ...string) uuid.UUID {
	t.Helper()
	provider, id := uuid.New(), uuid.New()
	b.exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, ?, 'welfare')`, tn.ID, provider, "Träger von "+name)
	var d *string
	if district != "" {
		d = &district
	}
	b.exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, district_key,
		lat, lon, age_min_months, age_max_months) VALUES (?, ?, ?, ?, ?, 'Gartenweg', '3', '00000', 'Teststadt', ?, ?, 51, 10, 0, 144)`,
		tn.ID, id, provider, typ, name, municipality, d)
	hours := tn.Rules.CareScopes[len(tn.Rules.CareScopes)-1]
	for _, band := range bands {
		b.exec(`INSERT INTO facility_group (tenant_id, facility_id, name, age_band, care_hours) VALUES (?, ?, ?, ?, ?)`,
			tn.ID, id, "Gruppe "+band, band, hours)
	}
	return id
}

// family is a signed-in parent (API) with a family at plz and one child born on birth.
type family struct {
	api   *api
	email string
	child string
}

func (b *bundle) family(t *testing.T, slug, email, plz, birth string) *family {
	t.Helper()
	b.parent(t, slug, email)
	a := b.api(slug + ".localhost")
	a.login(t, email)
	status, body := a.call(t, "PUT", "/api/v1/family", map[string]any{
		"address":   map[string]string{"street": "Lindenstraße", "house_number": "4a", "plz": plz, "city": "Teststadt"},
		"guardians": []map[string]string{{"first_name": "Pia", "last_name": "Parent", "email": email}},
	})
	if status != 200 {
		t.Fatalf("family: %d %v", status, body)
	}
	status, body = a.call(t, "POST", "/api/v1/children", map[string]any{"first_name": "Mia", "last_name": "Parent", "birth_date": birth})
	if status != 201 {
		t.Fatalf("child: %d %v", status, body)
	}
	return &family{api: a, email: email, child: body["id"].(string)}
}

// request is the body of an application.
func request(child, start string, hours int, choices ...uuid.UUID) map[string]any {
	cs := []map[string]string{}
	for _, c := range choices {
		cs = append(cs, map[string]string{"facility_id": c.String()})
	}
	return map[string]any{"child_id": child, "start_date": start, "care_hours": hours, "choices": cs}
}

// file creates and submits an application, failing the test when either step fails.
func (f *family) file(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	status, draft := f.api.call(t, "POST", "/api/v1/applications", body)
	if status != 201 {
		t.Fatalf("create: %d %v", status, draft)
	}
	status, sub := f.api.call(t, "POST", "/api/v1/applications/"+draft["id"].(string)+"/submit", nil)
	if status != 200 || sub["status"] != "submitted" {
		t.Fatalf("submit: %d %v", status, sub)
	}
	return sub
}

// fieldErrors lists field:code of a validation answer.
func fieldErrors(body map[string]any) []string {
	e, _ := body["error"].(map[string]any)
	d, _ := e["details"].(map[string]any)
	list, _ := d["errors"].([]any)
	var out []string
	for _, it := range list {
		m := it.(map[string]any)
		out = append(out, m["field"].(string)+":"+m["code"].(string))
	}
	if len(out) == 0 && e != nil {
		f, _ := e["field"].(string)
		c, _ := e["code"].(string)
		out = append(out, f+":"+c)
	}
	return out
}

// messageOf finds the message of field in a validation answer.
func messageOf(body map[string]any, field string) string {
	e, _ := body["error"].(map[string]any)
	d, _ := e["details"].(map[string]any)
	list, _ := d["errors"].([]any)
	for _, it := range list {
		m := it.(map[string]any)
		if m["field"] == field {
			return m["message"].(string)
		}
	}
	if e["field"] == field {
		return e["message"].(string)
	}
	return ""
}

// count runs a count query.
func (b *bundle) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := b.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func has(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

func jsonString(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
