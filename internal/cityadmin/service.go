// Package cityadmin is the tenant admin's rules editor: every rule of the city's file as
// a form and as JSON, validated by the same validator as the file, a preview of what a
// change does to the requests already filed and of every changed field, then a new
// version of the rules with author and reason (audited), in force on every server
// process at the registry's next reload. Earlier versions can be compared with the one
// in force and restored. The rules themselves (table tenant_rules) stay with package
// tenant; the counts of affected requests come from package application.
package cityadmin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// Audit actions of the rules editor.
const (
	ActionRulesSaved    = "rules.saved"
	ActionRulesRestored = "rules.restored"
)

// MaxReason is the longest reason a version may carry (the column's limit).
const MaxReason = 1000

// Errors of the editor.
var (
	// ErrStale: another version was saved since the editor was opened; args "version"
	// is the version in force now.
	ErrStale = apperr.Conflict("rules_stale")
	// ErrReason: a version needs a reason of 1 to MaxReason characters.
	ErrReason = apperr.Invalid("reason", "rules_reason_required", map[string]any{"max": MaxReason})
	// ErrNoVersion: the city has no such version.
	ErrNoVersion = apperr.NotFound("rules_version_not_found")
	// ErrNotStaff: only a signed-in staff member (second factor given) saves rules.
	ErrNotStaff = apperr.Forbidden("forbidden")
	// ErrNoRules: the city has no rules stored yet (cannot happen for a served city).
	ErrNoRules = apperr.NotFound("rules_version_not_found")
)

// Reloader publishes stored rules to the running process (tenant.Registry).
type Reloader interface {
	Reload(ctx context.Context) error
}

// Service reads and writes a city's rules for its tenant admin.
type Service struct {
	db       bun.IDB
	registry Reloader
	clock    clock.Clock
}

// NewService returns the rules editor's service. registry may be nil (no reload after a
// save; the background reload still picks the version up).
func NewService(db bun.IDB, registry *tenant.Registry, clk clock.Clock) *Service {
	s := &Service{db: db, clock: clk}
	if registry != nil {
		s.registry = registry
	}
	return s
}

// InForce is the version of a city's rules in force: the newest stored.
type InForce struct {
	Version int           `json:"version"`
	Source  string        `json:"source"`
	Rules   *tenant.Rules `json:"rules"`
}

func tenantOf(c auth.Caller) (uuid.UUID, error) {
	if c.Tenant == nil || c.Principal == nil {
		return uuid.Nil, ErrNotStaff
	}
	return c.Tenant.ID, nil
}

// author is the staff member who saves: machines and support sessions never do.
func author(c auth.Caller) (uuid.UUID, error) {
	if c.Tenant == nil || c.Principal == nil || c.Principal.Kind != auth.KindStaff || !c.Principal.MFADone ||
		c.Principal.TenantID != c.Tenant.ID {
		return uuid.Nil, ErrNotStaff
	}
	return c.Principal.ID, nil
}

// Current reads the version in force of the caller's city.
func (s *Service) Current(ctx context.Context, c auth.Caller) (*InForce, error) {
	id, err := tenantOf(c)
	if err != nil {
		return nil, err
	}
	return s.current(ctx, s.db, id)
}

func (s *Service) current(ctx context.Context, db bun.IDB, tenantID uuid.UUID) (*InForce, error) {
	st := tenant.NewStore(db)
	vs, err := st.Versions(ctx, tenantID)
	if err != nil {
		return nil, database.Classify(err)
	}
	if len(vs) == 0 {
		return nil, ErrNoRules
	}
	r, err := st.Version(ctx, tenantID, vs[0].Version)
	if err != nil {
		return nil, database.Classify(err)
	}
	return &InForce{Version: vs[0].Version, Source: vs[0].Source, Rules: r}, nil
}

