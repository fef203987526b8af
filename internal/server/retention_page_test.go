package server_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"kitaportal/internal/authz"
)

// The records of processing (Art. 30) show the city's own retention periods, in German
// and English, to the tenant admin only.
func TestProcessingRecordsShowTheCitysRetentionPeriods(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	h, k := b.city(t, "herzberg"), b.city(t, "kempten")
	admin := b.staff(t, h, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	worker := b.staff(t, h, "case", authz.RoleCaseWorker, uuid.Nil, "")
	kAdmin := b.staff(t, k, "admin", authz.RoleTenantAdmin, uuid.Nil, "")

	br := b.browser("herzberg.localhost")
	br.staffLogin(t, admin)
	de := br.get(t, "/staff/processing")
	if de.status != 200 {
		t.Fatalf("status %d", de.status)
	}
	// herzberg.yaml: 6 months, 180 mail days, 30 session days.
	mustContain(t, de, "Verzeichnis von Verarbeitungstätigkeiten", "6 Monate nach dem gewünschten Betreuungsbeginn", "180 Tage nach Erstellung", "30 Tage nach ihrem Ende", "Herzberg")
	en := br.do(t, "GET", "/staff/processing", nil, "Accept-Language", "en")
	if en.status != 200 {
		t.Fatalf("en: status %d", en.status)
	}
	mustContain(t, en, "Records of processing activities", "6 months after the desired start of care", "180 days after creation")

	kb := b.browser("kempten.localhost")
	kb.staffLogin(t, kAdmin)
	mustContain(t, kb.get(t, "/staff/processing"), "12 Monate nach dem gewünschten Betreuungsbeginn", "365 Tage")

	wb := b.browser("herzberg.localhost")
	wb.staffLogin(t, worker)
	for _, p := range []string{"/staff/processing", "/staff/retention"} {
		if r := wb.get(t, p); r.status != 403 {
			t.Errorf("case worker: %s status %d, want 403", p, r.status)
		}
	}
}

// The retention page lists the dry run until the admin confirms it, then says since when
// the run deletes.
func TestRetentionPageShowsTheDryRunAndConfirms(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	h := b.city(t, "herzberg")
	admin := b.staff(t, h, "admin", authz.RoleTenantAdmin, uuid.Nil, "")
	br := b.browser("herzberg.localhost")
	br.staffLogin(t, admin)
	page := br.get(t, "/staff/retention")
	mustContain(t, page, "noch nicht freigegeben", `data-category="unplaced_requests"`, `data-category="ended_sessions"`, `action="/staff/retention/confirm"`, "6 Monate")
	res := br.submit(t, "/staff/retention", "/staff/retention/confirm", nil)
	if res.status != 303 {
		t.Fatalf("confirm: status %d\n%.500s", res.status, res.body)
	}
	after := br.get(t, "/staff/retention")
	mustContain(t, after, "Freigegeben am")
	if strings.Contains(after.body, `action="/staff/retention/confirm"`) {
		t.Error("the confirm button is still shown")
	}
	var n int
	if err := b.db.NewRaw(`SELECT count(*) FROM audit_event WHERE tenant_id = ? AND action = 'retention.enabled'`, h.t.ID).Scan(t.Context(), &n); err != nil || n != 1 {
		t.Errorf("%d enable entries (%v), want 1", n, err)
	}
}
