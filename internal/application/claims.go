package application

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/tenant"
)

// Facility criteria (scope: facility in the city's rules, e.g. "sibling attends the
// facility") are claims the family makes for one of its chosen facilities: the answer
// in Application.Criteria is that facility's id. The facility confirms or rejects the
// claim (staff of that facility allowed to decide its requests); only a confirmed claim
// counts, and only at its facility. A pending claim counts nowhere, so an unchecked
// answer moves no child ahead of another, but the facility's list shows it as pending.
// The decision belongs to the pair (criterion, facility): a family that names another
// facility afterwards has a pending claim there.

// ClaimStatus is where a facility stands on a claim made for it.
type ClaimStatus string

// Claim statuses. Pending is the absence of a decision.
const (
	ClaimPending   ClaimStatus = "pending"
	ClaimConfirmed ClaimStatus = "confirmed"
	ClaimRejected  ClaimStatus = "rejected"
)

// ClaimKey names one decision: a criterion at a facility.
type ClaimKey struct {
	Criterion string
	Facility  uuid.UUID
}

// Decision is a facility's answer to a claim.
type Decision struct {
	Status ClaimStatus `json:"status"`
	Note   string      `json:"note"`
	At     time.Time   `json:"decided_at"`
}

// Decisions are the facilities' answers to the claims of one request.
type Decisions map[ClaimKey]Decision

// Claim is a facility criterion the family claims for one of its chosen facilities,
// with where that facility stands on it.
type Claim struct {
	Criterion  string      `json:"criterion"`
	FacilityID uuid.UUID   `json:"facility_id"`
	Facility   string      `json:"facility,omitempty"`
	Points     int         `json:"points"`
	Status     ClaimStatus `json:"status"`
	Note       string      `json:"note,omitempty"`
	DecidedAt  *time.Time  `json:"decided_at,omitempty"`
}

// isFacilityCriterion tells whether c counts only where a facility confirms it.
func isFacilityCriterion(c tenant.Criterion) bool { return c.Scope == "facility" }

// claimedAt is the facility a facility criterion's answer names; false for an answer
// that names none (a plain "yes").
func claimedAt(val string) (uuid.UUID, bool) {
	id, err := uuid.Parse(val)
	return id, err == nil && id != uuid.Nil
}

// PointsAt sums what counts for a request at facility f: the global criteria the family
// claims, and the facility criteria it claims for f that f confirmed. A pending or
// rejected claim counts nowhere, a claim for another facility not at f.
func PointsAt(r *tenant.Rules, criteria map[string]string, f uuid.UUID, d Decisions) int {
	n := Points(r, criteria)
	for key, val := range criteria {
		c, ok := criterion(r, key)
		if !ok || !isFacilityCriterion(c) {
			continue
		}
		if at, ok := claimedAt(val); ok && at == f && d[ClaimKey{key, f}].Status == ClaimConfirmed {
			n += c.Points
		}
	}
	return n
}

// claimsOf lists the facility claims among criteria, in the catalogue's order, with the
// facilities' decisions; names maps facility ids to names.
func claimsOf(r *tenant.Rules, criteria map[string]string, d Decisions, names func(uuid.UUID) string) []Claim {
	var out []Claim
	for _, c := range r.Criteria.Catalogue {
		val, claimed := criteria[c.Key]
		if !claimed || !isFacilityCriterion(c) {
			continue
		}
		cl := Claim{Criterion: c.Key, Points: c.Points, Status: ClaimPending}
		if at, ok := claimedAt(val); ok {
			cl.FacilityID, cl.Facility = at, names(at)
			if dec, ok := d[ClaimKey{c.Key, at}]; ok {
				at := dec.At
				cl.Status, cl.Note, cl.DecidedAt = dec.Status, dec.Note, &at
			}
		}
		out = append(out, cl)
	}
	return out
}

// claimsAt are the claims made for facility f.
func claimsAt(claims []Claim, f uuid.UUID) []Claim {
	var out []Claim
	for _, cl := range claims {
		if cl.FacilityID == f {
			out = append(out, cl)
		}
	}
	return out
}

// decisionJSON is a decision as appColumns reads it.
type decisionJSON struct {
	Criterion string      `json:"criterion"`
	Facility  uuid.UUID   `json:"facility_id"`
	Status    ClaimStatus `json:"status"`
	Note      string      `json:"note"`
	At        time.Time   `json:"decided_at"`
}

