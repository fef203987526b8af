package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Real answers of the API, good and bad, match the schemas of the OpenAPI file the API
// serves itself.
func TestAPIAnswersMatchTheOpenAPIFile(t *testing.T) {
	t.Parallel()
	b := setupSeeded(t, "kempten", "herzberg")
	spec := b.get(t, "kempten.localhost", "/api/v1/openapi.json")
	if spec.status != 200 || spec.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("openapi.json: %d %q", spec.status, spec.header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(spec.body))
	if err != nil {
		t.Fatal(err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	list := decode[apiList](t, b.get(t, "kempten.localhost", "/api/v1/facilities?"+householdKey))
	id := list.Items[0].ID
	requests := []struct {
		path   string
		status int
	}{
		{"/api/v1/facilities?" + householdKey + "&plz=87435&type=kita&type=krippe&concept=montessori&care_hours=45", 200},
		{"/api/v1/facilities?" + householdKey + "&address=Nirgendwoweg", 422},
		{"/api/v1/facilities?birth_date=2025-02-31&radius_km=0&type=ufo", 422},
		{"/api/v1/facilities?" + householdKey + "&available_only=1&per_page=5&page=2", 200},
		{"/api/v1/facilities/" + id, 200},
		{"/api/v1/facilities/" + id + "?" + householdKey, 200},
		{"/api/v1/facilities/" + id + "/availability?from=2027-01&to=2027-03", 200},
		{"/api/v1/facilities/" + id + "/availability?from=2040-01", 422},
		{"/api/v1/facilities/00000000-0000-0000-0000-000000000000", 404},
		{"/api/v1/openapi.json", 200},
	}
	ctx := context.Background()
	for _, rq := range requests {
		r := b.get(t, "kempten.localhost", rq.path, "Accept-Language", "en")
		if r.status != rq.status {
			t.Errorf("%s: status %d, want %d", rq.path, r.status, rq.status)
			continue
		}
		req := httptest.NewRequest(http.MethodGet, rq.path, nil)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s: not in openapi.json: %v", rq.path, err)
			continue
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
		if r.status < 400 {
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Errorf("%s: the request does not match the description: %v", rq.path, err)
			}
		}
		err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader([]byte(r.body))),
		})
		if err != nil {
			t.Errorf("%s: the answer does not match the description: %v", rq.path, err)
		}
	}
}
