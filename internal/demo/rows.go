package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/date"
)

// Rows as the tables hold them. Timestamps are set explicitly (to the start of the Kita
// year) rather than left to now(), so two runs produce the same rows byte for byte.

type postcodeRow struct {
	bun.BaseModel `bun:"table:postcode"`

	TenantID        uuid.UUID `bun:"tenant_id,type:uuid"`
	PLZ             string    `bun:"plz"`
	MunicipalityKey string    `bun:"municipality_key"`
	Place           string    `bun:"place"`
	Lat             float64   `bun:"lat"`
	Lon             float64   `bun:"lon"`
}

type streetRow struct {
	bun.BaseModel `bun:"table:street"`

	TenantID        uuid.UUID `bun:"tenant_id,type:uuid"`
	PLZ             string    `bun:"plz"`
	Name            string    `bun:"name"`
	MunicipalityKey string    `bun:"municipality_key"`
	Lat             float64   `bun:"lat"`
	Lon             float64   `bun:"lon"`
}

type providerRow struct {
	bun.BaseModel `bun:"table:provider"`

	TenantID  uuid.UUID `bun:"tenant_id,type:uuid"`
	ID        uuid.UUID `bun:"id,type:uuid"`
	Name      string    `bun:"name"`
	Kind      string    `bun:"kind"`
	Email     string    `bun:"email,nullzero"`
	Phone     string    `bun:"phone,nullzero"`
	Website   string    `bun:"website,nullzero"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

type facilityRow struct {
	bun.BaseModel `bun:"table:facility"`

	TenantID        uuid.UUID    `bun:"tenant_id,type:uuid"`
	ID              uuid.UUID    `bun:"id,type:uuid"`
	ProviderID      uuid.UUID    `bun:"provider_id,type:uuid"`
	Type            string       `bun:"type"`
	Name            string       `bun:"name"`
	Status          string       `bun:"status"`
	Street          string       `bun:"street"`
	HouseNumber     string       `bun:"house_number"`
	PLZ             string       `bun:"plz"`
	City            string       `bun:"city"`
	MunicipalityKey string       `bun:"municipality_key"`
	DistrictKey     string       `bun:"district_key,nullzero"`
	Lat             float64      `bun:"lat"`
	Lon             float64      `bun:"lon"`
	Description     string       `bun:"description"`
	Concepts        []string     `bun:"concepts,array"`
	OpeningHours    openingHours `bun:"opening_hours,type:jsonb"`
	AgeMinMonths    int          `bun:"age_min_months"`
	AgeMaxMonths    int          `bun:"age_max_months"`
	BarrierFree     bool         `bun:"barrier_free"`
	Lunch           bool         `bun:"lunch"`
	Phone           string       `bun:"phone,nullzero"`
	Email           string       `bun:"email,nullzero"`
	Website         string       `bun:"website,nullzero"`
	CreatedAt       time.Time    `bun:"created_at"`
	UpdatedAt       time.Time    `bun:"updated_at"`
}

type groupRow struct {
	bun.BaseModel `bun:"table:facility_group"`

	TenantID   uuid.UUID `bun:"tenant_id,type:uuid"`
	ID         uuid.UUID `bun:"id,type:uuid"`
	FacilityID uuid.UUID `bun:"facility_id,type:uuid"`
	Name       string    `bun:"name"`
	AgeBand    string    `bun:"age_band"`
	CareHours  int       `bun:"care_hours"`
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

type capacityRow struct {
	bun.BaseModel `bun:"table:group_capacity"`

	TenantID   uuid.UUID `bun:"tenant_id,type:uuid"`
	GroupID    uuid.UUID `bun:"group_id,type:uuid"`
	ValidFrom  date.Date `bun:"valid_from,type:date"`
	ValidUntil date.Date `bun:"valid_until,type:date"` // zero: open-ended (NULL)
	Places     int       `bun:"places"`
}

type familyRow struct {
	bun.BaseModel `bun:"table:family"`

	TenantID        uuid.UUID `bun:"tenant_id,type:uuid"`
	ID              uuid.UUID `bun:"id,type:uuid"`
	Street          string    `bun:"street"`
	HouseNumber     string    `bun:"house_number"`
	PLZ             string    `bun:"plz"`
	City            string    `bun:"city"`
	MunicipalityKey string    `bun:"municipality_key"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`
}

type childRow struct {
	bun.BaseModel `bun:"table:child"`

	TenantID  uuid.UUID `bun:"tenant_id,type:uuid"`
	ID        uuid.UUID `bun:"id,type:uuid"`
	FamilyID  uuid.UUID `bun:"family_id,type:uuid"`
	FirstName string    `bun:"first_name"`
	LastName  string    `bun:"last_name"`
	BirthDate date.Date `bun:"birth_date,type:date"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

type contractRow struct {
	bun.BaseModel `bun:"table:contract"`

	TenantID   uuid.UUID `bun:"tenant_id,type:uuid"`
	ID         uuid.UUID `bun:"id,type:uuid"`
	ChildID    uuid.UUID `bun:"child_id,type:uuid"`
	FacilityID uuid.UUID `bun:"facility_id,type:uuid"`
	GroupID    uuid.UUID `bun:"group_id,type:uuid"`
	CareHours  int       `bun:"care_hours"`
	StartDate  date.Date `bun:"start_date,type:date"`
	EndDate    date.Date `bun:"end_date,type:date"`
	Status     string    `bun:"status"`
	Source     string    `bun:"source"`
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

// dataset is the complete demo data of one tenant, in insert order.
type dataset struct {
	postcodes  []postcodeRow
	streets    []streetRow
	providers  []providerRow
	facilities []facilityRow
	photos     []photoRow
	groups     []groupRow
	capacities []capacityRow
	families   []familyRow
	children   []childRow
	contracts  []contractRow
}

// batchSize keeps each statement at a few hundred kilobytes.
const batchSize = 1000

func (d *dataset) insert(ctx context.Context, db bun.IDB) error {
	steps := []struct {
		table string
		run   func() error
	}{
		{"postcode", func() error { return insertBatches(ctx, db, d.postcodes) }},
		{"street", func() error { return insertBatches(ctx, db, d.streets) }},
		{"provider", func() error { return insertBatches(ctx, db, d.providers) }},
		{"facility", func() error { return insertBatches(ctx, db, d.facilities) }},
		{"facility_photo", func() error { return insertBatches(ctx, db, d.photos) }},
		{"facility_group", func() error { return insertBatches(ctx, db, d.groups) }},
		{"group_capacity", func() error { return insertBatches(ctx, db, d.capacities) }},
		{"family", func() error { return insertBatches(ctx, db, d.families) }},
		{"child", func() error { return insertBatches(ctx, db, d.children) }},
		{"contract", func() error { return insertBatches(ctx, db, d.contracts) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return fmt.Errorf("insert %s: %w", s.table, err)
		}
	}
	return nil
}

// insertBatches writes rows in multi-row INSERTs. ON CONFLICT DO NOTHING without a
// target also covers the exclusion constraints (capacity periods, one contract per
// child), so rows that exist already are skipped and nothing is updated.
func insertBatches[T any](ctx context.Context, db bun.IDB, rows []T) error {
	for start := 0; start < len(rows); start += batchSize {
		batch := rows[start:min(start+batchSize, len(rows))]
		if _, err := db.NewInsert().Model(&batch).On("CONFLICT DO NOTHING").Returning("NULL").Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}
