package search

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// rulesOf loads a real rules file of the repository, so the tests follow the cities.
func rulesOf(t *testing.T, slug string) *tenant.Rules {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "tenants")
	lr, err := tenant.LoadFile(os.DirFS(dir), slug+".yaml", slug+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return lr.Rules
}

var (
	today     = date.MustParse("2026-11-21")
	lastMonth = date.MustParse("2028-11-01")
)

func parse(t *testing.T, r *tenant.Rules, query string) (Query, error) {
	t.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(v, r, today, lastMonth)
}

func TestParseAGoodSearch(t *testing.T) {
	t.Parallel()
	bochum := rulesOf(t, "bochum")
	q, err := parse(t, bochum, "birth_date=2025-03-14&start_date=2027-08-01&plz=44787&radius_km=2,5"+
		"&type=kita&type=krippe,kita&concept=montessori&opens_by=7:00&closes_after=17:00&care_hours=35"+
		"&available_only=1&barrier_free=on&page=2&per_page=50")
	if err != nil {
		t.Fatal(err)
	}
	if q.Band.Key != "krippe" || q.AgeMonths != 28 || q.Scope != 35 || q.CareHours != 35 {
		t.Errorf("child: band %s, %d months, scope %d", q.Band.Key, q.AgeMonths, q.Scope)
	}
	if q.RadiusKm != 2.5 || q.PLZ != "44787" || q.OpensBy != "07:00" || q.ClosesAfter != "17:00" {
		t.Errorf("place and hours: %+v", q)
	}
	if !slices.Equal(q.Types, []string{"kita", "krippe"}) || !slices.Equal(q.Concepts, []string{"montessori"}) {
		t.Errorf("types %v concepts %v", q.Types, q.Concepts)
	}
	if !q.AvailableOnly || !q.BarrierFree || q.Lunch || q.Page != 2 || q.PerPage != 50 || q.Offset() != 50 {
		t.Errorf("flags and paging: %+v", q)
	}
	if q.StartedEarlier() || !q.From.Equal(q.Start) || q.Month().String() != "2027-08-01" {
		t.Errorf("start %s from %s month %s", q.Start, q.From, q.Month())
	}
	// The URL written back reads the same.
	again, err := Parse(q.Values(), bochum, today, lastMonth)
	if err != nil || again.Birth != q.Birth || again.RadiusKm != q.RadiusKm || !slices.Equal(again.Types, q.Types) || again.AvailableOnly != q.AvailableOnly {
		t.Errorf("round trip: %v %+v", err, again)
	}
}

func TestParseDefaultsAndEdges(t *testing.T) {
	t.Parallel()
	kempten := rulesOf(t, "kempten")
	q, err := parse(t, kempten, "birth_date=14.03.2025&start_date=1.8.2026")
	if err != nil {
		t.Fatal(err)
	}
	// German dates are understood; a start in the past means: from today.
	if q.Birth.String() != "2025-03-14" || q.Start.String() != "2026-08-01" || !q.From.Equal(today) || !q.StartedEarlier() {
		t.Errorf("dates: %s %s from %s", q.Birth, q.Start, q.From)
	}
	if q.RadiusKm != kempten.Map.DefaultRadiusKm || q.Scope != kempten.CareScopes[0] || q.CareHours != 0 || q.Page != 1 || q.PerPage != DefaultPerPage {
		t.Errorf("defaults: %+v", q)
	}
	if q.HasPlace() {
		t.Error("no place given: the whole city")
	}
	// Born on the day of the search: a Krippe child (Kempten's Krippe starts at 0 months).
	if q, err := parse(t, kempten, "birth_date=2026-11-21&start_date=2026-11-21"); err != nil || q.Band.Key != "krippe" {
		t.Errorf("newborn: %v %+v", err, q.Band)
	}
	// School child in Kempten (Bavaria): Hort.
	if q, err := parse(t, kempten, "birth_date=2019-05-01&start_date=2027-01-01"); err != nil || q.Band.Key != "hort" {
		t.Errorf("school child: %v %+v", err, q.Band)
	}
}

