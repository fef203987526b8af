package account

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// CreateStaff creates a pending staff account (invited, no password yet) and answers its id.
func CreateStaff(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, email, firstName, lastName string, now time.Time) (uuid.UUID, error) {
	id := uuid.Must(uuid.NewV7())
	if _, err := tx.ExecContext(ctx, `INSERT INTO account (tenant_id, id, kind, email, status, first_name, last_name, language, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'de', ?, ?)`, tenantID, id, KindStaff, email, StatusPending, firstName, lastName, now, now); err != nil {
		return uuid.Nil, fmt.Errorf("create staff account: %w", err)
	}
	return id, nil
}

// ActivateInvited sets the password of a pending account and makes it active; false when
// the account is not pending.
func ActivateInvited(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, passwordHash string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE account SET status = ?, password_hash = ?, email_verified_at = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ? AND status = ?`, StatusActive, passwordHash, now, now, tenantID, id, StatusPending)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Disable locks an account out (its sessions and roles are the caller's to end).
func Disable(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE account SET status = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		StatusDisabled, now, tenantID, id)
	return err
}

// StaffAccounts lists the tenant's staff accounts that are not deleted, by name.
func StaffAccounts(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) ([]Account, error) {
	var out []Account
	err := tx.NewRaw(`SELECT `+accountColumns+` FROM account WHERE tenant_id = ? AND kind = ? AND status <> ?
		ORDER BY last_name, first_name, email`, tenantID, KindStaff, StatusDeleted).Scan(ctx, &out)
	return out, err
}

// CountOnBoard counts the accounts among ids that are active or pending (not disabled or
// deleted).
func CountOnBoard(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM account WHERE tenant_id = ? AND id = ANY(?::uuid[]) AND status IN (?, ?)`,
		tenantID, pgdialect.Array(ids), StatusActive, StatusPending).Scan(&n)
	return n, err
}

// SetTOTPSecret stores a staff account's sealed, not yet confirmed TOTP secret.
func SetTOTPSecret(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, sealed []byte) error {
	_, err := tx.ExecContext(ctx, `UPDATE account SET totp_secret = ? WHERE tenant_id = ? AND id = ?`, sealed, tenantID, id)
	return err
}

// EnableTOTP switches the second factor on, with the time step of the confirming code.
func EnableTOTP(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, now time.Time, step int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE account SET totp_enabled_at = ?, totp_last_step = ? WHERE tenant_id = ? AND id = ?`,
		now, step, tenantID, id)
	return err
}

// UseTOTPStep records the time step of an accepted code, so that code works only once.
func UseTOTPStep(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, step int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE account SET totp_last_step = ? WHERE tenant_id = ? AND id = ?`, step, tenantID, id)
	return err
}

// ResetTOTP switches a staff account's second factor off and forgets its secret: the
// member sets up a new one at the next sign-in. It answers false when the account had
// none to reset.
func ResetTOTP(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE account SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = 0, updated_at = ?
		WHERE tenant_id = ? AND id = ? AND totp_enabled_at IS NOT NULL`, now, tenantID, id)
	if err != nil {
		return false, fmt.Errorf("reset totp: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
