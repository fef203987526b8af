package search

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"kitaportal/internal/availability"
	"kitaportal/internal/care"
)

// Item is one facility in a result.
type Item struct {
	ID           uuid.UUID           `json:"id"`
	Name         string              `json:"name"`
	Type         string              `json:"type"`
	Provider     Provider            `json:"provider"`
	Address      care.Address        `json:"address"`
	Lat          float64             `json:"lat"`
	Lon          float64             `json:"lon"`
	DistanceKm   *float64            `json:"distance_km"` // nil when no place was given
	Concepts     []string            `json:"concepts"`
	OpeningHours json.RawMessage     `json:"opening_hours"` // as stored: see OpeningHours
	AgeMinMonths int                 `json:"age_min_months"`
	AgeMaxMonths int                 `json:"age_max_months"`
	BarrierFree  bool                `json:"barrier_free"`
	Lunch        bool                `json:"lunch"`
	AgeFit       bool                `json:"age_fit"`
	Availability availability.Status `json:"availability"`
}

// Provider is the facility's Träger.
type Provider struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Kind string    `json:"kind"`
}

// statement is SQL with PostgreSQL's numbered parameters, built up one condition at a time.
type statement struct {
	args []any
}

// arg adds a parameter and returns its placeholder.
func (s *statement) arg(v any) string {
	s.args = append(s.args, v)
	return "$" + strconv.Itoa(len(s.args))
}

// searchSQL builds the query of q: facilities of the tenant, filtered, nearest first,
// one page, with the total number of hits, and for the page the availability cell of the
// child's band, scope and month. Every table is scoped by tenant_id.
//
// The inner query picks the page from the facility rows alone — the GiST index on
// (tenant_id, earth), the columns, and care_offered, which the availability engine keeps
// on each row — so only the twenty facilities shown cost an availability lookup. Only
// "expected free only" must look at every candidate's cell. Distances are straight lines
// through the earth between the cube points the table keeps (cube's <-> operator): they
// rank exactly like distances along the surface at one operator per row, and Go turns
// them into kilometres.
func searchSQL(tenantID uuid.UUID, q Query, origin *Origin) (string, []any) {
	s := &statement{}
	t := s.arg(tenantID)
	band := s.arg(q.Band.Key)
	months := s.arg(q.AgeMonths)
	cell := "a.tenant_id = f.tenant_id AND a.facility_id = f.id AND a.age_band = " + band +
		" AND a.care_hours = " + s.arg(q.Scope) + " AND a.month = " + s.arg(q.Month())
	distance := "NULL::float8"
	var where []string
	if origin != nil {
		centre, box, chord := earthCircle(origin.Point, q.RadiusKm*1000)
		distance = "(f.earth <-> " + s.arg(centre) + "::cube)"
		// The box finds the candidates with the index; its corners reach beyond the
		// circle, so the distance decides.
		where = append(where, "f.earth <@ "+s.arg(box)+"::cube", distance+" <= "+s.arg(chord))
	}
	ageFit := fmt.Sprintf("(%s >= f.age_min_months AND %s < f.age_max_months AND %s = ANY(f.care_offered))", months, months, band)
	if len(q.Types) > 0 {
		where = append(where, "f.type = ANY("+s.arg(q.Types)+"::text[])")
	}
	joins := ""
	if len(q.ProviderKinds) > 0 {
		joins += "\n    JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id"
		where = append(where, "p.kind = ANY("+s.arg(q.ProviderKinds)+"::text[])")
	}
	if len(q.Providers) > 0 {
		where = append(where, "f.provider_id = ANY("+s.arg(uuidTexts(q.Providers))+"::uuid[])")
	}
	if len(q.Concepts) > 0 {
		where = append(where, "f.concepts && "+s.arg(q.Concepts)+"::text[]")
	}
	// Opening hours count on working days: a facility opens by 07:00 when it opens at
	// 07:00 or earlier on every day from Monday to Friday (columns derived from the JSON).
	if q.OpensBy != "" {
		where = append(where, "f.opens_latest <= "+s.arg(q.OpensBy))
	}
	if q.ClosesAfter != "" {
		where = append(where, "f.closes_earliest >= "+s.arg(q.ClosesAfter))
	}
	if q.BarrierFree {
		where = append(where, "f.barrier_free")
	}
	if q.Lunch {
		where = append(where, "f.lunch")
	}
	if q.CareHours > 0 { // has places of this scope for the child's band
		where = append(where, s.arg(q.Band.Key+"/"+strconv.Itoa(q.CareHours))+" = ANY(f.care_offered)")
	}
	if q.AgeFitOnly || q.AvailableOnly {
		where = append(where, ageFit)
	}
	if q.AvailableOnly {
		joins += "\n    JOIN availability a ON " + cell
		where = append(where, "a.free > 0")
	}
	order := "f.name, f.id"
	if origin != nil {
		order = "distance, " + order
	}
	cond := ""
	for _, w := range where {
		cond += "\n      AND " + w
	}
	sqlText := `
SELECT f.id, f.name, f.type, f.street, f.house_number, f.plz, f.city, f.lat, f.lon,
       array_to_string(f.concepts, ','), f.opening_hours, f.age_min_months, f.age_max_months,
       f.barrier_free, f.lunch, p.id, p.name, p.kind,
       hit.distance, hit.age_fit, a.facility_id IS NOT NULL, coalesce(a.free, 0), hit.total
FROM (
    SELECT f.id, ` + distance + ` AS distance, ` + ageFit + ` AS age_fit, count(*) OVER () AS total
    FROM facility f` + joins + `
    WHERE f.tenant_id = ` + t + ` AND f.status = 'active' AND NOT f.brokered` + cond + `
    ORDER BY ` + order + `
    LIMIT ` + s.arg(q.PerPage) + ` OFFSET ` + s.arg(q.Offset()) + `
) hit
JOIN facility f ON f.tenant_id = ` + t + ` AND f.id = hit.id
JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id
LEFT JOIN availability a ON ` + cell + `
ORDER BY ` + strings.ReplaceAll(order, "distance", "hit.distance") + `;`
	return sqlText, s.args
}

