package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/outbox"
)

// The parent's DSGVO export (Art. 15 and 20): a request queues a job (TaskExport) in the
// same transaction; the job gathers everything about the account and its families'
// children, stores a JSON file and a readable PDF and tells the parent; the account page
// offers both for download until the export expires. Every download, and every refused
// attempt (another account's export, an expired one), is in the audit log.

// TaskExport makes one export.
const TaskExport = "privacy:export"

// ExportValidity is how long a finished export can be downloaded.
const ExportValidity = 7 * 24 * time.Hour

// Audit actions of the export's downloads (the request itself is audit.ActionExport).
const (
	ActionExportDownloaded = "export.downloaded"
	ActionExportRefused    = "export.download_refused"
)

// Export statuses.
const (
	ExportPending = "pending"
	ExportReady   = "ready"
	ExportFailed  = "failed"
)

// Errors of the export.
var (
	ErrExportNotFound = apperr.NotFound("export_not_found")
	ErrExportExpired  = apperr.New(apperr.KindGone, "export_expired")
	ErrExportPending  = apperr.Conflict("export_pending")
	ErrExportFormat   = apperr.NotFound("export_not_found")
)

// Export is one export of an account.
type Export struct {
	ID        uuid.UUID  `bun:"id" json:"id"`
	AccountID uuid.UUID  `bun:"account_id" json:"-"`
	Status    string     `bun:"status" json:"status"`
	Lang      string     `bun:"lang" json:"-"`
	JSONKey   *string    `bun:"json_key" json:"-"`
	PDFKey    *string    `bun:"pdf_key" json:"-"`
	JSONBytes *int64     `bun:"json_bytes" json:"json_bytes,omitempty"`
	PDFBytes  *int64     `bun:"pdf_bytes" json:"pdf_bytes,omitempty"`
	CreatedAt time.Time  `bun:"created_at" json:"created_at"`
	ReadyAt   *time.Time `bun:"ready_at" json:"ready_at,omitempty"`
	ExpiresAt time.Time  `bun:"expires_at" json:"expires_at"`
}

// Ready tells whether the export can be downloaded at now.
func (e Export) Ready(now time.Time) bool { return e.Status == ExportReady && now.Before(e.ExpiresAt) }

type exportJob struct {
	TenantID uuid.UUID `json:"tenant_id"`
	ExportID uuid.UUID `json:"export_id"`
}

const exportColumns = `id, account_id, status, lang, json_key, pdf_key, json_bytes, pdf_bytes, created_at, ready_at, expires_at`

// RequestExport queues an export of the caller's data. While one is still being made,
// that one is returned instead of a second.
func (s *Service) RequestExport(ctx context.Context, c auth.Caller) (Export, error) {
	var out Export
	if c.Principal == nil {
		return out, apperr.New(apperr.KindUnauthenticated, "unauthenticated")
	}
	t, now := c.Tenant, s.clock.Now()
	err := database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var pending []Export
		if err := tx.NewRaw(`SELECT `+exportColumns+` FROM data_export WHERE tenant_id = ? AND account_id = ? AND status = 'pending'
			ORDER BY created_at DESC LIMIT 1`, t.ID, c.Principal.ID).Scan(ctx, &pending); err != nil {
			return fmt.Errorf("privacy: pending export: %w", err)
		}
		if len(pending) > 0 {
			out = pending[0]
			return nil
		}
		lang := c.Lang
		if lang == "" {
			lang = "de"
		}
		out = Export{ID: uuid.Must(uuid.NewV7()), AccountID: c.Principal.ID, Status: ExportPending, Lang: lang, CreatedAt: now,
			ExpiresAt: now.Add(ExportValidity)}
		if _, err := tx.ExecContext(ctx, `INSERT INTO data_export (tenant_id, id, account_id, status, lang, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, out.ID, out.AccountID, out.Status, out.Lang, out.CreatedAt, out.ExpiresAt); err != nil {
			return fmt.Errorf("privacy: record export: %w", err)
		}
		if err := outbox.Add(ctx, tx, outbox.Message{Type: TaskExport, Payload: exportJob{TenantID: t.ID, ExportID: out.ID},
			TenantID: &t.ID, Queue: "low", TaskID: out.ID}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionExport, ObjectKind: "data_export",
			ObjectID: out.ID.String(), Details: map[string]any{"kind": "dsgvo"}})
	})
	return out, database.Classify(err)
}

// Exports lists the caller's exports that are being made or can still be downloaded,
// newest first.
func (s *Service) Exports(ctx context.Context, c auth.Caller) ([]Export, error) {
	out := []Export{}
	if c.Principal == nil {
		return out, nil
	}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT `+exportColumns+` FROM data_export WHERE tenant_id = ? AND account_id = ? AND status <> 'failed'
			AND expires_at > ? ORDER BY created_at DESC LIMIT 20`, c.Tenant.ID, c.Principal.ID, s.clock.Now()).Scan(ctx, &out)
	})
	return out, database.Classify(err)
}

