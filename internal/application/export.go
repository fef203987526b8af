package application

import (
	"context"
	"encoding/xml"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/httpserver"
)

// The export of one filed request as a structured document (JSON or XML), shaped like a
// FIT-Connect submission of the form "Antrag auf einen Betreuungsplatz": who applies, for
// which child, from when, for how many hours, at which facilities in which order, and the
// priority criteria claimed. web/openapi/openapi.json (RequestSubmission) documents every
// field. Health details are never in it (the child's record keeps them).

// ActionRequestDocument is the audit action of an export (a read of the child's data).
const ActionRequestDocument = "request.document_exported"

// SubmissionSchema names the document's schema and version.
const SubmissionSchema = "urn:kitaportal:submission:kita-request:1"

// Submission is the exported document.
type Submission struct {
	XMLName     xml.Name             `json:"-" xml:"submission"`
	Schema      string               `json:"schema" xml:"schema,attr"`
	ID          uuid.UUID            `json:"id" xml:"id"`
	Reference   string               `json:"reference" xml:"reference"`
	Status      Status               `json:"status" xml:"status"`
	Source      string               `json:"source" xml:"source"`
	SubmittedAt *time.Time           `json:"submitted_at,omitempty" xml:"submittedAt,omitempty"`
	ExportedAt  time.Time            `json:"exported_at" xml:"exportedAt"`
	Authority   SubmissionAuthority  `json:"authority" xml:"authority"`
	Applicant   SubmissionApplicant  `json:"applicant" xml:"applicant"`
	Child       SubmissionChild      `json:"child" xml:"child"`
	Care        SubmissionCare       `json:"care" xml:"care"`
	Choices     []SubmissionChoice   `json:"choices" xml:"choices>choice"`
	Criteria    []SubmissionCriteria `json:"criteria" xml:"criteria>criterion"`
}

// SubmissionAuthority is the city the request was filed with (the receiving authority).
type SubmissionAuthority struct {
	TenantID uuid.UUID `json:"tenant_id" xml:"tenantId"`
	Slug     string    `json:"slug" xml:"slug"`
	Name     string    `json:"name" xml:"name"`
}

// SubmissionApplicant is the family: its guardians (the applicants) and address.
type SubmissionApplicant struct {
	FamilyID     uuid.UUID            `json:"family_id" xml:"familyId"`
	Guardians    []SubmissionGuardian `json:"guardians" xml:"guardians>guardian"`
	Street       string               `json:"street" xml:"address>street"`
	HouseNumber  string               `json:"house_number" xml:"address>houseNumber"`
	PLZ          string               `json:"plz" xml:"address>postalCode"`
	City         string               `json:"city" xml:"address>city"`
	Municipality string               `json:"municipality,omitempty" xml:"address>municipality,omitempty"`
	Resident     bool                 `json:"resident" xml:"resident"`
}

// SubmissionGuardian is one person with custody.
type SubmissionGuardian struct {
	FirstName string `json:"first_name" xml:"firstName"`
	LastName  string `json:"last_name" xml:"lastName"`
	Email     string `json:"email,omitempty" xml:"email,omitempty"`
	Phone     string `json:"phone,omitempty" xml:"phone,omitempty"`
}

// SubmissionChild is the child the place is for.
type SubmissionChild struct {
	ID        uuid.UUID `json:"id" xml:"id"`
	FirstName string    `json:"first_name" xml:"firstName"`
	LastName  string    `json:"last_name" xml:"lastName"`
	BirthDate string    `json:"birth_date" xml:"birthDate"` // the expected date before birth
	Born      bool      `json:"born" xml:"born"`
}

// SubmissionCare is the care asked for: from when, how many hours a week.
type SubmissionCare struct {
	DesiredStart string `json:"desired_start" xml:"desiredStart"`
	WeeklyHours  int    `json:"weekly_hours" xml:"weeklyHours"`
}

// SubmissionChoice is one facility in the family's order of preference.
type SubmissionChoice struct {
	Rank         int          `json:"rank" xml:"rank,attr"`
	FacilityID   uuid.UUID    `json:"facility_id" xml:"facilityId"`
	FacilityName string       `json:"facility_name" xml:"facilityName"`
	FacilityType string       `json:"facility_type" xml:"facilityType"`
	District     string       `json:"district,omitempty" xml:"district,omitempty"`
	Status       ChoiceStatus `json:"status" xml:"status"`
}

// SubmissionCriteria is one priority criterion the family claimed, with where each
// facility that must confirm it stands.
type SubmissionCriteria struct {
	Key    string            `json:"key" xml:"key,attr"`
	Label  string            `json:"label" xml:"label"`
	Value  string            `json:"value" xml:"value"`
	Scope  string            `json:"scope" xml:"scope"` // global | facility
	Claims []SubmissionClaim `json:"claims,omitempty" xml:"claims>claim,omitempty"`
}