// Impact is what a change does to the requests already filed (queued: submitted and
// not yet decided). They all stay valid; the counts say how many would not be accepted
// as they are if filed today.
type Impact struct {
	// MaxChoices is set when the maximum of choices changes; Requests counts those with
	// more choices than the new maximum (only when it is lowered).
	MaxChoices *CountChange `json:"max_choices,omitempty"`
	// Lead: the longest lead time is shortened; Requests start after Latest.
	Lead *StartChange `json:"max_lead_months,omitempty"`
	// Notice: the notice period grows; Requests start before Earliest.
	Notice *StartChange `json:"notice_months,omitempty"`
	// Criteria removed from the catalogue, with the requests that claim each.
	RemovedCriteria []CriterionChange `json:"removed_criteria,omitempty"`
	// Scopes: care scopes removed; Requests book one of them.
	Scopes *ScopeChange `json:"care_scopes,omitempty"`
}

// CountChange is a number rule that changes.
type CountChange struct {
	Old      int `json:"old"`
	New      int `json:"new"`
	Requests int `json:"requests"`
}

// StartChange is a change of lead time or notice period, in months.
type StartChange struct {
	Old      int       `json:"old"`
	New      int       `json:"new"`
	Requests int       `json:"requests"`
	Earliest date.Date `json:"earliest,omitzero"`
	Latest   date.Date `json:"latest,omitzero"`
}

// CriterionChange is a criterion removed from the catalogue.
type CriterionChange struct {
	Key      string      `json:"key"`
	Label    tenant.Text `json:"label"`
	Requests int         `json:"requests"`
}

// ScopeChange lists the care scopes removed.
type ScopeChange struct {
	Removed  []int `json:"removed"`
	Requests int   `json:"requests"`
}

// RemovedText writes the removed scopes as messages list them: "20, 25".
func (s ScopeChange) RemovedText() string { return tenant.ScopesText(s.Removed) }

// Empty tells whether the change touches no rule the impact looks at.
func (i Impact) Empty() bool {
	return i.MaxChoices == nil && i.Lead == nil && i.Notice == nil && len(i.RemovedCriteria) == 0 && i.Scopes == nil
}

// Preview is what saving proposed on top of base would do.
type Preview struct {
	Base    int           `json:"base_version"`
	Changes []Change      `json:"changes"`
	Impact  Impact        `json:"impact"`
	Rules   *tenant.Rules `json:"-"`
}

