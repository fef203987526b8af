package database

import (
	"context"
	"errors"

	"github.com/uptrace/bun"
)

// Savepoint runs fn inside a savepoint of tx: when fn fails, only what fn changed is
// undone and tx can go on (an import reports a bad row and checks the next one).
func Savepoint(ctx context.Context, tx bun.Tx, fn func() error) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT kp_step"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT kp_step"); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT kp_step")
	return err
}