func TestParseRefusesBadInput(t *testing.T) {
	t.Parallel()
	bochum := rulesOf(t, "bochum")
	child := "birth_date=2025-03-14&start_date=2027-08-01"
	tests := []struct {
		name, query, field, code string
	}{
		{"31 February", "birth_date=2025-02-31&start_date=2027-08-01", "birth_date", "invalid_date"},
		{"31.02. in German", "birth_date=31.02.2025&start_date=2027-08-01", "birth_date", "invalid_date"},
		{"no birth date", "start_date=2027-08-01", "birth_date", "required"},
		{"no start", "birth_date=2025-03-14", "start_date", "required"},
		{"garbage date", "birth_date=gestern&start_date=2027-08-01", "birth_date", "invalid_date"},
		{"start before birth", "birth_date=2025-03-14&start_date=2025-03-01", "start_date", "start_before_birth"},
		{"too old for every band (NRW has no Hort band)", "birth_date=2019-01-01&start_date=2027-08-01", "birth_date", "child_too_old"},
		{"born far in the future", "birth_date=2028-01-01&start_date=2028-02-01", "birth_date", "birth_date_too_far"},
		{"start beyond the figures", "birth_date=2025-03-14&start_date=2029-01-01", "start_date", "start_too_far"},
		{"postcode with letters", child + "&plz=4478x", "plz", "invalid_plz"},
		{"lat without lon", child + "&lat=51.48", "lon", "lat_lon_together"},
		{"lat garbage", child + "&lat=north&lon=7.2", "lat", "invalid_number"},
		{"point in Paris", child + "&lat=48.85&lon=2.35", "lat", "outside_germany"},
		{"radius too small", child + "&radius_km=0.1", "radius_km", "radius_out_of_range"},
		{"radius too large", child + "&radius_km=51", "radius_km", "radius_out_of_range"},
		{"radius garbage", child + "&radius_km=far", "radius_km", "invalid_number"},
		{"radius infinite", child + "&radius_km=Inf", "radius_km", "invalid_number"},
		{"unknown type", child + "&type=spaceship", "type", "invalid_choice"},
		{"unknown provider kind", child + "&provider_kind=pirates", "provider_kind", "invalid_choice"},
		{"unknown concept", child + "&concept=drill", "concept", "invalid_choice"},
		{"provider no id", child + "&provider=AWO", "provider", "invalid_provider"},
		{"provider id with garbage", child + "&provider=" + uuidN(1) + ",x", "provider", "invalid_provider"},
		{"provider id in braces", child + "&provider={" + uuidN(1) + "}", "provider", "invalid_provider"},
		{"too many providers", child + "&provider=" + manyUUIDs(MaxProviders+1), "provider", "too_many_providers"},
		{"opens by 25:00", child + "&opens_by=25:00", "opens_by", "invalid_time"},
		{"closes after noonish", child + "&closes_after=noonish", "closes_after", "invalid_time"},
		{"care hours not offered in Bochum", child + "&care_hours=30", "care_hours", "care_hours_not_offered"},
		{"care hours garbage", child + "&care_hours=lots", "care_hours", "care_hours_not_offered"},
		{"available_only maybe", child + "&available_only=maybe", "available_only", "invalid_boolean"},
		{"page 0", child + "&page=0", "page", "number_out_of_range"},
		{"page -3", child + "&page=-3", "page", "number_out_of_range"},
		{"per_page 1000", child + "&per_page=1000", "per_page", "number_out_of_range"},
		{"address too long", child + "&address=" + longText(201), "address", "too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(t, bochum, tt.query)
			e, ok := apperr.As(err)
			if !ok {
				t.Fatalf("got %v, want one classified error", err)
			}
			if e.Kind != apperr.KindInvalid || e.Field != tt.field || e.Code != tt.code {
				t.Errorf("got %s/%s (kind %d), want %s/%s", e.Field, e.Code, e.Kind, tt.field, tt.code)
			}
		})
	}
}

