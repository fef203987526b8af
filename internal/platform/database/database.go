// Package database opens PostgreSQL through bun (pgx driver underneath), runs the embedded
// migrations under an advisory lock, and offers the transaction helpers every store uses.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"kitaportal/internal/platform/apperr"
)

// Open connects to dsn and checks the connection once. The pool is sized for a 2-core
// machine; PostgreSQL, not the pool, should be the queue under load.
func Open(ctx context.Context, dsn string) (*bun.DB, error) {
	cfg, err := pgxConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: parse url: %w", err)
	}
	sqldb := stdlib.OpenDB(*cfg)
	maxConns := max(8, 4*runtime.GOMAXPROCS(0))
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	sqldb.SetConnMaxLifetime(time.Hour)
	db := bun.NewDB(sqldb, pgdialect.New())
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		return db, fmt.Errorf("database: ping: %w", err)
	}
	return db, nil
}

func pgxConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "kitaportal"
	}
	cfg.ConnectTimeout = 5 * time.Second
	// bun writes the arguments into the statement, so nearly every statement text is new;
	// pgx's default (prepare and cache each text) would cost an extra round trip and parse
	// per statement for a cache that never hits. The simple protocol sends each at once.
	// The few hot statements with $n parameters ask for a prepared plan (Prepared).
	if !strings.Contains(dsn, "default_query_exec_mode") {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	}
	return cfg, nil
}

// Prepared, passed as the first argument of a statement with $n parameters (through
// database/sql: tx.QueryContext(ctx, query, database.Prepared, args...)), runs it as a
// prepared statement cached per connection, so PostgreSQL plans it once: for hot,
// parameterized queries such as the search.
const Prepared = pgx.QueryExecModeCacheStatement

// TenantSetting is the PostgreSQL setting that row-level security reads; it is set
// for the length of one transaction only.
const TenantSetting = "app.tenant_id"

// AppRole is the role every tenant transaction runs as. It owns nothing and is subject to
// the row-level security policies (migrations/20261122120000_accounts), so a query that
// forgets its tenant filter still sees only the rows of the transaction's tenant. Code
// outside a tenant transaction (migrations, tenant sync, the outbox relay, the operator
// console's platform tables) runs as the connecting role and is platform code by design.
const AppRole = "kitaportal_app"

// InTx runs fn in a transaction that commits when fn returns nil.
func InTx(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return db.RunInTx(ctx, nil, fn)
}

// InTenantTx runs fn in a transaction bound to one tenant: the tenant id is set as a
// transaction-local setting and the transaction runs as AppRole, so the database's
// row-level security checks every row it reads or writes.
func InTenantTx(ctx context.Context, db bun.IDB, tenantID uuid.UUID, fn func(ctx context.Context, tx bun.Tx) error) error {
	return inTenantTx(ctx, db, nil, tenantID, fn)
}

// InTenantSnapshot is InTenantTx at REPEATABLE READ: every statement of fn sees the
// database as of its first one, for reads that must agree with each other (a round
// freezing a whole city's requests and seats).
func InTenantSnapshot(ctx context.Context, db bun.IDB, tenantID uuid.UUID, fn func(ctx context.Context, tx bun.Tx) error) error {
	return inTenantTx(ctx, db, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, tenantID, fn)
}

func inTenantTx(ctx context.Context, db bun.IDB, opts *sql.TxOptions, tenantID uuid.UUID, fn func(ctx context.Context, tx bun.Tx) error) error {
	if tenantID == uuid.Nil {
		return errors.New("database: tenant transaction without a tenant")
	}
	return db.RunInTx(ctx, opts, func(ctx context.Context, tx bun.Tx) error {
		// One round trip for both settings; both end with the transaction.
		if _, err := tx.ExecContext(ctx, "SELECT set_config(?, ?, true), set_config('role', ?, true)",
			TenantSetting, tenantID.String(), AppRole); err != nil {
			return fmt.Errorf("set tenant: %w", err)
		}
		return fn(ctx, tx)
	})
}

// PostgreSQL error codes we react to.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeExclusionViolation   = "23P01"
	codeCheckViolation       = "23514"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeQueryCanceled        = "57014"
	codeAdminShutdown        = "57P01"
	codeCannotConnectNow     = "57P03"
)

// Constraint returns the name of the violated constraint and the SQLSTATE, or "" when
// err is not a constraint violation.
func Constraint(err error) (name, code string) {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && len(pg.Code) == 5 && pg.Code[:2] == "23" {
		return pg.ConstraintName, pg.Code
	}
	return "", ""
}

// IsUniqueViolation tells whether err broke a unique constraint (name "" = any).
func IsUniqueViolation(err error, name string) bool {
	c, code := Constraint(err)
	return code == codeUniqueViolation && (name == "" || c == name)
}

// IsExclusionViolation tells whether err broke an exclusion constraint (name "" = any).
func IsExclusionViolation(err error, name string) bool {
	c, code := Constraint(err)
	return code == codeExclusionViolation && (name == "" || c == name)
}

// IsForeignKeyViolation tells whether err broke a foreign key (name "" = any).
func IsForeignKeyViolation(err error, name string) bool {
	c, code := Constraint(err)
	return code == codeForeignKeyViolation && (name == "" || c == name)
}

// IsCheckViolation tells whether err broke a CHECK constraint (name "" = any).
func IsCheckViolation(err error, name string) bool {
	c, code := Constraint(err)
	return code == codeCheckViolation && (name == "" || c == name)
}

// IsRetryable tells whether the transaction lost a race and may simply be run again.
func IsRetryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == codeSerializationFailure || pg.Code == codeDeadlockDetected)
}

// IsUnavailable tells whether err means the database could not be reached or went away,
// as opposed to a query that is wrong.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == codeAdminShutdown || pg.Code == codeCannotConnectNow || pg.Code == codeQueryCanceled
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, context.DeadlineExceeded) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// Classify turns an outage into apperr's "unavailable" so users see a friendly page;
// other errors pass unchanged.
func Classify(err error) error {
	if err != nil && IsUnavailable(err) {
		if _, classified := apperr.As(err); !classified {
			return apperr.Unavailable("database_unavailable", err)
		}
	}
	return err
}

// ExecEach runs the statements one after another and returns how many rows they touched
// together (maintenance: pruning several tables).
func ExecEach(ctx context.Context, db bun.IDB, statements ...string) (int64, error) {
	var total int64
	for _, q := range statements {
		res, err := db.ExecContext(ctx, q)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
