package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"kitaportal/internal/authz"
	"kitaportal/internal/platform/clock"
)

// Real answers of the provider portal's API, good and bad, match the OpenAPI file.
func TestProviderAPIAnswersMatchTheOpenAPIFile(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil, clock.NewManual(testNow))
	k := b.city(t, "kempten")
	b.exec(`INSERT INTO postcode (tenant_id, plz, municipality_key, place, lat, lon) VALUES (?, '87435', 'kempten', 'Kempten (Allgäu)', 47.733, 10.31)`, k.t.ID)
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, [16]byte{}, "")
	a := b.api("kempten.localhost")
	a.lang = "en"
	a.staffLogin(t, admin)

	doc, err := openapi3.NewLoader().LoadFromData([]byte(b.get(t, "kempten.localhost", "/api/v1/openapi.json").body))
	if err != nil {
		t.Fatal(err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	facility := "/api/v1/staff/facilities/" + k.facilities[0].String()
	check := func(method, path, ctype, body string, want int) map[string]any {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Host = "kempten.localhost"
		req.Header.Set("Authorization", "Bearer "+a.token)
		req.Header.Set("Accept-Language", "en")
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res := b.do(t, req)
		if res.status != want {
			t.Errorf("%s %s: %d, want %d\n%.500s", method, path, res.status, want, res.body)
			return nil
		}
		spec := httptest.NewRequest(method, path, strings.NewReader(body))
		if ctype != "" {
			spec.Header.Set("Content-Type", ctype)
		}
		route, params, err := router.FindRoute(spec)
		if err != nil {
			t.Errorf("%s %s: not in openapi.json: %v", method, path, err)
			return nil
		}
		in := &openapi3filter.RequestValidationInput{Request: spec, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if want < 400 {
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Errorf("%s %s: the request does not match the description: %v", method, path, err)
			}
		}
		err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.status,
			Header: http.Header{"Content-Type": {res.header.Get("Content-Type")}}, Body: io.NopCloser(bytes.NewReader([]byte(res.body)))})
		if err != nil {
			t.Errorf("%s %s: the answer does not match the description: %v", method, path, err)
		}
		out := map[string]any{}
		_ = json.Unmarshal([]byte(res.body), &out)
		return out
	}
	jsonBody := func(v any) string {
		raw, _ := json.Marshal(v)
		return string(raw)
	}
	const js = "application/json"

	check("GET", facility+"/profile", "", "", 200)
	check("PUT", facility+"/profile", js, jsonBody(map[string]any{"name": "Kita A", "age_min_months": 0, "age_max_months": 72,
		"opening_hours": map[string]any{"mon": [][]string{{"07:00", "17:00"}}}}), 200)
	check("PUT", facility+"/profile", js, jsonBody(map[string]any{"name": "", "age_min_months": 0, "age_max_months": 72}), 422)
	group := map[string]any{"name": "Füchse", "age_band": "krippe", "care_hours": 45, "periods": []map[string]any{{"valid_from": "2027-01-01", "places": 12}}}
	created := check("POST", facility+"/groups", js, jsonBody(group), 201)
	check("GET", facility+"/groups", "", "", 200)
	if id, _ := created["id"].(string); id != "" {
		group["periods"] = []map[string]any{{"valid_from": "2027-01-01", "valid_until": "2027-08-01", "places": 12}, {"valid_from": "2027-08-01", "places": 14}}
		check("PUT", facility+"/groups/"+id, js, jsonBody(group), 200)
	}
	check("GET", facility+"/occupancy", "", "", 200)
	check("GET", "/api/v1/staff/occupancy", "", "", 200)
	contract := check("POST", "/api/v1/staff/contracts", js, jsonBody(map[string]any{"facility_id": k.facilities[0].String(),
		"child_first_name": "Lea", "child_last_name": "Vogt", "child_birth_date": "2025-05-05", "guardian_first_name": "Ute",
		"guardian_last_name": "Vogt", "care_hours": 35, "start_date": "2027-02-01"}), 201)
	check("POST", "/api/v1/staff/contracts", js, jsonBody(map[string]any{"facility_id": k.facilities[0].String(), "care_hours": 35}), 422)
	check("GET", "/api/v1/staff/contracts?facility="+k.facilities[0].String()+"&show=all", "", "", 200)
	if id, _ := contract["id"].(string); id != "" {
		check("GET", "/api/v1/staff/contracts/"+id, "", "", 200)
		check("POST", "/api/v1/staff/contracts/"+id+"/scope", js, jsonBody(map[string]any{"care_hours": 45, "from": "2027-03-01"}), 200)
		check("POST", "/api/v1/staff/contracts/"+id+"/terminate", js, jsonBody(map[string]any{"end_date": "2027-05-01"}), 422) // after its end
		check("POST", "/api/v1/staff/contracts/"+id+"/terminate", js, jsonBody(map[string]any{"end_date": "2027-02-15"}), 200)
		check("POST", "/api/v1/staff/contracts/"+id+"/cancel", "", "", 200)
		check("POST", "/api/v1/staff/contracts/"+id+"/terminate", js, jsonBody(map[string]any{"end_date": "2027-05-01"}), 409)
	}
	check("POST", "/api/v1/staff/contracts/import?facility="+k.facilities[0].String()+"&dry_run=true", "text/csv",
		"child_first_name;child_last_name;child_birth_date;guardian_first_name;guardian_last_name;care_hours;start_date\nMax;Mut;2025-01-01;Eva;Mut;35;2027-04-01\n", 200)
	check("POST", "/api/v1/staff/facilities/import?dry_run=true", "text/csv", "name;type\nKita X;ufo\n", 422)
	check("POST", "/api/v1/staff/tagespflege", js, jsonBody(map[string]any{"type": "tagespflege", "name": "Tagespflege Kuckuck",
		"person": "Ina Kuckuck", "street": "Weg", "house_number": "2", "plz": "87435", "district": k.district, "age_min_months": 0,
		"age_max_months": 36, "care_hours": 35, "places": 5, "valid_from": "2027-01-01"}), 201)
	check("GET", "/api/v1/staff/contracts/00000000-0000-0000-0000-000000000000", "", "", 404)
}