// claimColumn reads a request's decisions as a JSON array (beside appColumns).
const claimColumn = `coalesce((SELECT jsonb_agg(jsonb_build_object('criterion', k.criterion, 'facility_id', k.facility_id,
		'status', k.status, 'note', k.note, 'decided_at', k.decided_at))
		FROM application_claim k WHERE k.tenant_id = a.tenant_id AND k.application_id = a.id), '[]') AS claims_json`

func decisionsOf(raw json.RawMessage) (Decisions, error) {
	d := Decisions{}
	if len(raw) == 0 {
		return d, nil
	}
	var rows []decisionJSON
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("read claims: %w", err)
	}
	for _, r := range rows {
		d[ClaimKey{r.Criterion, r.Facility}] = Decision{Status: r.Status, Note: r.Note, At: r.At}
	}
	return d, nil
}

// decisionsFor reads the decisions of the requests ids.
func decisionsFor(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]Decisions, error) {
	out := map[uuid.UUID]Decisions{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		App       uuid.UUID   `bun:"application_id"`
		Criterion string      `bun:"criterion"`
		Facility  uuid.UUID   `bun:"facility_id"`
		Status    ClaimStatus `bun:"status"`
		Note      string      `bun:"note"`
		At        time.Time   `bun:"decided_at"`
	}
	if err := tx.NewRaw(`SELECT application_id, criterion, facility_id, status, note, decided_at FROM application_claim
		WHERE tenant_id = ? AND application_id = ANY(?::uuid[])`, tenantID, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read claims: %w", err)
	}
	for _, r := range rows {
		if out[r.App] == nil {
			out[r.App] = Decisions{}
		}
		out[r.App][ClaimKey{r.Criterion, r.Facility}] = Decision{Status: r.Status, Note: r.Note, At: r.At}
	}
	return out, nil
}

// scoreRows sets each row's points at its facility and the claims made for it.
func scoreRows(ctx context.Context, tx bun.IDB, t *tenant.Tenant, rows []RequestRow) error {
	seen := map[uuid.UUID]bool{}
	var ids []uuid.UUID
	for _, r := range rows {
		if !seen[r.ApplicationID] && hasFacilityClaim(t.Rules, r.Criteria) {
			seen[r.ApplicationID] = true
			ids = append(ids, r.ApplicationID)
		}
	}
	decided, err := decisionsFor(ctx, tx, t.ID, ids)
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		d := decided[r.ApplicationID]
		r.Points = PointsAt(t.Rules, r.Criteria, r.FacilityID, d)
		r.Claims = claimsAt(claimsOf(t.Rules, r.Criteria, d, func(uuid.UUID) string { return r.Facility }), r.FacilityID)
	}
	return nil
}

func hasFacilityClaim(r *tenant.Rules, criteria map[string]string) bool {
	for key := range criteria {
		if c, ok := criterion(r, key); ok && isFacilityCriterion(c) {
			return true
		}
	}
	return false
}

// ConfirmedClaims are, per request of ids, the facility criteria its family claims that
// the facility named confirmed: criterion key → facility. An allocation round freezes
// them beside the requests (in the caller's transaction, so in its consistent view).
func ConfirmedClaims(ctx context.Context, tx bun.IDB, t *tenant.Tenant, ids []uuid.UUID) (map[uuid.UUID]map[string]uuid.UUID, error) {
	out := map[uuid.UUID]map[string]uuid.UUID{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		App       uuid.UUID `bun:"application_id"`
		Criterion string    `bun:"criterion"`
		Facility  uuid.UUID `bun:"facility_id"`
	}
	// Only the decision for the facility the answer names now counts.
	if err := tx.NewRaw(`SELECT k.application_id, k.criterion, k.facility_id FROM application_claim k
		JOIN application a ON a.tenant_id = k.tenant_id AND a.id = k.application_id
		WHERE k.tenant_id = ? AND k.application_id = ANY(?::uuid[]) AND k.status = ?
		AND a.criteria ->> k.criterion = k.facility_id::text`,
		t.ID, pgdialect.Array(ids), ClaimConfirmed).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("confirmed claims: %w", err)
	}
	for _, r := range rows {
		if c, ok := criterion(t.Rules, r.Criterion); !ok || !isFacilityCriterion(c) {
			continue
		}
		if out[r.App] == nil {
			out[r.App] = map[string]uuid.UUID{}
		}
		out[r.App][r.Criterion] = r.Facility
	}
	return out, nil
}