// A city whose youngest band starts at eight months has no care for a newborn.
func TestParseChildTooYoung(t *testing.T) {
	t.Parallel()
	r := *rulesOf(t, "herzberg")
	r.AgeBands = append([]tenant.AgeBand(nil), r.AgeBands...)
	r.AgeBands[0].MinMonths = 8
	_, err := parse(t, &r, "birth_date=2027-01-10&start_date=2027-03-01")
	if e, ok := apperr.As(err); !ok || e.Code != "child_too_young" || e.Field != "birth_date" {
		t.Errorf("got %v, want child_too_young", err)
	}
}

func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	_, err := parse(t, rulesOf(t, "herzberg"), "birth_date=2025-02-30&start_date=&radius_km=99&type=ufo")
	list, ok := err.(apperr.List)
	if !ok {
		t.Fatalf("got %T %v, want a list", err, err)
	}
	var fields []string
	for _, e := range list {
		fields = append(fields, e.Field)
	}
	for _, want := range []string{"birth_date", "start_date", "radius_km", "type"} {
		if !slices.Contains(fields, want) {
			t.Errorf("no error for %s in %v", want, fields)
		}
	}
}

func TestParseChildIsOptional(t *testing.T) {
	t.Parallel()
	r := rulesOf(t, "herzberg")
	if _, ok, err := ParseChild(url.Values{}, r, today, lastMonth); ok || err != nil {
		t.Errorf("no child: ok=%v err=%v", ok, err)
	}
	v, _ := url.ParseQuery("birth_date=2025-03-14&start_date=2027-08-01&care_hours=40")
	c, ok, err := ParseChild(v, r, today, lastMonth)
	if !ok || err != nil || c.Band.Key != "krippe" || c.Scope != 40 {
		t.Errorf("child: %v %v %+v", ok, err, c)
	}
	v, _ = url.ParseQuery("birth_date=2025-03-14")
	if _, _, err := ParseChild(v, r, today, lastMonth); err == nil {
		t.Error("a birth date without start must be refused")
	}
}

func longText(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func uuidN(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func manyUUIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuidN(i + 1)
	}
	return strings.Join(ids, ",")
}

// A named provider filter takes ids, repeated or comma-separated; duplicates collapse,
// and the URL written back reads the same.
func TestParseNamedProviders(t *testing.T) {
	t.Parallel()
	r := rulesOf(t, "leipzig")
	q, err := parse(t, r, "birth_date=2025-03-14&start_date=2027-08-01&provider="+uuidN(1)+"&provider="+uuidN(2)+","+strings.ToUpper(uuidN(1))+",&provider_kind=welfare")
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Providers) != 2 || q.Providers[0].String() != uuidN(1) || q.Providers[1].String() != uuidN(2) || !slices.Equal(q.ProviderKinds, []string{"welfare"}) {
		t.Errorf("providers %v kinds %v", q.Providers, q.ProviderKinds)
	}
	again, err := Parse(q.Values(), r, today, lastMonth)
	if err != nil || !slices.Equal(again.Providers, q.Providers) {
		t.Errorf("round trip: %v %v", err, again.Providers)
	}
	if q, err := parse(t, r, "birth_date=2025-03-14&start_date=2027-08-01&provider=+"); err != nil || len(q.Providers) != 0 {
		t.Errorf("empty provider: %v %v", err, q.Providers)
	}
	if q, err := parse(t, r, "birth_date=2025-03-14&start_date=2027-08-01&provider="+manyUUIDs(MaxProviders)); err != nil || len(q.Providers) != MaxProviders {
		t.Errorf("%d providers: %v %d", MaxProviders, err, len(q.Providers))
	}
	// A search naming a provider is a search (the start page answers it).
	if !isParam(ParamProvider) {
		t.Error("provider is not a search parameter")
	}
}
