package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/care"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvfile"
	"kitaportal/internal/platform/csvimport"
	"kitaportal/internal/tenant"
)

// The facility file for onboarding and bulk corrections. Export writes every facility of
// the caller's scope; the same file, edited, imports back: a row with an id changes that
// facility (only the columns the file has), a row without creates one. Opening hours are
// one column per weekday ("07:00-17:00"), concepts a list ("montessori, inklusion").
var FacilityColumns = []string{"id", "name", "type", "provider", "provider_kind", "street", "house_number", "plz", "city",
	"district", "lat", "lon", "age_min_months", "age_max_months", "phone", "email", "website", "concepts",
	"barrier_free", "lunch", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "description"}

// Limits of an upload.
const (
	MaxImportBytes = 3 << 20
	MaxImportRows  = 5000
)

// kitaTypes may turn into each other by import; Kindertagespflege is set up as such.
var kitaTypes = []string{"krippe", "kindergarten", "kita", "hort"}

// facilityRecord is one facility as the file has it.
type facilityRecord struct {
	ID           uuid.UUID `bun:"id"`
	Type         string    `bun:"type"`
	ProviderID   uuid.UUID `bun:"provider_id"`
	Provider     string    `bun:"provider"`
	ProviderKind string    `bun:"provider_kind"`
	Street       string    `bun:"street"`
	HouseNumber  string    `bun:"house_number"`
	PLZ          string    `bun:"plz"`
	City         string    `bun:"city"`
	Municipality string    `bun:"municipality_key"`
	District     string    `bun:"district_key"`
	Lat          float64   `bun:"lat"`
	Lon          float64   `bun:"lon"`
	Concepts     []string  `bun:"concepts,array"`
	Hours        []byte    `bun:"opening_hours"`
	ProfileChange
}

const recordsSQL = `SELECT f.id, f.type, f.provider_id, p.name AS provider, p.kind AS provider_kind, f.street, f.house_number, f.plz, f.city,
	f.municipality_key, coalesce(f.district_key, '') AS district_key, f.lat, f.lon, f.name, f.description, f.concepts, coalesce(f.phone, '') AS phone,
	coalesce(f.email::text, '') AS email, coalesce(f.website, '') AS website, f.opening_hours, f.lunch, f.barrier_free,
	f.age_min_months, f.age_max_months
	FROM facility f JOIN provider p ON p.tenant_id = f.tenant_id AND p.id = f.provider_id`

func (r *facilityRecord) decode() error {
	r.ProfileChange.Concepts = r.Concepts
	h, err := care.ParseHours(r.Hours)
	r.OpeningHours = h
	return err
}

// ExportFacilities writes the facilities of the caller's scope as CSV in encoding
// (csvfile.UTF8 or csvfile.Windows1252); the export is audited.
func (s *Service) ExportFacilities(ctx context.Context, c auth.Caller, w io.Writer, encoding string) error {
	var records []facilityRecord
	err := s.read(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		var fs []Ref
		if err := ScopedFacilities(ctx, tx, c, &fs); err != nil {
			return err
		}
		ids := make([]string, len(fs))
		for i, f := range fs {
			ids[i] = f.ID.String()
		}
		if err := tx.NewRaw(recordsSQL+` WHERE f.tenant_id = ? AND f.id = ANY(?::uuid[]) ORDER BY f.name, f.id`,
			c.Tenant.ID, pgdialect.Array(ids)).Scan(ctx, &records); err != nil {
			return fmt.Errorf("provider: export: %w", err)
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: audit.ActionExport, ObjectKind: "facilities",
			Details: map[string]any{"facilities": len(records), "format": "csv"}})
	})
	if err != nil {
		return err
	}
	out, err := csvfile.NewWriter(w, encoding)
	if err != nil {
		return err
	}
	if err := out.Write(FacilityColumns...); err != nil {
		return err
	}
	for i := range records {
		r := &records[i]
		if err := r.decode(); err != nil {
			return err
		}
		cells := []string{r.ID.String(), r.Name, r.Type, r.Provider, r.ProviderKind, r.Street, r.HouseNumber, r.PLZ, r.City,
			r.District, strconv.FormatFloat(r.Lat, 'f', 6, 64), strconv.FormatFloat(r.Lon, 'f', 6, 64),
			strconv.Itoa(r.AgeMinMonths), strconv.Itoa(r.AgeMaxMonths), r.Phone, r.Email, r.Website,
			strings.Join(r.ProfileChange.Concepts, ", "), yesNo(r.BarrierFree), yesNo(r.Lunch)}
		for _, day := range Weekdays {
			cells = append(cells, FormatDayHours(r.OpeningHours[day]))
		}
		if err := out.Write(append(cells, r.Description)...); err != nil {
			return err
		}
	}
	return out.Flush()
}

