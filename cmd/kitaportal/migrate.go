package main

import (
	"context"
	"fmt"
	"io"

	"kitaportal/internal/platform/database"
	"kitaportal/migrations"
)

func migrateCmd(ctx context.Context, e *env, args []string, out io.Writer) error {
	if len(args) != 1 {
		return usageError("migrate needs one of: up, down, status")
	}
	db, err := e.openDB(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := database.NewMigrator(db, migrations.FS)
	if err != nil {
		return err
	}
	switch args[0] {
	case "up":
		names, err := m.Up(ctx)
		for _, n := range names {
			fmt.Fprintln(out, "applied", n)
		}
		if err == nil && len(names) == 0 {
			fmt.Fprintln(out, "database is up to date")
		}
		return err
	case "down":
		names, err := m.Down(ctx)
		for _, n := range names {
			fmt.Fprintln(out, "rolled back", n)
		}
		if err == nil && len(names) == 0 {
			fmt.Fprintln(out, "nothing to roll back")
		}
		return err
	case "status":
		ms, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, mig := range ms {
			state := "pending"
			if mig.IsApplied() {
				state = fmt.Sprintf("applied (group %d)", mig.GroupID)
			}
			fmt.Fprintf(out, "%-40s %s\n", mig.String(), state)
		}
		return nil
	default:
		return usageError(fmt.Sprintf("migrate: unknown action %q", args[0]))
	}
}
