package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"kitaportal/internal/billing"
)

func billingCmd(ctx context.Context, e *env, args []string, out io.Writer) error {
	if len(args) != 3 || args[0] != "link" || !strings.HasPrefix(args[2], "cus_") {
		return usageError("billing link <slug> <stripe customer id, cus_…>")
	}
	db, err := e.openDB(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := billing.NewService(db, e.log).Link(ctx, args[1], args[2]); err != nil {
		return fmt.Errorf("billing link %s: %w", args[1], err)
	}
	fmt.Fprintf(out, "%s is billed to Stripe customer %s\n", args[1], args[2])
	return nil
}
