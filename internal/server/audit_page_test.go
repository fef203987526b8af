package server_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/audit"
	"kitaportal/internal/authz"
)

// The audit log page shows one page of entries, each capped, whatever the log holds.
func TestAuditLogPageIsPagedAndCapsEachEntry(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	k := b.city(t, "kempten")
	admin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	ctx := context.Background()
	// 120 entries, the newest of which names 5,000 children and carries 100 kB of details.
	if _, err := b.db.ExecContext(ctx, `
		INSERT INTO audit_event (tenant_id, id, at, actor_kind, action, object_kind, object_id)
		SELECT ?, gen_random_uuid(), now() - make_interval(mins => 10 + g), 'system', 'test.filler', 'thing', 'filler-' || g
		FROM generate_series(1, 120) g`, k.t.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.ExecContext(ctx, `
		INSERT INTO audit_event (tenant_id, id, at, actor_kind, action, object_kind, object_id, child_ids, details)
		SELECT ?, gen_random_uuid(), now() - interval '5 minutes', 'system', 'test.huge', 'thing', 'huge',
			(SELECT array_agg(gen_random_uuid()) FROM generate_series(1, 5000)),
			jsonb_build_object('note', repeat('x', 100000))`, k.t.ID); err != nil {
		t.Fatal(err)
	}

	br := b.browser("kempten.localhost")
	br.staffLogin(t, admin)
	page := br.get(t, "/staff/audit")
	mustContain(t, page, "test.huge", "test.filler", "+4990", "…")
	rows := strings.Count(page.body, "<tr><td>")
	if page.status != 200 || rows == 0 || rows > 50 {
		t.Fatalf("status %d, %d rows", page.status, rows)
	}
	if strings.Contains(page.body, strings.Repeat("x", audit.BriefDetails+1)) {
		t.Error("the huge detail is shown whole")
	}
	if len(page.body) > 200<<10 {
		t.Errorf("the page has %d bytes", len(page.body))
	}
	next := regexp.MustCompile(`<a href="(/staff/audit\?before=[^"]+)" rel="next">`).FindStringSubmatch(page.body)
	if next == nil {
		t.Fatalf("no link to the next page:\n%s", page.body[max(0, len(page.body)-2000):])
	}
	older := br.get(t, strings.ReplaceAll(next[1], "&amp;", "&"))
	mustContain(t, older, "test.filler", `href="/staff/audit" rel="prev"`)
	if n := strings.Count(older.body, "<tr><td>"); older.status != 200 || n == 0 || n > 50 || strings.Contains(older.body, "test.huge") {
		t.Errorf("second page: status %d, %d rows", older.status, n)
	}

	// The API keeps the whole entry.
	a := b.api("kempten.localhost")
	a.staffLogin(t, admin)
	status, body := a.call(t, "GET", "/api/v1/staff/audit?action=test.huge", nil)
	items, _ := body["items"].([]any)
	if status != 200 || len(items) != 1 {
		t.Fatalf("API: %d %d items", status, len(items))
	}
	if ids, _ := items[0].(map[string]any)["child_ids"].([]any); len(ids) != 5000 {
		t.Errorf("API child ids: %d", len(ids))
	}
}