// Preview validates proposed (the validator's FieldErrors, joined, when it breaks a
// rule), checks that base is still in force (ErrStale) and computes the diff and what
// the change does to the filed requests.
func (s *Service) Preview(ctx context.Context, c auth.Caller, base int, proposed *tenant.Rules) (*Preview, error) {
	id, err := tenantOf(c)
	if err != nil {
		return nil, err
	}
	cur, err := s.current(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	keep(proposed, cur.Rules)
	if err := proposed.Validate(); err != nil {
		return nil, err
	}
	if base != cur.Version {
		return nil, stale(cur.Version)
	}
	p := &Preview{Base: base, Changes: Diff(cur.Rules, proposed), Rules: proposed}
	err = database.InTenantTx(ctx, s.db, id, func(ctx context.Context, tx bun.Tx) error {
		var err error
		p.Impact, err = s.impact(ctx, tx, id, cur.Rules, proposed)
		return err
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return p, nil
}

func stale(current int) error {
	e := ErrStale.WithArgs(map[string]any{"version": current})
	e.Details = map[string]any{"current_version": current}
	return e
}

// keep sets what the editor never changes from the version in force: the city's slug
// (its subdomain) and its branding (edited on its own page).
func keep(proposed, cur *tenant.Rules) {
	proposed.Slug = cur.Slug
	proposed.Branding = cur.Branding
}

func (s *Service) impact(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, old, new *tenant.Rules) (Impact, error) {
	var im Impact
	today := date.Today(s.clock)
	if o, n := old.Registration.MaxChoices, new.Registration.MaxChoices; o != n {
		im.MaxChoices = &CountChange{Old: o, New: n}
		if n < o {
			cnt, err := application.CountOverChoices(ctx, tx, tenantID, n)
			if err != nil {
				return im, err
			}
			im.MaxChoices.Requests = cnt
		}
	}
	if o, n := old.Registration.MaxLeadMonths, new.Registration.MaxLeadMonths; n < o {
		latest := today.AddMonths(n)
		cnt, err := application.CountStartsOutside(ctx, tx, tenantID, date.Date{}, latest)
		if err != nil {
			return im, err
		}
		im.Lead = &StartChange{Old: o, New: n, Requests: cnt, Latest: latest}
	}
	if o, n := old.Registration.NoticeMonths, new.Registration.NoticeMonths; n > o {
		earliest := today.AddMonths(n)
		cnt, err := application.CountStartsOutside(ctx, tx, tenantID, earliest, date.Date{})
		if err != nil {
			return im, err
		}
		im.Notice = &StartChange{Old: o, New: n, Requests: cnt, Earliest: earliest}
	}
	var removed []string
	labels := map[string]tenant.Text{}
	for _, c := range old.Criteria.Catalogue {
		if !slices.ContainsFunc(new.Criteria.Catalogue, func(n tenant.Criterion) bool { return n.Key == c.Key }) {
			removed = append(removed, c.Key)
			labels[c.Key] = c.Label
		}
	}
	if len(removed) > 0 {
		counts, err := application.CountClaiming(ctx, tx, tenantID, removed)
		if err != nil {
			return im, err
		}
		for _, k := range removed {
			im.RemovedCriteria = append(im.RemovedCriteria, CriterionChange{Key: k, Label: labels[k], Requests: counts[k]})
		}
	}
	var gone []int
	for _, h := range old.CareScopes {
		if !slices.Contains(new.CareScopes, h) {
			gone = append(gone, h)
		}
	}
	if len(gone) > 0 {
		cnt, err := application.CountScopesOutside(ctx, tx, tenantID, new.CareScopes)
		if err != nil {
			return im, err
		}
		im.Scopes = &ScopeChange{Removed: gone, Requests: cnt}
	}
	return im, nil
}

// ParseReason checks a version's reason.
func ParseReason(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > MaxReason || !utf8.ValidString(s) {
		return "", ErrReason
	}
	return s, nil
}

// Save writes proposed as the next version if base is still in force (ErrStale
// otherwise, nothing written), audited with its reason and the changed fields, and
// publishes it to this process at once (the others follow at their next reload).
func (s *Service) Save(ctx context.Context, c auth.Caller, base int, proposed *tenant.Rules, reason string) (int, error) {
	by, err := author(c)
	if err != nil {
		return 0, err
	}
	why, reasonErr := ParseReason(reason)
	cur, err := s.current(ctx, s.db, c.Tenant.ID)
	if err != nil {
		return 0, err
	}
	keep(proposed, cur.Rules)
	if err := proposed.Validate(); err != nil {
		return 0, err
	}
	if reasonErr != nil {
		return 0, reasonErr
	}
	return s.write(ctx, c, by, base, cur, proposed, why, ActionRulesSaved, 0)
}

// Restore writes the rules of version v again as the next version (branding stays as in
// force), with reason "restore of vN: <reason>".
func (s *Service) Restore(ctx context.Context, c auth.Caller, v, base int, reason string) (int, error) {
	by, err := author(c)
	if err != nil {
		return 0, err
	}
	why, err := ParseReason(reason)
	if err != nil {
		return 0, err
	}
	cur, err := s.current(ctx, s.db, c.Tenant.ID)
	if err != nil {
		return 0, err
	}
	old, err := s.version(ctx, c.Tenant.ID, v)
	if err != nil {
		return 0, err
	}
	keep(old, cur.Rules)
	full := fmt.Sprintf("restore of v%d: %s", v, why)
	if utf8.RuneCountInString(full) > MaxReason {
		full = string([]rune(full)[:MaxReason])
	}
	return s.write(ctx, c, by, base, cur, old, full, ActionRulesRestored, v)
}

func (s *Service) write(ctx context.Context, c auth.Caller, by uuid.UUID, base int, cur *InForce, r *tenant.Rules, reason, action string, from int) (int, error) {
	if base != cur.Version {
		return 0, stale(cur.Version)
	}
	changes := Diff(cur.Rules, r)
	fields := make([]string, 0, min(len(changes), 100))
	for i, ch := range changes {
		if i == 100 {
			break
		}
		fields = append(fields, ch.Field)
	}
	var next int
	err := database.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if next, err = tenant.NewStore(tx).SaveVersion(ctx, c.Tenant.ID, base, r, by, reason); err != nil {
			return err
		}
		details := map[string]any{"version": next, "base_version": base, "reason": reason, "changes": fields}
		if from > 0 {
			details["restored_from"] = from
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: action, ObjectKind: "tenant_rules",
			ObjectID: strconv.Itoa(next), Details: details})
	})
	if errors.Is(err, tenant.ErrStaleVersion) {
		latest, cerr := s.current(ctx, s.db, c.Tenant.ID)
		if cerr != nil {
			return 0, cerr
		}
		return 0, stale(latest.Version)
	}
	if err != nil {
		return 0, database.Classify(err)
	}
	if s.registry != nil {
		// This process serves the new rules from the next request on; the others reload
		// within TENANT_RELOAD_INTERVAL. A failed reload here is no failed save.
		_ = s.registry.Reload(ctx)
	}
	return next, nil
}

