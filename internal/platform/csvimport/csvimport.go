// Package csvimport runs a CSV import the way offices need it: the whole file in one
// tenant transaction, every row checked and its problems reported by line and column, and
// nothing saved unless every row is fine — or nothing at all on a dry run, which checks
// exactly what a real run would (the database's constraints included) and rolls back.
package csvimport

import (
	"context"
	"errors"
	"io"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvfile"
	"kitaportal/internal/platform/database"
)

// Problem is what is wrong with one row (line 1 is the header; 0 is the file as a
// whole). Message is filled in by the edge, in the reader's language.
type Problem struct {
	Line    int            `json:"line"`
	Column  string         `json:"column,omitempty"`
	Code    string         `json:"code"`
	Args    map[string]any `json:"-"`
	Message string         `json:"message"`
}

// Report is the outcome of an import.
type Report struct {
	Encoding  string    `json:"encoding"`
	DryRun    bool      `json:"dry_run"`
	Rows      int       `json:"rows"`
	Created   int       `json:"created"`
	Updated   int       `json:"updated"`
	Unchanged int       `json:"unchanged"`
	Saved     bool      `json:"saved"`
	Problems  []Problem `json:"problems"`
}

// Outcome is what applying a row did.
type Outcome int

// Outcomes.
const (
	Created Outcome = iota + 1
	Updated
	Unchanged
)

// Options of a run.
type Options struct {
	DryRun   bool
	MaxRows  int      // more rows are a problem of the file
	Required []string // columns the header must name
}

// Apply writes one row in tx and says what it did; an apperr error (or apperr.List) is a
// problem of the row, anything else ends the import as a failure.
type Apply func(ctx context.Context, tx bun.Tx, row csvfile.Row) (Outcome, error)

// Finish runs once after the rows when none had a problem (recompute, audit); an apperr
// error is a problem of the file.
type Finish func(ctx context.Context, tx bun.Tx, r *Report) error

var errRollback = errors.New("csvimport: roll back")

// Run imports the rows of rd for tenantID.
func Run(ctx context.Context, db bun.IDB, tenantID uuid.UUID, rd *csvfile.Reader, opt Options, apply Apply, finish Finish) (*Report, error) {
	r := &Report{Encoding: rd.Encoding, DryRun: opt.DryRun, Problems: []Problem{}}
	for _, col := range rd.Missing(opt.Required...) {
		r.Problems = append(r.Problems, Problem{Line: 1, Column: col, Code: "csv_column_missing", Args: map[string]any{"column": col}})
	}
	if len(r.Problems) > 0 {
		return r, nil
	}
	err := database.InTenantTx(ctx, db, tenantID, func(ctx context.Context, tx bun.Tx) error {
		for {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Problems = append(r.Problems, Problem{Line: row.Line, Code: "csv_row_malformed"})
				if row.Line == 0 {
					break // not a row error: the rest cannot be read
				}
				continue
			}
			r.Rows++
			if opt.MaxRows > 0 && r.Rows > opt.MaxRows {
				r.Problems = append(r.Problems, Problem{Code: "csv_too_many_rows", Args: map[string]any{"max": opt.MaxRows}})
				break
			}
			var outcome Outcome
			err = database.Savepoint(ctx, tx, func() error {
				var err error
				outcome, err = apply(ctx, tx, row)
				return err
			})
			if err != nil {
				if !r.add(row.Line, err) {
					return err
				}
				continue
			}
			r.count(outcome)
		}
		if r.Rows == 0 && len(r.Problems) == 0 {
			r.Problems = append(r.Problems, Problem{Code: "csv_empty"})
		}
		if len(r.Problems) == 0 && finish != nil {
			if err := finish(ctx, tx, r); err != nil && !r.add(0, err) {
				return err
			}
		}
		if opt.DryRun || len(r.Problems) > 0 {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		return r, nil
	}
	if err != nil {
		return nil, database.Classify(err)
	}
	r.Saved = true
	return r, nil
}

func (r *Report) count(o Outcome) {
	switch o {
	case Created:
		r.Created++
	case Updated:
		r.Updated++
	default:
		r.Unchanged++
	}
}

// add records err as problems of line; false when err is not about the input.
func (r *Report) add(line int, err error) bool {
	var list apperr.List
	if errors.As(err, &list) {
		for _, e := range list {
			r.Problems = append(r.Problems, Problem{Line: line, Column: e.Field, Code: e.Code, Args: e.Args})
		}
		return true
	}
	e, ok := apperr.As(err)
	if !ok || e.Kind == apperr.KindInternal || e.Kind == apperr.KindUnavailable {
		return false
	}
	r.Problems = append(r.Problems, Problem{Line: line, Column: e.Field, Code: e.Code, Args: e.Args})
	return true
}
