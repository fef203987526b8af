// Package audit is the append-only record of who did what to whose data: sign-ins and
// failed sign-ins, invitations and role changes, every read and change of child or family
// data by staff, exports and support access. An entry is written in the transaction of
// the action it records, so there is no action without its entry and no entry for an
// action that was rolled back. Entries never hold passwords, tokens or health details.
// Tenant admins read the log on its page and through the API (handler.go); reading it is
// audited too.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
)

// Actions. The names are stable: filters and reports use them.
const (
	ActionLogin            = "auth.login"
	ActionLoginFailed      = "auth.login_failed"
	ActionLogout           = "auth.logout"
	ActionMFAFailed        = "auth.mfa_failed"
	ActionMFAEnrolled      = "auth.mfa_enrolled"
	ActionRecoveryCodeUsed = "auth.recovery_code_used"
	ActionPasswordChanged  = "auth.password_changed"
	ActionPasswordReset    = "auth.password_reset"
	ActionEmailChanged     = "auth.email_changed"
	ActionTokenIssued      = "auth.api_token_issued"
	ActionRegistered       = "account.registered"
	ActionVerified         = "account.verified"
	ActionProfileChanged   = "account.profile_changed"
	ActionAccountDeleted   = "account.deleted"
	ActionStaffInvited     = "staff.invited"
	ActionInvitationUsed   = "staff.invitation_accepted"
	ActionRoleGranted      = "staff.role_granted"
	ActionRoleRevoked      = "staff.role_revoked"
	ActionStaffDisabled    = "staff.disabled"
	ActionRoleChanged      = "staff.role_changed"      // role and scope in one step
	ActionMFAReset         = "staff.mfa_reset"         // second factor reset by an admin, with the reason
	ActionBrandingChanged  = "tenant.branding_changed" // a new rules version from the branding editor
	ActionChildRead        = "child.read"
	ActionChildrenListed   = "children.listed"
	ActionAuditRead        = "audit.read"
	ActionExport           = "export.created" // for the exports of later features (DSGVO export, reports)
	ActionSupportStarted   = "support.started"
	ActionSupportEntered   = "support.entered"
	ActionSupportEnded     = "support.ended"
	ActionTenantStatus     = "tenant.status_changed"
)

// Actor is who acted.
type Actor struct {
	Kind      string // anonymous, parent, staff, operator, system
	ID        uuid.UUID
	Label     string
	IP        netip.Addr
	RequestID string
}

// By describes the caller of a service as the actor.
func By(c auth.Caller) Actor { return ActorOf(c.Principal, c.IP, c.RequestID) }

// ActorOf describes a principal (nil: anonymous) at a client address.
func ActorOf(p *auth.Principal, ip netip.Addr, requestID string) Actor {
	a := Actor{Kind: "anonymous", IP: ip, RequestID: requestID}
	if p != nil {
		a.Kind, a.ID, a.Label = string(p.Kind), p.ID, p.Label()
		if p.Kind == auth.KindSupport {
			a.Kind = "operator"
		}
	}
	return a
}

// Event is what happened.
type Event struct {
	Action     string
	ObjectKind string // child, family, facility, account, staff_role, support_access, …
	ObjectID   string
	ChildIDs   []uuid.UUID // every child whose data the action showed or changed
	Details    map[string]any
}

// forbiddenDetail names keys that must never reach the log; a caller passing one is a bug.
var forbiddenDetail = []string{"password", "token", "secret", "code", "health", "diagnos", "medical", "allerg"}

func checkDetails(d map[string]any) error {
	for k := range d {
		lk := strings.ToLower(k)
		for _, f := range forbiddenDetail {
			if strings.Contains(lk, f) {
				return fmt.Errorf("audit: detail %q must not be logged", k)
			}
		}
	}
	return nil
}