func yesNo(b bool) string {
	if b {
		return "ja"
	}
	return "nein"
}

// OpenCSV reads an upload's header; an unreadable file is a problem of the "file" field.
func OpenCSV(r io.Reader) (*csvfile.Reader, error) {
	rd, err := csvfile.Open(r, MaxImportBytes)
	if errors.Is(err, csvfile.ErrTooLarge) {
		return nil, apperr.Invalid("file", "csv_file_too_large", map[string]any{"max_mb": MaxImportBytes >> 20})
	}
	if err != nil {
		return nil, apperr.Invalid("file", "csv_file_unreadable", nil).Wrap(err)
	}
	return rd, nil
}

// ImportFacilities applies a facility file (see FacilityColumns) for the caller: all rows
// or none, nothing at all on a dry run.
func (s *Service) ImportFacilities(ctx context.Context, c auth.Caller, upload io.Reader, dryRun bool) (*csvimport.Report, error) {
	rd, err := OpenCSV(upload)
	if err != nil {
		return nil, err
	}
	imp := &facilityImport{c: c, header: map[string]bool{}, providers: map[string]uuid.UUID{}}
	for _, h := range rd.Header {
		imp.header[strings.ToLower(h)] = true
	}
	opt := csvimport.Options{DryRun: dryRun, MaxRows: MaxImportRows, Required: []string{"name"}}
	return csvimport.Run(ctx, s.db, c.Tenant.ID, rd, opt, imp.apply, func(ctx context.Context, tx bun.Tx, r *csvimport.Report) error {
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionImported, ObjectKind: "facilities",
			Details: map[string]any{"rows": r.Rows, "created": r.Created, "updated": r.Updated, "encoding": r.Encoding}})
	})
}

// facilityImport is the state of one import: the caller, the header's columns, the
// providers already resolved and the providers the caller's roles reach (read once, at
// the first provider the file names).
type facilityImport struct {
	c         auth.Caller
	header    map[string]bool
	providers map[string]uuid.UUID // lower-case name → id
	reach     *authz.ProviderReach
}

// cell reads a column, or ok = false when the file has no such column.
func (imp *facilityImport) cell(row csvfile.Row, column string) (string, bool) {
	if !imp.header[column] {
		return "", false
	}
	return csvfile.Restore(row.Get(column)), true
}

