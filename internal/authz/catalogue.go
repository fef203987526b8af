// Package authz decides what a principal may do: casbin v2 with RBAC with domains (the
// domain is the tenant), policies kept in PostgreSQL through a small adapter over bun,
// and a permission catalogue (config/permissions.yaml) with one action per endpoint.
// Which objects an allowed action reaches — a facility lead's own facility — is decided
// by the queries of each domain (see Scope).
package authz

import (
	"fmt"
	"log/slog"
	"slices"
	"sort"

	"github.com/uptrace/bun"
	"gopkg.in/yaml.v3"

	configfiles "kitaportal/config"
)

// Staff roles.
const (
	RoleTenantAdmin = "tenant_admin"
	RoleCaseWorker  = "case_worker"
	RoleCounsellor  = "tagespflege_counsellor"
	RoleProvider    = "provider_admin"
	RoleLead        = "facility_lead"
	RoleStaff       = "facility_staff"
)

// StaffRoles lists the staff roles in the order forms offer them.
var StaffRoles = []string{RoleTenantAdmin, RoleCaseWorker, RoleCounsellor, RoleProvider, RoleLead, RoleStaff}

// IsStaffRole tells whether r is a staff role.
func IsStaffRole(r string) bool {
	for _, s := range StaffRoles {
		if s == r {
			return true
		}
	}
	return false
}

// Catalogue is the parsed permission catalogue.
type Catalogue struct {
	Roles   map[string]string   `yaml:"roles"`
	Groups  map[string][]string `yaml:"groups"`
	Actions map[string][]string `yaml:"actions"`
	// ChildData lists the actions that show personal data of children (names, birth
	// dates, requests, contracts): who holds one of them appears on the tenant admins'
	// list of who may see child data.
	ChildData []string `yaml:"child_data"`
}

// subjects that are not staff roles but may hold actions.
var pseudoSubjects = map[string]bool{"parent": true, "support": true, "operator": true, "mfa_pending": true, "machine": true}

// ParseCatalogue reads and checks config/permissions.yaml: every role an action names must
// be a staff role or one of the pseudo-subjects.
func ParseCatalogue(raw []byte) (*Catalogue, error) {
	var c Catalogue
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("authz: catalogue: %w", err)
	}
	for _, r := range StaffRoles {
		if _, ok := c.Roles[r]; !ok {
			return nil, fmt.Errorf("authz: catalogue lacks the role %s", r)
		}
	}
	for action, roles := range c.Actions {
		if len(roles) == 0 {
			return nil, fmt.Errorf("authz: action %s has no roles", action)
		}
		for _, r := range roles {
			if _, staff := c.Roles[r]; !staff && !pseudoSubjects[r] {
				return nil, fmt.Errorf("authz: action %s names unknown role %q", action, r)
			}
		}
	}
	for _, a := range c.ChildData {
		if _, ok := c.Actions[a]; !ok {
			return nil, fmt.Errorf("authz: child_data names unknown action %q", a)
		}
	}
	return &c, nil
}

// ChildDataActions answers, per staff role, the actions of ChildData it holds, sorted;
// roles holding none are left out. The list of who may see child data derives from it.
func (c *Catalogue) ChildDataActions() map[string][]string {
	out := map[string][]string{}
	for _, a := range c.ChildData {
		for _, r := range c.Actions[a] {
			if IsStaffRole(r) && !slices.Contains(out[r], a) {
				out[r] = append(out[r], a)
			}
		}
	}
	for r := range out {
		sort.Strings(out[r])
	}
	return out
}

// Has tells whether action is in the catalogue.
func (c *Catalogue) Has(action string) bool {
	_, ok := c.Actions[action]
	return ok
}

// ActionNames lists the actions, sorted.
func (c *Catalogue) ActionNames() []string {
	out := make([]string, 0, len(c.Actions))
	for a := range c.Actions {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// policyDomainAll is the domain of catalogue rules: they hold in every tenant.
const policyDomainAll = "*"

// rules turns the catalogue into casbin p rules: p, role, *, action.
func (c *Catalogue) rules() [][]string {
	var out [][]string
	for _, a := range c.ActionNames() {
		for _, r := range c.Actions[a] {
			out = append(out, []string{"p", r, policyDomainAll, a})
		}
	}
	return out
}

// NewFromConfig is New with the catalogue shipped in config/permissions.yaml.
func NewFromConfig(db bun.IDB, log *slog.Logger) (*Enforcer, error) {
	cat, err := ParseCatalogue(configfiles.Permissions)
	if err != nil {
		return nil, err
	}
	return New(db, cat, log)
}
