package operator_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/operator"
	"kitaportal/internal/tenant/tenanttest"
)

func TestPruneAuthKeepsWhatIsAlive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	tn := tenanttest.Get(t, tenanttest.Registry(t, db), "kempten")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	active, stale, fresh := uuid.New(), uuid.New(), uuid.New()
	exec(`INSERT INTO account (tenant_id, id, kind, email, status, password_hash) VALUES (?, ?, 'parent', 'a@example.org', 'active', 'x')`, tn.ID, active)
	exec(`INSERT INTO account (tenant_id, id, kind, email, status, created_at) VALUES (?, ?, 'parent', 'stale@example.org', 'pending', now() - interval '8 days')`, tn.ID, stale)
	exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'parent', 'fresh@example.org', 'pending')`, tn.ID, fresh)
	exec(`INSERT INTO account_token (tenant_id, id, account_id, purpose, token_hash, expires_at) VALUES (?, ?, ?, 'verify_email', 'live', now() + interval '1 day')`, tn.ID, uuid.New(), fresh)
	exec(`INSERT INTO account_token (tenant_id, id, account_id, purpose, token_hash, expires_at, created_at) VALUES (?, ?, ?, 'reset_password', 'old', now() - interval '2 days', now() - interval '2 days')`, tn.ID, uuid.New(), active)
	exec(`INSERT INTO auth_session (tenant_id, id, token_hash, kind, principal, account_id, expires_at) VALUES (?, ?, 'gone', 'cookie', 'parent', ?, now() - interval '1 minute')`, tn.ID, uuid.New(), active)
	exec(`INSERT INTO auth_session (tenant_id, id, token_hash, kind, principal, account_id, expires_at) VALUES (?, ?, 'live', 'cookie', 'parent', ?, now() + interval '1 hour')`, tn.ID, uuid.New(), active)

	jobs := operator.NewJobs(db, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err := jobs.HandlePruneAuth(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var accounts, tokens, sessions string
	_ = db.QueryRowContext(ctx, `SELECT string_agg(email, ',' ORDER BY email) FROM account`).Scan(&accounts)
	_ = db.QueryRowContext(ctx, `SELECT string_agg(convert_from(token_hash, 'UTF8'), ',') FROM account_token`).Scan(&tokens)
	_ = db.QueryRowContext(ctx, `SELECT string_agg(convert_from(token_hash, 'UTF8'), ',') FROM auth_session`).Scan(&sessions)
	if accounts != "a@example.org,fresh@example.org" || tokens != "live" || sessions != "live" {
		t.Errorf("after pruning: accounts %q, tokens %q, sessions %q", accounts, tokens, sessions)
	}
}
