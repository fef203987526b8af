package auth

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// EndSupport deletes every session of a support access (the access ended).
func (s *Sessions) EndSupport(ctx context.Context, tx bun.IDB, tenantID, supportID uuid.UUID) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM auth_session WHERE tenant_id = ? AND support_id = ?`, tenantID, supportID)
	return err
}
