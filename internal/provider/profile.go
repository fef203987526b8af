package provider

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/auth"
	"kitaportal/internal/care"
	"kitaportal/internal/platform/date"
)

// Profile is a facility as the provider portal edits it: the public profile with its
// photos and closures.
type Profile struct {
	Facility    Ref    `json:"facility"`
	Street      string `json:"street"`
	HouseNumber string `json:"house_number"`
	PLZ         string `json:"plz"`
	ProfileChange
	Photos   []PhotoInfo `json:"photos"`
	Closures []Closure   `json:"closures"`
}

// PhotoInfo is one photo of a facility.
type PhotoInfo struct {
	Position int       `json:"position"`
	Alt      string    `json:"alt"`
	URL      string    `json:"url"`
	AddedAt  time.Time `json:"added_at"`
}

// Closure is a span of days a facility is closed, both days included.
type Closure struct {
	ID       uuid.UUID `bun:"id" json:"id"`
	FirstDay date.Date `bun:"first_day" json:"first_day"`
	LastDay  date.Date `bun:"last_day" json:"last_day"`
	Reason   string    `bun:"reason" json:"reason"`
}

// Profile returns the editable profile of facility id.
func (s *Service) Profile(ctx context.Context, c auth.Caller, id uuid.UUID) (*Profile, error) {
	var p *Profile
	err := s.read(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		f, err := InScope(ctx, tx, c, id, false)
		if err != nil {
			return err
		}
		p, err = loadProfile(ctx, tx, c.Tenant.ID, f)
		return err
	})
	return p, err
}

func loadProfile(ctx context.Context, tx bun.Tx, tenantID uuid.UUID, f *Ref) (*Profile, error) {
	p := &Profile{Facility: *f}
	var hours []byte
	var concepts string
	err := tx.QueryRowContext(ctx, `SELECT street, house_number, plz, description, array_to_string(concepts, ','),
		coalesce(phone, ''), coalesce(email::text, ''), coalesce(website, ''), opening_hours, lunch, barrier_free
		FROM facility WHERE tenant_id = ? AND id = ?`, tenantID, f.ID).Scan(&p.Street, &p.HouseNumber, &p.PLZ,
		&p.Description, &concepts, &p.Phone, &p.Email, &p.Website, &hours, &p.Lunch, &p.BarrierFree)
	if err != nil {
		return nil, fmt.Errorf("provider: profile: %w", err)
	}
	p.Name, p.AgeMinMonths, p.AgeMaxMonths = f.Name, f.AgeMinMonths, f.AgeMaxMonths
	p.Concepts = []string{}
	if concepts != "" {
		p.Concepts = strings.Split(concepts, ",")
	}
	if p.OpeningHours, err = care.ParseHours(hours); err != nil {
		return nil, fmt.Errorf("provider: opening hours: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT position, alt, created_at FROM facility_photo
		WHERE tenant_id = ? AND facility_id = ? ORDER BY position`, tenantID, f.ID)
	if err != nil {
		return nil, fmt.Errorf("provider: photos: %w", err)
	}
	defer rows.Close()
	p.Photos = []PhotoInfo{}
	for rows.Next() {
		var ph PhotoInfo
		if err := rows.Scan(&ph.Position, &ph.Alt, &ph.AddedAt); err != nil {
			return nil, fmt.Errorf("provider: photos: %w", err)
		}
		ph.URL = fmt.Sprintf("/facilities/%s/photos/%d?v=%d", f.ID, ph.Position, ph.AddedAt.Unix())
		p.Photos = append(p.Photos, ph)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	p.Closures = []Closure{}
	err = tx.NewRaw(`SELECT id, first_day, last_day, reason FROM facility_closure
		WHERE tenant_id = ? AND facility_id = ? ORDER BY first_day`, tenantID, f.ID).Scan(ctx, &p.Closures)
	return p, err
}

// UpdateProfile writes a facility's public profile. The search reads the facility row, so
// the change shows in the next search; the audit entry names the fields that changed.
func (s *Service) UpdateProfile(ctx context.Context, c auth.Caller, id uuid.UUID, in ProfileChange) error {
	in.Normalize()
	hours, err := jsonHours(in.OpeningHours)
	if err != nil {
		return err
	}
	return s.write(ctx, c, id, func(ctx context.Context, tx bun.Tx, f *Ref) error {
		if err := in.Validate(); err != nil { // after the scope: a foreign id is "not found", whatever the body
			return err
		}
		before, err := loadProfile(ctx, tx, c.Tenant.ID, f)
		if err != nil {
			return err
		}
		before.ProfileChange.Normalize()
		changed := changedFields(before.ProfileChange, in)
		if len(changed) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE facility SET name = ?, description = ?, concepts = ?, phone = nullif(?, ''),
			email = nullif(?, ''), website = nullif(?, ''), opening_hours = ?::jsonb, lunch = ?, barrier_free = ?,
			age_min_months = ?, age_max_months = ?, updated_at = now()
			WHERE tenant_id = ? AND id = ?`,
			in.Name, in.Description, pgdialect.Array(in.Concepts), in.Phone, in.Email, in.Website, hours,
			in.Lunch, in.BarrierFree, in.AgeMinMonths, in.AgeMaxMonths, c.Tenant.ID, f.ID)
		if err != nil {
			return fmt.Errorf("provider: update profile: %w", err)
		}
		return record(ctx, tx, c, f, ActionProfileChanged, map[string]any{"fields": changed})
	})
}

// changedFields names the JSON fields whose values differ.
func changedFields(a, b ProfileChange) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			name, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
	}
	return out
}
