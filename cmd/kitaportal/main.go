// Command kitaportal is the whole product in one binary:
//
//	kitaportal serve                 HTTP portal for every tenant
//	kitaportal worker                background jobs (asynq), outbox relay, scheduler
//	kitaportal migrate up|down|status
//	kitaportal tenants sync|list|suspend <slug> [note]|resume <slug>|activate <slug>
//	kitaportal seed [slug …]         demo data for the seed cities
//	kitaportal billing link <slug> <stripe customer id>
//	kitaportal operators add <email> <name>
//	kitaportal availability rebuild [slug …]
//	kitaportal allocation run --market FILE   the allocation engine on a market file
//	kitaportal dev                   everything in one process for local use
//
// Configuration comes from environment variables; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kitaportal:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError string

func (u usageError) Error() string { return string(u) + "\n" + usage }

const usage = `usage: kitaportal <command>
  serve                          run the HTTP portal
  worker                         run background jobs, outbox relay and scheduler
  migrate up|down|status         change or show the database schema
  tenants sync                   load tenants/*.yaml, validate, store
  tenants list                   show tenants, status and rules version
  tenants suspend <slug> [note]  pause a portal (data is kept)
  tenants resume <slug>          reopen a paused portal (take it live: needs imprint and privacy URLs)
  tenants activate <slug>        take a city out of onboarding (same check)
  billing link <slug> <cus_…>    record which Stripe customer pays for a city
  seed [slug ...]                write demo data (default: all demo cities; demo accounts outside production)
  operators add <email> <name>   create an operator of the console (prints password and TOTP secret once)
  availability rebuild [slug ...] recompute expected free places (default: all tenants)
  allocation run --market FILE   run the allocation engine on a market file (- for stdin; --explain)
  dev                            migrate, sync, seed, serve and work in one process`

func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("no command given")
	}
	if args[0] == "allocation" { // pure computation: no configuration, no database
		return allocationCmd(args[1:], os.Stdin, stdout)
	}
	env, err := newEnv(lookupEnv, stderr)
	if err != nil {
		return err
	}
	switch args[0] {
	case "serve":
		return serve(ctx, env)
	case "worker":
		return work(ctx, env)
	case "migrate":
		return migrateCmd(ctx, env, args[1:], stdout)
	case "tenants":
		return tenantsCmd(ctx, env, args[1:], stdout)
	case "seed":
		return seedCmd(ctx, env, args[1:], stdout)
	case "billing":
		return billingCmd(ctx, env, args[1:], stdout)
	case "operators":
		return operatorsCmd(ctx, env, args[1:], stdout)
	case "availability":
		return availabilityCmd(ctx, env, args[1:], stdout)
	case "dev":
		return dev(ctx, env)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return usageError(fmt.Sprintf("unknown command %q", args[0]))
	}
}
