package authz

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Adapter stores casbin rules in the casbin_rule table (persist.Adapter). A grouping rule
// (g, subject, role, domain) also carries its domain as tenant_id, for row-level security.
type Adapter struct {
	db bun.IDB
}

// NewAdapter returns an adapter over db.
func NewAdapter(db bun.IDB) *Adapter { return &Adapter{db: db} }

var _ persist.Adapter = (*Adapter)(nil)

type ruleRow struct {
	PType string `bun:"ptype"`
	V0    string `bun:"v0"`
	V1    string `bun:"v1"`
	V2    string `bun:"v2"`
	V3    string `bun:"v3"`
	V4    string `bun:"v4"`
	V5    string `bun:"v5"`
}

func (r ruleRow) line() []string {
	l := []string{r.PType, r.V0, r.V1, r.V2, r.V3, r.V4, r.V5}
	for len(l) > 1 && l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}

func row(ptype string, rule []string) (ruleRow, error) {
	if len(rule) > 6 {
		return ruleRow{}, fmt.Errorf("authz: rule with %d fields", len(rule))
	}
	v := make([]string, 6)
	copy(v, rule)
	return ruleRow{ptype, v[0], v[1], v[2], v[3], v[4], v[5]}, nil
}

// tenantOf is the tenant_id column of a rule: the domain of a grouping rule.
func tenantOf(r ruleRow) (*uuid.UUID, error) {
	if !strings.HasPrefix(r.PType, "g") {
		return nil, nil
	}
	id, err := uuid.Parse(r.V2)
	if err != nil {
		return nil, fmt.Errorf("authz: grouping rule without a tenant domain: %q", r.V2)
	}
	return &id, nil
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// LoadPolicy loads every rule.
func (a *Adapter) LoadPolicy(m model.Model) error {
	c, cancel := ctx()
	defer cancel()
	var rows []ruleRow
	if err := a.db.NewRaw(`SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rule ORDER BY id`).Scan(c, &rows); err != nil {
		return fmt.Errorf("authz: load rules: %w", err)
	}
	for _, r := range rows {
		if err := persist.LoadPolicyArray(r.line(), m); err != nil {
			return err
		}
	}
	return nil
}

// SavePolicy replaces every stored rule with the model's.
func (a *Adapter) SavePolicy(m model.Model) error {
	c, cancel := ctx()
	defer cancel()
	return a.db.RunInTx(c, nil, func(c context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(c, `DELETE FROM casbin_rule`); err != nil {
			return err
		}
		for _, sec := range []string{"p", "g"} {
			for ptype, ast := range m[sec] {
				for _, rule := range ast.Policy {
					if err := insertRule(c, tx, ptype, rule); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// AddPolicy stores one rule.
func (a *Adapter) AddPolicy(_ string, ptype string, rule []string) error {
	c, cancel := ctx()
	defer cancel()
	return insertRule(c, a.db, ptype, rule)
}

// RemovePolicy deletes one rule.
func (a *Adapter) RemovePolicy(_ string, ptype string, rule []string) error {
	c, cancel := ctx()
	defer cancel()
	return deleteRule(c, a.db, ptype, rule)
}

// RemoveFilteredPolicy deletes the rules whose fields from fieldIndex on equal the
// non-empty fieldValues.
func (a *Adapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	c, cancel := ctx()
	defer cancel()
	q, args := "DELETE FROM casbin_rule WHERE ptype = ?", []any{ptype}
	for i, v := range fieldValues {
		if v != "" && fieldIndex+i < 6 {
			q += fmt.Sprintf(" AND v%d = ?", fieldIndex+i)
			args = append(args, v)
		}
	}
	_, err := a.db.ExecContext(c, q, args...)
	return err
}

func insertRule(ctx context.Context, db bun.IDB, ptype string, rule []string) error {
	r, err := row(ptype, rule)
	if err != nil {
		return err
	}
	tenant, err := tenantOf(r)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `
		INSERT INTO casbin_rule (tenant_id, ptype, v0, v1, v2, v3, v4, v5) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, tenant, r.PType, r.V0, r.V1, r.V2, r.V3, r.V4, r.V5)
	return err
}

func deleteRule(ctx context.Context, db bun.IDB, ptype string, rule []string) error {
	r, err := row(ptype, rule)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `DELETE FROM casbin_rule WHERE ptype = ? AND v0 = ? AND v1 = ? AND v2 = ? AND v3 = ? AND v4 = ? AND v5 = ?`,
		r.PType, r.V0, r.V1, r.V2, r.V3, r.V4, r.V5)
	return err
}