// apply creates or updates the facility of one row.
func (imp *facilityImport) apply(ctx context.Context, tx bun.Tx, row csvfile.Row) (csvimport.Outcome, error) {
	rec := facilityRecord{}
	rec.OpeningHours = care.OpeningHours{}
	var before *facilityRecord
	if v, _ := imp.cell(row, "id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return 0, apperr.Invalid("id", "id_invalid", nil)
		}
		if _, err := InScope(ctx, tx, imp.c, id, true); err != nil {
			return 0, apperr.NotFound("provider_facility_unknown").WithField("id")
		}
		var recs []facilityRecord
		if err := tx.NewRaw(recordsSQL+` WHERE f.tenant_id = ? AND f.id = ?`, imp.c.Tenant.ID, id).Scan(ctx, &recs); err != nil || len(recs) != 1 {
			return 0, fmt.Errorf("provider: import: read %s: %v", id, err)
		}
		if err := recs[0].decode(); err != nil {
			return 0, err
		}
		rec, before = recs[0], &recs[0]
		rec.ProfileChange.OpeningHours = copyHours(before.OpeningHours)
	}
	errs := imp.overlay(row, &rec)
	rec.ProfileChange.Normalize()
	if err := rec.ProfileChange.Validate(); err != nil {
		for _, e := range err.(apperr.List) {
			errs = append(errs, e.WithField(columnOf(e.Field)))
		}
	}
	errs = append(errs, imp.checkType(rec, before)...)
	if len(errs) > 0 {
		return 0, errs
	}
	if err := imp.resolve(ctx, tx, &rec, before); err != nil {
		return 0, err
	}
	if before == nil {
		return csvimport.Created, imp.insert(ctx, tx, &rec)
	}
	return csvimport.Updated, imp.update(ctx, tx, &rec)
}

// overlay sets the fields of rec from the columns the file has.
func (imp *facilityImport) overlay(row csvfile.Row, rec *facilityRecord) apperr.List {
	var errs apperr.List
	texts := map[string]*string{"name": &rec.Name, "type": &rec.Type, "provider": &rec.Provider, "provider_kind": &rec.ProviderKind,
		"street": &rec.Street, "house_number": &rec.HouseNumber, "plz": &rec.PLZ, "city": &rec.City, "district": &rec.District,
		"phone": &rec.Phone, "email": &rec.Email, "website": &rec.Website, "description": &rec.Description}
	for column, to := range texts {
		if v, ok := imp.cell(row, column); ok {
			*to = v
		}
	}
	for _, col := range []string{"age_min_months", "age_max_months"} {
		if v, ok := imp.cell(row, col); ok {
			n, err := ParseInt(col, v, 0, maxAgeMonths)
			if err != nil {
				errs = append(errs, err)
			}
			if col == "age_min_months" {
				rec.AgeMinMonths = n
			} else {
				rec.AgeMaxMonths = n
			}
		}
	}
	for col, to := range map[string]*bool{"barrier_free": &rec.BarrierFree, "lunch": &rec.Lunch} {
		if v, ok := imp.cell(row, col); ok {
			b, err := ParseBool(col, v)
			if err != nil {
				errs = append(errs, err)
			}
			*to = b
		}
	}
	if v, ok := imp.cell(row, "concepts"); ok {
		rec.ProfileChange.Concepts = strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return r == ',' || r == '|' || r == ' ' })
	}
	for _, day := range Weekdays {
		if v, ok := imp.cell(row, day); ok {
			h, err := ParseDayHours(day, v)
			if err != nil {
				errs = append(errs, err.(*apperr.Error))
			}
			rec.OpeningHours[day] = h
		}
	}
	for _, col := range []string{"lat", "lon"} {
		if v, ok := imp.cell(row, col); ok && v != "" {
			f, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
			if err != nil {
				errs = append(errs, apperr.Invalid(col, "invalid_number", nil))
			}
			if col == "lat" {
				rec.Lat = f
			} else {
				rec.Lon = f
			}
		} else if ok {
			rec.Lat, rec.Lon = 0, 0 // looked up from the address
		}
	}
	for _, req := range []struct {
		col string
		v   string
	}{{"type", rec.Type}, {"provider", rec.Provider}, {"street", rec.Street}, {"house_number", rec.HouseNumber}, {"plz", rec.PLZ}} {
		if strings.TrimSpace(req.v) == "" {
			errs = append(errs, apperr.Invalid(req.col, "required", nil))
		}
	}
	if rec.ID == uuid.Nil && !imp.header["age_max_months"] {
		errs = append(errs, apperr.Invalid("age_max_months", "required", nil))
	}
	return errs
}

