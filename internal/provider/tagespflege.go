package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/availability"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// NewTagespflege is a Kindertagespflege the Fachberatung of its district sets up: the
// childminder (their own provider), where they care, for which ages, and how many places
// from when — at most what the Land allows (tenant rules, facility_limits).
type NewTagespflege struct {
	Type         string // tagespflege or grosstagespflege
	Name         string // e.g. "Kindertagespflege Anna Schmidt", "Großtagespflege Zwergenstube"
	Person       string // the childminder(s): the provider
	Street       string
	HouseNumber  string
	PLZ          string
	District     string
	Phone        string
	Email        string
	AgeMinMonths int
	AgeMaxMonths int
	CareHours    int
	Places       int
	From         date.Date
}

// Validate checks what needs no database.
func (n *NewTagespflege) Validate(r *tenant.Rules) error {
	var errs apperr.List
	add := func(e *apperr.Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if n.Type != "tagespflege" && n.Type != "grosstagespflege" {
		add(apperr.Invalid("type", "invalid_choice", map[string]any{"allowed": "tagespflege, grosstagespflege"}))
	}
	n.Name, n.Person = strings.Join(strings.Fields(n.Name), " "), strings.Join(strings.Fields(n.Person), " ")
	add(checkName("name", n.Name, maxNameLen))
	add(checkName("person", n.Person, maxNameLen))
	add(checkName("street", strings.TrimSpace(n.Street), 200))
	add(checkName("house_number", strings.TrimSpace(n.HouseNumber), 20))
	if !plzPattern.MatchString(n.PLZ) {
		add(apperr.Invalid("plz", "invalid_plz", nil))
	}
	if n.District == "" {
		add(apperr.Invalid("district", "required", nil))
	}
	contact := ProfileChange{Name: n.Name, Phone: n.Phone, Email: n.Email, AgeMinMonths: n.AgeMinMonths, AgeMaxMonths: n.AgeMaxMonths}
	contact.Normalize()
	if err := contact.Validate(); err != nil {
		errs = append(errs, err.(apperr.List)...)
	}
	if !slices.Contains(r.CareScopes, n.CareHours) {
		add(apperr.Invalid("care_hours", "provider_care_hours", map[string]any{"allowed": tenant.ScopesText(r.CareScopes)}))
	}
	if limit := PlacesLimit(n.Type, r.FacilityLimits); n.Places < 1 || (limit > 0 && n.Places > limit) {
		add(apperr.Invalid("places", "number_out_of_range", map[string]any{"min": 1, "max": max(limit, 1)}))
	}
	if n.From.IsZero() {
		add(apperr.Invalid("valid_from", "required", nil))
	}
	return errs.Err()
}

// CreateTagespflege sets up a Kindertagespflege in a district the caller reaches (a
// tenant admin every district, the Fachberatung its own) with one group; it is in the
// search at once.
func (s *Service) CreateTagespflege(ctx context.Context, c auth.Caller, n NewTagespflege) (uuid.UUID, error) {
	if err := n.Validate(c.Tenant.Rules); err != nil {
		return uuid.Nil, err
	}
	id := uuid.Must(uuid.NewV7())
	err := s.read(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		reach, err := authz.ReachesTagespflegeIn(ctx, tx, c.Tenant.ID, c.Principal.ID, n.District)
		if err != nil {
			return err
		}
		d, known := c.Tenant.Rules.District(n.District)
		if !reach || !known {
			return apperr.Invalid("district", "provider_district_out_of_scope", nil)
		}
		at, err := lookupPlace(ctx, tx, c.Tenant.ID, n.PLZ, n.Street)
		if err != nil {
			return err
		}
		if at.Municipality != d.Municipality {
			return apperr.Invalid("plz", "provider_plz_outside_district", map[string]any{"district": d.Name})
		}
		providerID := uuid.Must(uuid.NewV7())
		if _, err := tx.ExecContext(ctx, `INSERT INTO provider (tenant_id, id, name, kind, email, phone) VALUES (?, ?, ?, 'childminder', nullif(?, ''), nullif(?, ''))`,
			c.Tenant.ID, providerID, n.Person, n.Email, n.Phone); err != nil {
			return fmt.Errorf("provider: childminder: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city,
			municipality_key, district_key, lat, lon, age_min_months, age_max_months, phone, email)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, nullif(?, ''), nullif(?, ''))`,
			c.Tenant.ID, id, providerID, n.Type, n.Name, strings.TrimSpace(n.Street), strings.TrimSpace(n.HouseNumber), n.PLZ, at.Place,
			at.Municipality, n.District, at.Lat, at.Lon, n.AgeMinMonths, n.AgeMaxMonths, n.Phone, n.Email); err != nil {
			return fmt.Errorf("provider: tagespflege: %w", err)
		}
		group := "Tagespflegegruppe"
		if n.Type == "grosstagespflege" {
			group = "Großtagespflegegruppe"
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO facility_group (tenant_id, id, facility_id, name, age_band, care_hours) VALUES (?, ?, ?, ?, ?, ?)`,
			c.Tenant.ID, uuid.Must(uuid.NewV7()), id, group, youngestBand(c.Tenant.Rules), n.CareHours); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_capacity (tenant_id, group_id, valid_from, places)
			SELECT tenant_id, id, ?, ? FROM facility_group WHERE tenant_id = ? AND facility_id = ?`, n.From, n.Places, c.Tenant.ID, id); err != nil {
			return err
		}
		if err := availability.Refresh(ctx, tx, c.Tenant, s.Today(), id); err != nil {
			return err
		}
		// The district's first childminder opens its desk (registration.tagespflege_by_district).
		if _, err := EnsureDistrictDesks(ctx, tx, c.Tenant); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionCreated, ObjectKind: "facility", ObjectID: id.String(),
			Details: map[string]any{"type": n.Type, "district": n.District, "places": n.Places}})
	})
	return id, err
}

// youngestBand is the tenant's band for the youngest children: where Kindertagespflege
// places count.
func youngestBand(r *tenant.Rules) string {
	best := r.AgeBands[0]
	for _, b := range r.AgeBands {
		if b.MinMonths < best.MinMonths {
			best = b
		}
	}
	return best.Key
}

var plzPattern = regexp.MustCompile(`^[0-9]{5}$`)