// Record writes one entry in tx, the transaction of the action.
func Record(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, a Actor, e Event) error {
	if err := checkDetails(e.Details); err != nil {
		return err
	}
	details, err := json.Marshal(orEmpty(e.Details))
	if err != nil {
		return fmt.Errorf("audit: details: %w", err)
	}
	children := e.ChildIDs
	if children == nil {
		children = []uuid.UUID{}
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO audit_event (tenant_id, id, actor_kind, actor_id, actor_label, action, object_kind, object_id, child_ids, ip, request_id, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tenantID, uuid.Must(uuid.NewV7()), a.Kind, nullID(a.ID), a.Label, e.Action, e.ObjectKind, e.ObjectID,
		pgdialect.Array(children), nullIP(a.IP), a.RequestID, string(details))
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// RecordOperator writes an entry of the operators' own log (platform actions); tenantID
// names the tenant concerned, if any.
func RecordOperator(ctx context.Context, tx bun.IDB, a Actor, action string, tenantID *uuid.UUID, details map[string]any) error {
	if err := checkDetails(details); err != nil {
		return err
	}
	raw, err := json.Marshal(orEmpty(details))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO operator_audit_event (id, operator_id, actor_label, action, tenant_id, ip, request_id, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		uuid.Must(uuid.NewV7()), nullID(a.ID), a.Label, action, tenantID, nullIP(a.IP), a.RequestID, string(raw))
	if err != nil {
		return fmt.Errorf("operator audit %s: %w", action, err)
	}
	return nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func nullID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func nullIP(a netip.Addr) *string {
	if !a.IsValid() || a.IsUnspecified() {
		return nil
	}
	s := a.String()
	return &s
}

// Entry is one stored event.
type Entry struct {
	ID         uuid.UUID      `bun:"id" json:"id"`
	At         time.Time      `bun:"at" json:"at"`
	ActorKind  string         `bun:"actor_kind" json:"actor_kind"`
	ActorID    *uuid.UUID     `bun:"actor_id" json:"actor_id,omitempty"`
	ActorLabel string         `bun:"actor_label" json:"actor_label,omitempty"`
	Action     string         `bun:"action" json:"action"`
	ObjectKind string         `bun:"object_kind" json:"object_kind,omitempty"`
	ObjectID   string         `bun:"object_id" json:"object_id,omitempty"`
	ChildIDs   []uuid.UUID    `bun:"child_ids,array" json:"child_ids,omitempty"`
	IP         *string        `bun:"ip" json:"ip,omitempty"`
	Details    map[string]any `bun:"details,type:jsonb" json:"details,omitempty"`
	// ChildCount is how many children the entry names; with Filter.Brief, ChildIDs holds
	// only the first BriefChildren of them.
	ChildCount int `bun:"child_count" json:"child_count,omitempty"`
	// DetailsText is the details as JSON text cut to BriefDetails characters (with "…"
	// when cut); only with Filter.Brief, which leaves Details empty.
	DetailsText string `bun:"details_text" json:"-"`
}

// MoreChildren is how many of the entry's children ChildIDs leaves out.
func (e Entry) MoreChildren() int { return max(0, e.ChildCount-len(e.ChildIDs)) }

// What a brief listing (a page for people) shows of each entry at most, so that one
// entry naming thousands of children or carrying a large detail cannot swell the page.
const (
	BriefChildren = 10
	BriefDetails  = 300
	briefText     = 200 // actor label, object id
)

// Filter narrows a listing. Zero fields do not filter.
type Filter struct {
	Actor  string    // an actor's e-mail (part of it) or id
	Action string    // an action or its prefix ("auth.")
	Child  uuid.UUID // entries that showed or changed this child's data
	Object string    // an object id (facility, account, …)
	From   date.Date // inclusive, German calendar days
	To     date.Date // inclusive
	Before string    // cursor from the previous page
	Limit  int
	Brief  bool // cap what each entry carries (BriefChildren, BriefDetails) for a page
}

// MaxPage is the largest page a listing returns.
const MaxPage = 200

// List returns the newest entries of the tenant matching f, and the cursor of the next
// page ("" when this is the last). tx is the caller's tenant transaction, which also
// records that the log was read.
func List(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, f Filter) ([]Entry, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxPage {
		limit = 50
	}
	q := strings.Builder{}
	var args []any
	if f.Brief {
		q.WriteString(`SELECT id, at, actor_kind, actor_id, left(actor_label, ?) AS actor_label, action, object_kind,
			left(object_id, ?) AS object_id, child_ids[1:?] AS child_ids, cardinality(child_ids) AS child_count, host(ip) AS ip,
			left(details::text, ?) AS details_text
			FROM audit_event WHERE tenant_id = ?`)
		args = append(args, briefText, briefText, BriefChildren, BriefDetails+1, tenantID)
	} else {
		q.WriteString(`SELECT id, at, actor_kind, actor_id, actor_label, action, object_kind, object_id, child_ids,
			cardinality(child_ids) AS child_count, host(ip) AS ip, details
			FROM audit_event WHERE tenant_id = ?`)
		args = append(args, tenantID)
	}
	if f.Actor != "" {
		if id, err := uuid.Parse(f.Actor); err == nil {
			q.WriteString(` AND actor_id = ?`)
			args = append(args, id)
		} else {
			q.WriteString(` AND actor_label ILIKE ?`)
			args = append(args, "%"+escapeLike(f.Actor)+"%")
		}
	}
	if f.Action != "" {
		q.WriteString(` AND (action = ? OR action LIKE ?)`)
		args = append(args, f.Action, escapeLike(strings.TrimSuffix(f.Action, "."))+".%")
	}
	if f.Child != uuid.Nil {
		q.WriteString(` AND child_ids @> ?`)
		args = append(args, pgdialect.Array([]uuid.UUID{f.Child}))
	}
	if f.Object != "" {
		q.WriteString(` AND object_id = ?`)
		args = append(args, f.Object)
	}
	if !f.From.IsZero() {
		q.WriteString(` AND at >= ?`)
		args = append(args, dayStart(f.From))
	}
	if !f.To.IsZero() {
		q.WriteString(` AND at < ?`)
		args = append(args, dayStart(f.To.AddDays(1)))
	}
	if at, id, ok := parseCursor(f.Before); ok {
		q.WriteString(` AND (at, id) < (?, ?)`)
		args = append(args, at, id)
	}
	q.WriteString(` ORDER BY at DESC, id DESC LIMIT ?`)
	args = append(args, limit+1)
	var out []Entry
	if err := tx.NewRaw(q.String(), args...).Scan(ctx, &out); err != nil {
		return nil, "", fmt.Errorf("audit: list: %w", err)
	}
	for i := range out {
		if r := []rune(out[i].DetailsText); len(r) > BriefDetails {
			out[i].DetailsText = string(r[:BriefDetails]) + "…"
		}
		if out[i].DetailsText == "{}" {
			out[i].DetailsText = ""
		}
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = last.At.UTC().Format(time.RFC3339Nano) + "_" + last.ID.String()
	}
	return out, next, nil
}

func dayStart(d date.Date) time.Time {
	t := d.Time()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, clock.Berlin)
}

func parseCursor(s string) (time.Time, uuid.UUID, bool) {
	at, id, ok := strings.Cut(s, "_")
	if !ok {
		return time.Time{}, uuid.Nil, false
	}
	t, err1 := time.Parse(time.RFC3339Nano, at)
	u, err2 := uuid.Parse(id)
	return t, u, err1 == nil && err2 == nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