// Download is where the file of export id in format ("json" or "pdf") is kept and the
// name to offer it under. Only the account that asked for the export gets it, and only
// until it expires; the download and every refused attempt are audited.
func (s *Service) Download(ctx context.Context, c auth.Caller, id uuid.UUID, format string) (key, name string, err error) {
	if format != "json" && format != "pdf" {
		return "", "", ErrExportFormat
	}
	if c.Principal == nil {
		return "", "", ErrExportNotFound
	}
	t, now := c.Tenant, s.clock.Now()
	var refused error
	err = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var e Export
		err := tx.NewRaw(`SELECT `+exportColumns+` FROM data_export WHERE tenant_id = ? AND id = ?`, t.ID, id).Scan(ctx, &e)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("privacy: load export: %w", err)
		}
		reason := ""
		switch {
		case err != nil:
			refused, reason = ErrExportNotFound, "unknown"
		case e.AccountID != c.Principal.ID:
			refused, reason = ErrExportNotFound, "other_account"
		case !now.Before(e.ExpiresAt):
			refused, reason = ErrExportExpired, "expired"
		case e.Status != ExportReady:
			refused = ErrExportPending // nothing to log: the owner asked too early
		}
		if refused != nil {
			if reason == "" {
				return nil
			}
			// Committed although the download is refused: the attempt is the record.
			return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionExportRefused, ObjectKind: "data_export",
				ObjectID: id.String(), Details: map[string]any{"reason": reason, "format": format}})
		}
		key = *e.JSONKey
		if format == "pdf" {
			key = *e.PDFKey
		}
		name = "Datenauskunft-" + e.CreatedAt.In(time.UTC).Format("2006-01-02") + "." + format
		return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionExportDownloaded, ObjectKind: "data_export",
			ObjectID: id.String(), Details: map[string]any{"format": format}})
	})
	if err != nil {
		return "", "", database.Classify(err)
	}
	if refused != nil {
		return "", "", refused
	}
	return key, name, nil
}

// loadExport reads export id (the job's view: any account of the tenant).
func loadExport(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) (*Export, error) {
	var e Export
	err := tx.NewRaw(`SELECT `+exportColumns+` FROM data_export WHERE tenant_id = ? AND id = ? FOR UPDATE`, tenantID, id).Scan(ctx, &e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("privacy: load export: %w", err)
	}
	return &e, nil
}

// markReady records the stored files of export id; it can be downloaded until expires.
func markReady(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, jsonKey, pdfKey string, jsonBytes, pdfBytes int, now, expires time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE data_export SET status = 'ready', json_key = ?, pdf_key = ?, json_bytes = ?, pdf_bytes = ?,
		ready_at = ?, expires_at = ? WHERE tenant_id = ? AND id = ? AND status = 'pending'`,
		jsonKey, pdfKey, jsonBytes, pdfBytes, now, expires, tenantID, id)
	if err != nil {
		return fmt.Errorf("privacy: export ready: %w", err)
	}
	return nil
}