// checkType: a known type; Kitas may change among the Kita types, Kindertagespflege is
// created as such and stays.
func (imp *facilityImport) checkType(rec facilityRecord, before *facilityRecord) apperr.List {
	if !slices.Contains(care.Types, rec.Type) {
		return apperr.List{apperr.Invalid("type", "invalid_choice", map[string]any{"allowed": strings.Join(care.Types, ", ")})}
	}
	if before != nil && before.Type != rec.Type && !(slices.Contains(kitaTypes, before.Type) && slices.Contains(kitaTypes, rec.Type)) {
		return apperr.List{apperr.Invalid("type", "provider_type_change", nil)}
	}
	return nil
}

// resolve finds the provider, the place (municipality, district, coordinates) of rec.
func (imp *facilityImport) resolve(ctx context.Context, tx bun.Tx, rec *facilityRecord, before *facilityRecord) error {
	if before == nil || !strings.EqualFold(strings.TrimSpace(rec.Provider), before.Provider) {
		id, err := imp.provider(ctx, tx, rec.Provider, rec.ProviderKind)
		if err != nil {
			return err
		}
		rec.ProviderID = id
	}
	place, err := lookupPlace(ctx, tx, imp.c.Tenant.ID, rec.PLZ, rec.Street)
	if err != nil {
		return err
	}
	if rec.City == "" {
		rec.City = place.Place
	}
	moved := before == nil || before.PLZ != rec.PLZ || before.Street != rec.Street || before.HouseNumber != rec.HouseNumber
	if rec.Lat == 0 && rec.Lon == 0 || (moved && !imp.header["lat"]) {
		rec.Lat, rec.Lon = place.Lat, place.Lon
	}
	if rec.Lat < 47 || rec.Lat > 55.1 || rec.Lon < 5.8 || rec.Lon > 15.1 {
		return apperr.Invalid("lat", "outside_germany", nil)
	}
	rec.Municipality = place.Municipality
	rec.District, err = imp.district(rec.District, place.Municipality, rec.Type)
	return err
}

// lookupPlace finds plz and street among the tenant's postcodes and streets; a postcode
// that is not the tenant's is a problem of the "plz" field.
func lookupPlace(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, plz, street string) (tenant.Address, error) {
	a, ok, err := tenant.LocateAddress(ctx, tx, tenantID, plz, street)
	if err == nil && !ok {
		return a, apperr.Invalid("plz", "provider_plz_unknown", map[string]any{"plz": plz})
	}
	return a, err
}

// district finds the district by key or name within the municipality; a municipality with
// one district needs none given; Kindertagespflege needs one (its Fachberatung).
func (imp *facilityImport) district(given, municipality, typ string) (string, error) {
	var inMunicipality []string
	for _, d := range imp.c.Tenant.Rules.Districts {
		if d.Municipality != municipality {
			continue
		}
		inMunicipality = append(inMunicipality, d.Key)
		if given != "" && (strings.EqualFold(given, d.Key) || strings.EqualFold(given, d.Name)) {
			return d.Key, nil
		}
	}
	switch {
	case given != "":
		return "", apperr.Invalid("district", "provider_district_unknown", map[string]any{"district": given})
	case len(inMunicipality) == 1:
		return inMunicipality[0], nil
	case typ == "tagespflege" || typ == "grosstagespflege":
		return "", apperr.Invalid("district", "required", nil)
	}
	return "", nil
}