// SubmissionClaim is a facility criterion's standing at one chosen facility.
type SubmissionClaim struct {
	FacilityID uuid.UUID   `json:"facility_id" xml:"facilityId,attr"`
	Status     ClaimStatus `json:"status" xml:"status,attr"`
}

// ExportDocument answers request id as a Submission to staff who may read it (scoped like
// Request; another city's id or one outside the caller's facilities is ErrNotFound), and
// audits it as a read of the child's data.
func (s *Service) ExportDocument(ctx context.Context, c auth.Caller, id uuid.UUID) (*Submission, error) {
	var out *Submission
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		v, err := s.staffView(ctx, tx, c, id, false)
		if err != nil {
			return err
		}
		out = submissionOf(v, c, s.clock.Now())
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionRequestDocument, ObjectKind: "application",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{v.ChildID}})
	})
	return out, database.Classify(err)
}

func submissionOf(v *StaffView, c auth.Caller, now time.Time) *Submission {
	lang := c.Lang
	if lang == "" {
		lang = "de"
	}
	out := &Submission{Schema: SubmissionSchema, ID: v.ID, Reference: v.Reference, Status: v.Status, Source: v.Source,
		SubmittedAt: v.SubmittedAt, ExportedAt: now.UTC().Truncate(time.Second),
		Authority: SubmissionAuthority{TenantID: c.Tenant.ID, Slug: c.Tenant.Slug, Name: c.Tenant.Name},
		Child: SubmissionChild{ID: v.ChildID, FirstName: v.Child.FirstName, LastName: v.Child.LastName,
			BirthDate: v.Child.BirthDate.String(), Born: v.Child.Born},
		Care:     SubmissionCare{DesiredStart: v.StartDate.String(), WeeklyHours: v.CareHours},
		Choices:  []SubmissionChoice{},
		Criteria: []SubmissionCriteria{},
	}
	if f := v.Family; f != nil {
		out.Applicant = SubmissionApplicant{FamilyID: f.ID, Street: f.Address.Street, HouseNumber: f.Address.HouseNumber,
			PLZ: f.Address.PLZ, City: f.Address.City, Municipality: f.Address.MunicipalityName, Resident: f.Resident,
			Guardians: []SubmissionGuardian{}}
		for _, g := range f.Guardians {
			out.Applicant.Guardians = append(out.Applicant.Guardians, SubmissionGuardian{FirstName: g.FirstName, LastName: g.LastName,
				Email: g.Email, Phone: g.Phone})
		}
	}
	for _, ch := range v.Choices {
		out.Choices = append(out.Choices, SubmissionChoice{Rank: ch.Rank, FacilityID: ch.Facility.ID, FacilityName: ch.Facility.Name,
			FacilityType: ch.Facility.Type, District: ch.Facility.District, Status: ch.Status})
	}
	// In the order of the city's catalogue; a key no longer in it keeps its key as label.
	seen := map[string]bool{}
	add := func(key, label, scope string) {
		value, ok := v.Application.Criteria[key]
		if !ok || seen[key] {
			return
		}
		seen[key] = true
		sc := SubmissionCriteria{Key: key, Label: label, Value: value, Scope: scope}
		for _, cl := range v.Claims {
			if cl.Criterion == key {
				sc.Claims = append(sc.Claims, SubmissionClaim{FacilityID: cl.FacilityID, Status: cl.Status})
			}
		}
		out.Criteria = append(out.Criteria, sc)
	}
	for _, cr := range c.Tenant.Rules.Criteria.Catalogue {
		scope := cr.Scope
		if scope == "" {
			scope = "global"
		}
		add(cr.Key, cr.Label.In(lang), scope)
	}
	for _, key := range slices.Sorted(maps.Keys(v.Application.Criteria)) {
		add(key, key, "global")
	}
	return out
}

// ExportJSON handles GET /api/v1/staff/requests/{id}/export.json.
func (h *Handler) ExportJSON(c *fiber.Ctx) error {
	doc, err := h.exportDocument(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+doc.fileName()+`.json"`)
	return c.JSON(doc)
}

// ExportXML handles GET /api/v1/staff/requests/{id}/export.xml.
func (h *Handler) ExportXML(c *fiber.Ctx) error {
	doc, err := h.exportDocument(c)
	if err != nil {
		return err
	}
	body, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+doc.fileName()+`.xml"`)
	c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
	return c.Send(append([]byte(xml.Header), body...))
}

func (h *Handler) exportDocument(c *fiber.Ctx) (*Submission, error) {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return nil, err
	}
	return h.s.ExportDocument(c.UserContext(), auth.CallerOf(c), id)
}

// fileName is the download's name: the reference (letters, digits and dashes only).
func (s *Submission) fileName() string {
	name := "request-" + s.ID.String()
	if s.Reference != "" {
		name = s.Reference
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, name)
}