func (s *Service) version(ctx context.Context, tenantID uuid.UUID, v int) (*tenant.Rules, error) {
	r, err := tenant.NewStore(s.db).Version(ctx, tenantID, v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoVersion
	}
	if err != nil {
		return nil, database.Classify(err)
	}
	return r, nil
}

// VersionRow is one stored version as the list shows it.
type VersionRow struct {
	tenant.VersionInfo
	AuthorName string `json:"author_name,omitempty"`
	InForce    bool   `json:"in_force"`
}

// SourceFile is the file a version came from ("" for one saved in the staff area).
func (v VersionRow) SourceFile() string { return strings.TrimPrefix(v.Source, "file:") }

// Versions lists the caller's city's versions, newest (in force) first, with their
// authors' names.
func (s *Service) Versions(ctx context.Context, c auth.Caller) ([]VersionRow, error) {
	id, err := tenantOf(c)
	if err != nil {
		return nil, err
	}
	vs, err := tenant.NewStore(s.db).Versions(ctx, id)
	if err != nil {
		return nil, database.Classify(err)
	}
	names := map[uuid.UUID]string{}
	out := make([]VersionRow, len(vs))
	err = database.InTenantTx(ctx, s.db, id, func(ctx context.Context, tx bun.Tx) error {
		for i, v := range vs {
			out[i] = VersionRow{VersionInfo: v, InForce: i == 0}
			if v.AuthorID == nil {
				continue
			}
			name, seen := names[*v.AuthorID]
			if !seen {
				a, err := account.ByID(ctx, tx, id, *v.AuthorID, false)
				switch {
				case errors.Is(err, account.ErrNotFound):
				case err != nil:
					return err
				default:
					name = a.Name()
				}
				names[*v.AuthorID] = name
			}
			out[i].AuthorName = name
		}
		return nil
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return out, nil
}

// Comparison is an earlier version next to the one in force.
type Comparison struct {
	Version VersionRow `json:"version"`
	Current int        `json:"current_version"`
	// Changes is what restoring the version would change: from the version in force
	// (Old) to the earlier one (New).
	Changes []Change `json:"changes"`
}

// Compare shows version v against the version in force.
func (s *Service) Compare(ctx context.Context, c auth.Caller, v int) (*Comparison, error) {
	rows, err := s.Versions(ctx, c)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(rows, func(r VersionRow) bool { return r.Version == v })
	if i < 0 {
		return nil, ErrNoVersion
	}
	cur, err := s.current(ctx, s.db, c.Tenant.ID)
	if err != nil {
		return nil, err
	}
	old, err := s.version(ctx, c.Tenant.ID, v)
	if err != nil {
		return nil, err
	}
	keep(old, cur.Rules)
	return &Comparison{Version: rows[i], Current: cur.Version, Changes: Diff(cur.Rules, old)}, nil
}
