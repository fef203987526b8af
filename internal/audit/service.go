package audit

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/database"
)

// Service reads the tenant's audit log for the audit page and API.
type Service struct {
	db bun.IDB
}

// NewService returns the audit log reader.
func NewService(db bun.IDB) *Service { return &Service{db: db} }

// AuditLog lists the tenant's audit log for a tenant admin; looking is itself audited.
func (s *Service) AuditLog(ctx context.Context, c auth.Caller, f Filter) ([]Entry, string, error) {
	var entries []Entry
	var next string
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if entries, next, err = List(ctx, tx, c.Tenant.ID, f); err != nil {
			return err
		}
		d := map[string]any{"results": len(entries)}
		if f.Child != uuid.Nil {
			d["child_id"] = f.Child
		}
		if f.Action != "" {
			d["action"] = f.Action
		}
		ev := Event{Action: ActionAuditRead, Details: d}
		if f.Child != uuid.Nil {
			ev.ChildIDs = []uuid.UUID{f.Child}
		}
		return Record(ctx, tx, c.Tenant.ID, By(c), ev)
	})
	return entries, next, err
}
