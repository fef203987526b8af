package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"kitaportal/internal/allocation"
)

// allocationCmd: `allocation run --market FILE [--explain]` runs the allocation engine
// on a market file (see internal/allocation.ReadMarket; "-" is standard input) and
// writes {"assignments": {child: facility or null}}, with --explain also why each child
// got what it got. It needs no database: the engine is checkable from outside.
func allocationCmd(args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		return usageError("allocation needs: run --market FILE [--explain]")
	}
	fs := flag.NewFlagSet("allocation run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	market := fs.String("market", "", "the market file (- for standard input)")
	explain := fs.Bool("explain", false, "add the explanation of every outcome")
	if err := fs.Parse(args[1:]); err != nil || *market == "" {
		return usageError("allocation run needs --market FILE")
	}
	in := stdin
	if *market != "-" {
		f, err := os.Open(*market)
		if err != nil {
			return fmt.Errorf("allocation: %w", err)
		}
		defer f.Close()
		in = f
	}
	m, err := allocation.ReadMarket(in)
	if err != nil {
		return err
	}
	r := allocation.Run(m)
	answer := map[string]any{"assignments": r.Assignments}
	if *explain {
		answer["explanations"] = r.Explanations
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", " ")
	return enc.Encode(answer)
}