// Decisions on a claim.
const (
	ClaimConfirm = "confirm"
	ClaimReject  = "reject"
)

// ActionClaimDecided is the audit action of a decision on a claim.
const ActionClaimDecided = "request.claim_decided"

// Errors of claim decisions.
var (
	ErrClaimNotFound      = apperr.NotFound("claim_not_found")
	ErrClaimOtherFacility = apperr.Forbidden("claim_other_facility")
)

// DecideClaim records a facility's decision on a facility criterion claimed for it:
// confirmed, or rejected with a reason. A decision may be changed later, with a reason.
// The change is audited and written into the request's history; the same decision
// again changes nothing.
//
// Who may not decide, or asks about a request or claim they do not reach, learns that
// before anything about their input.
func (s *Service) DecideClaim(ctx context.Context, c auth.Caller, id uuid.UUID, key, decision, note string) (*StaffView, error) {
	if cr, ok := criterion(c.Tenant.Rules, key); !ok || !isFacilityCriterion(cr) {
		return nil, ErrClaimNotFound
	}
	if c.Principal == nil || c.Principal.Kind != auth.KindStaff {
		return nil, apperr.Forbidden("forbidden")
	}
	now := s.now()
	var out *StaffView
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		v, err := s.staffView(ctx, tx, c, id, true)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(v.claims, func(cl Claim) bool { return cl.Criterion == key })
		if i < 0 || v.claims[i].FacilityID == uuid.Nil {
			return ErrClaimNotFound
		}
		cl := v.claims[i]
		if !v.CanClaim[key] {
			if !v.inScope[cl.FacilityID] {
				return ErrClaimOtherFacility
			}
			return apperr.Conflict("claim_not_decidable")
		}
		note, err := auth.FreeText("note", note, 0, 1000)
		if err != nil {
			return err
		}
		to := map[string]ClaimStatus{ClaimConfirm: ClaimConfirmed, ClaimReject: ClaimRejected}[decision]
		if to == "" {
			return apperr.Invalid("decision", "claim_decision_unknown", nil)
		}
		if cl.Status == to {
			out = v
			return nil
		}
		if note == "" && (to == ClaimRejected || cl.Status != ClaimPending) {
			return apperr.Invalid("note", "claim_reason_required", nil)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO application_claim (tenant_id, application_id, criterion, facility_id, status, note, decided_by, decided_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, application_id, criterion, facility_id)
			DO UPDATE SET status = EXCLUDED.status, note = EXCLUDED.note, decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at`,
			c.Tenant.ID, id, key, cl.FacilityID, to, note, c.Principal.ID, now); err != nil {
			return fmt.Errorf("claim decision: %w", err)
		}
		entry := strings.TrimSpace(cl.Facility + ": " + key + " " + string(to) + " " + note)
		if err := record(ctx, tx, c.Tenant.ID, id, Actor{Kind: "staff", ID: c.Principal.ID}, v.Status, entry, now); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionClaimDecided, ObjectKind: "application",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{v.ChildID}, Details: map[string]any{"criterion": key,
				"facility_id": cl.FacilityID.String(), "from": string(cl.Status), "to": string(to)}}); err != nil {
			return err
		}
		out, err = s.staffView(ctx, tx, c, id, false)
		return err
	})
	return out, database.Classify(err)
}

// viewClaims fills v's claims for staff: which the caller may decide (a facility in
// scope, the permission to decide its requests, the request still queued), and, when
// hide (the facility does not see the family's other choices), only the claims and
// answers that name a facility in scope.
func (s *Service) viewClaims(v *StaffView, c auth.Caller, scoped []uuid.UUID, hide bool) {
	a := v.Application
	v.claims, v.inScope, v.CanClaim = a.Claims, map[uuid.UUID]bool{}, map[string]bool{}
	for _, id := range scoped {
		v.inScope[id] = true
	}
	may := c.Principal.Kind == auth.KindStaff && a.Status.In(Queued) && s.authz != nil &&
		s.authz.Allowed(c.Principal, c.Tenant.ID.String(), "requests.decide")
	var kept []Claim
	for _, cl := range a.Claims {
		if cl.FacilityID != uuid.Nil && !v.inScope[cl.FacilityID] && hide {
			delete(a.Criteria, cl.Criterion) // it names a choice the facility does not see
			continue
		}
		kept = append(kept, cl)
		if may && v.inScope[cl.FacilityID] {
			v.CanClaim[cl.Criterion] = true
		}
	}
	a.Claims = kept
}
