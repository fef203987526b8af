// Package migrations holds the schema as SQL files, embedded into the binary.
// Name new files <UTC timestamp>_<what>.tx.up.sql with a matching .tx.down.sql; each runs
// in its own transaction. Do not use '?' in them: bun reads it as a placeholder.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