// provider resolves a provider by name among those the caller reaches. A tenant admin
// may name a new one with its kind; a provider admin only their own.
func (imp *facilityImport) provider(ctx context.Context, tx bun.Tx, name, kind string) (uuid.UUID, error) {
	key := strings.ToLower(strings.Join(strings.Fields(name), " "))
	if id, ok := imp.providers[key]; ok {
		return id, nil
	}
	if imp.reach == nil {
		r, err := authz.ProviderReachOf(ctx, tx, imp.c.Tenant.ID, imp.c.Principal.ID)
		if err != nil {
			return uuid.Nil, err
		}
		imp.reach = &r
	}
	var named, found []uuid.UUID
	if err := tx.NewRaw(`SELECT id FROM provider WHERE tenant_id = ? AND lower(name) = ? ORDER BY id`,
		imp.c.Tenant.ID, key).Scan(ctx, &named); err != nil {
		return uuid.Nil, err
	}
	for _, id := range named {
		if imp.reach.Reaches(id) {
			found = append(found, id)
		}
	}
	switch {
	case len(found) == 1:
		imp.providers[key] = found[0]
		return found[0], nil
	case len(found) > 1:
		return uuid.Nil, apperr.Invalid("provider", "provider_organisation_ambiguous", nil)
	}
	if !imp.reach.TenantAdmin || !slices.Contains(care.ProviderKinds, kind) {
		return uuid.Nil, apperr.Invalid("provider", "provider_organisation_unknown", map[string]any{"provider": name})
	}
	id := uuid.Must(uuid.NewV7())
	if _, err := tx.ExecContext(ctx, `INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, ?, ?)`,
		imp.c.Tenant.ID, id, strings.Join(strings.Fields(name), " "), kind); err != nil {
		return uuid.Nil, err
	}
	imp.providers[key] = id
	return id, nil
}

func (imp *facilityImport) insert(ctx context.Context, tx bun.Tx, rec *facilityRecord) error {
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM facility WHERE tenant_id = ? AND lower(name) = lower(?) AND plz = ?)`,
		imp.c.Tenant.ID, rec.Name, rec.PLZ).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return apperr.Invalid("name", "provider_facility_exists", nil)
	}
	rec.ID = uuid.Must(uuid.NewV7())
	hours, err := jsonHours(rec.OpeningHours)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city,
		municipality_key, district_key, lat, lon, description, concepts, opening_hours, age_min_months, age_max_months,
		barrier_free, lunch, phone, email, website)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, nullif(?, ''), ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, nullif(?, ''), nullif(?, ''), nullif(?, ''))`,
		imp.c.Tenant.ID, rec.ID, rec.ProviderID, rec.Type, rec.Name, rec.Street, rec.HouseNumber, rec.PLZ, rec.City,
		rec.Municipality, rec.District, rec.Lat, rec.Lon, rec.Description, pgdialect.Array(rec.ProfileChange.Concepts), hours,
		rec.AgeMinMonths, rec.AgeMaxMonths, rec.BarrierFree, rec.Lunch, rec.Phone, rec.Email, rec.Website)
	return err
}

func (imp *facilityImport) update(ctx context.Context, tx bun.Tx, rec *facilityRecord) error {
	hours, err := jsonHours(rec.OpeningHours)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE facility SET provider_id = ?, type = ?, name = ?, street = ?, house_number = ?, plz = ?,
		city = ?, municipality_key = ?, district_key = nullif(?, ''), lat = ?, lon = ?, description = ?, concepts = ?,
		opening_hours = ?::jsonb, age_min_months = ?, age_max_months = ?, barrier_free = ?, lunch = ?, phone = nullif(?, ''),
		email = nullif(?, ''), website = nullif(?, ''), updated_at = now()
		WHERE tenant_id = ? AND id = ?`,
		rec.ProviderID, rec.Type, rec.Name, rec.Street, rec.HouseNumber, rec.PLZ, rec.City, rec.Municipality, rec.District,
		rec.Lat, rec.Lon, rec.Description, pgdialect.Array(rec.ProfileChange.Concepts), hours, rec.AgeMinMonths, rec.AgeMaxMonths,
		rec.BarrierFree, rec.Lunch, rec.Phone, rec.Email, rec.Website, imp.c.Tenant.ID, rec.ID)
	return err
}

// columnOf names the CSV column of a profile field.
func columnOf(field string) string {
	return strings.TrimPrefix(field, "opening_hours.")
}

func copyHours(h care.OpeningHours) care.OpeningHours {
	out := care.OpeningHours{}
	for k, v := range h {
		out[k] = slices.Clone(v)
	}
	return out
}