// earthRadius is the radius the earthdistance extension uses (metres), so our points and
// the facility table's cube points agree.
const earthRadius = 6378168.0

// earthPoint is ll_to_earth(lat, lon): the point on the sphere as a cube literal.
func earthPoint(p Point) (x, y, z float64) {
	lat, lon := p.Lat*math.Pi/180, p.Lon*math.Pi/180
	return earthRadius * math.Cos(lat) * math.Cos(lon), earthRadius * math.Cos(lat) * math.Sin(lon), earthRadius * math.Sin(lat)
}

// earthCircle returns the centre, the bounding box (as earth_box builds it) and the
// straight-line radius of a circle of metres around p, as cube literals and a number.
func earthCircle(p Point, metres float64) (centre, box string, chord float64) {
	x, y, z := earthPoint(p)
	chord = 2 * earthRadius * math.Sin(metres/(2*earthRadius))
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	centre = "(" + f(x) + ", " + f(y) + ", " + f(z) + ")"
	box = "(" + f(x-chord) + ", " + f(y-chord) + ", " + f(z-chord) + "),(" + f(x+chord) + ", " + f(y+chord) + ", " + f(z+chord) + ")"
	return centre, box, chord
}

// surfaceKm turns a straight-line distance through the earth into kilometres along the
// surface.
func surfaceKm(chord float64) float64 {
	return 2 * earthRadius * math.Asin(math.Min(1, chord/(2*earthRadius))) / 1000
}

// scanItems reads the rows of searchSQL; total is the number of hits of the whole query.
func scanItems(rows *sql.Rows) (items []Item, total int, err error) {
	defer rows.Close()
	for rows.Next() {
		var (
			it       Item
			concepts string
			hours    []byte
			distance sql.NullFloat64
			known    bool
			free     int
		)
		err := rows.Scan(&it.ID, &it.Name, &it.Type, &it.Address.Street, &it.Address.HouseNumber, &it.Address.PLZ,
			&it.Address.City, &it.Lat, &it.Lon, &concepts, &hours, &it.AgeMinMonths, &it.AgeMaxMonths,
			&it.BarrierFree, &it.Lunch, &it.Provider.ID, &it.Provider.Name, &it.Provider.Kind,
			&distance, &it.AgeFit, &known, &free, &total)
		if err != nil {
			return nil, 0, err
		}
		it.Concepts = []string{}
		if concepts != "" {
			it.Concepts = strings.Split(concepts, ",")
		}
		it.OpeningHours = hours // jsonb text: always valid JSON
		if distance.Valid {
			km := math.Round(surfaceKm(distance.Float64)*100) / 100
			it.DistanceKm = &km
		}
		it.Availability = availability.StatusOf(free, known)
		items = append(items, it)
	}
	return items, total, rows.Err()
}

// uuidTexts are ids as text, for a ::uuid[] parameter of the prepared statement.
func uuidTexts(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
