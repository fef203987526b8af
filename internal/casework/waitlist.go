package casework

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/care"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvfile"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// Waitlist import (Leipzig): the paper waitlists of the facilities become filed
// requests. A file is uploaded once and processed in the background (asynq), in batches,
// with its progress visible; a dry run checks every row the same way and writes nothing.
// Every refused row is listed with its line and the rule it broke. UTF-8 and
// Windows-1252, semicolons or commas (csvfile).
//
// Columns (German headers; English ones work too): kind_vorname, kind_nachname,
// geburtsdatum, elternteil_vorname, elternteil_nachname, email, telefon, strasse,
// hausnummer, plz, ort, beginn, betreuungsumfang, wunsch1 … wunsch5 (facility id or its
// exact name), angemeldet_am (the date on paper: it keeps the family's place in line).

// TaskImportWaitlist processes one import job.
const TaskImportWaitlist = "import:waitlist"

// Limits of an import.
const (
	MaxImportBytes = 16 << 20 // within HTTP_BODY_LIMIT (20 MiB by default)
	MaxImportRows  = 100000
	importBatch    = 200
)

var importColumns = map[string][]string{
	"child_first_name":  {"kind_vorname", "child_first_name"},
	"child_last_name":   {"kind_nachname", "child_last_name"},
	"birth_date":        {"geburtsdatum", "birth_date"},
	"parent_first_name": {"elternteil_vorname", "parent_first_name"},
	"parent_last_name":  {"elternteil_nachname", "parent_last_name"},
	"email":             {"email", "e-mail"},
	"phone":             {"telefon", "phone"},
	"street":            {"strasse", "straße", "street"},
	"house_number":      {"hausnummer", "house_number"},
	"plz":               {"plz", "postcode"},
	"city":              {"ort", "city"},
	"start_date":        {"beginn", "start_date"},
	"care_hours":        {"betreuungsumfang", "care_hours"},
	"registered_at":     {"angemeldet_am", "registered_at"},
}

var requiredImportColumns = []string{"child_first_name", "child_last_name", "birth_date", "parent_first_name", "parent_last_name",
	"street", "house_number", "plz", "city", "start_date", "care_hours"}

// RefusedRow is one row the import did not take, and why.
type RefusedRow struct {
	Line  int            `json:"line"`
	Field string         `json:"field,omitempty"`
	Code  string         `json:"code"`
	Args  map[string]any `json:"args,omitempty"`
}

// Statuses of an import job.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// ImportJob is an import's state.
type ImportJob struct {
	ID         uuid.UUID    `bun:"id" json:"id"`
	DryRun     bool         `bun:"dry_run" json:"dry_run"`
	Status     string       `bun:"status" json:"status"`
	FileName   string       `bun:"file_name" json:"file_name"`
	Total      int          `bun:"total" json:"total"`
	Processed  int          `bun:"processed" json:"processed"`
	Imported   int          `bun:"imported" json:"imported"`
	Refused    []RefusedRow `bun:"refused,type:jsonb" json:"refused"`
	Error      string       `bun:"error" json:"error,omitempty"`
	CreatedAt  time.Time    `bun:"created_at" json:"created_at"`
	FinishedAt *time.Time   `bun:"finished_at" json:"finished_at,omitempty"`
}

// Percent is the progress for the page's bar.
func (j *ImportJob) Percent() int {
	if j.Total == 0 {
		if j.Status == JobDone {
			return 100
		}
		return 0
	}
	return j.Processed * 100 / j.Total
}

// StartImport stores an upload and queues its processing. The header is checked at
// once, so a wrong file is refused before anything waits in the queue.
func (s *Service) StartImport(ctx context.Context, c auth.Caller, name string, content []byte, dryRun bool) (*ImportJob, error) {
	if len(content) > MaxImportBytes {
		return nil, apperr.New(apperr.KindTooLarge, "file_too_large").WithArgs(map[string]any{"max_mb": MaxImportBytes >> 20})
	}
	rd, err := csvfile.Open(bytes.NewReader(content), MaxImportBytes)
	if err != nil {
		return nil, apperr.Invalid("file", "csv_unreadable", nil)
	}
	if missing := missingColumns(rd); len(missing) > 0 {
		return nil, apperr.Invalid("file", "csv_columns_missing", map[string]any{"columns": strings.Join(missing, ", ")})
	}
	total := 0
	for {
		if _, err := rd.Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				return nil, apperr.Invalid("file", "csv_unreadable", nil)
			}
			break
		}
		if total++; total > MaxImportRows {
			return nil, apperr.Invalid("file", "csv_too_many_rows", map[string]any{"max": MaxImportRows})
		}
	}
	name = strings.Map(func(r rune) rune {
		if r < 32 || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	if len(name) > 200 {
		name = name[:200]
	}
	id := uuid.Must(uuid.NewV7())
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO import_job (tenant_id, id, kind, dry_run, file_name, content, total, created_by, created_at)
			VALUES (?, ?, 'waitlist', ?, ?, ?, ?, ?, ?)`, c.Tenant.ID, id, dryRun, name, content, total, c.Principal.ID, s.now()); err != nil {
			return err
		}
		tid := c.Tenant.ID
		if err := outbox.Add(ctx, tx, outbox.Message{Type: TaskImportWaitlist, Payload: importTask{TenantID: tid, JobID: id},
			TenantID: &tid, Queue: "low", MaxRetry: 3}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionImportStarted, ObjectKind: "import",
			ObjectID: id.String(), Details: map[string]any{"rows": total, "dry_run": dryRun}})
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return s.Import(ctx, c, id)
}

// RunAgain imports a dry run's file for real.
func (s *Service) RunAgain(ctx context.Context, c auth.Caller, id uuid.UUID) (*ImportJob, error) {
	var name string
	var content []byte
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT file_name, content FROM import_job WHERE tenant_id = ? AND id = ? AND dry_run AND status = ?`,
			c.Tenant.ID, id, JobDone).Scan(&name, &content)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return s.StartImport(ctx, c, name, content, false)
}

// Import reads an import job's state.
func (s *Service) Import(ctx context.Context, c auth.Caller, id uuid.UUID) (*ImportJob, error) {
	var j ImportJob
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT id, dry_run, status, file_name, total, processed, imported, refused, error, created_at, finished_at
			FROM import_job WHERE tenant_id = ? AND id = ?`, c.Tenant.ID, id).Scan(ctx, &j)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &j, database.Classify(err)
}

// Imports lists the city's recent imports.
func (s *Service) Imports(ctx context.Context, c auth.Caller) ([]ImportJob, error) {
	out := []ImportJob{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT id, dry_run, status, file_name, total, processed, imported, '[]'::jsonb AS refused, error, created_at, finished_at
			FROM import_job WHERE tenant_id = ? ORDER BY created_at DESC LIMIT 50`, c.Tenant.ID).Scan(ctx, &out)
	})
	return out, database.Classify(err)
}

func missingColumns(rd *csvfile.Reader) []string {
	var missing []string
	for _, col := range requiredImportColumns {
		found := false
		for _, name := range importColumns[col] {
			if len(rd.Missing(name)) == 0 {
				found = true
			}
		}
		if !found {
			missing = append(missing, importColumns[col][0])
		}
	}
	return missing
}

// get reads a column by any of its names.
func get(r csvfile.Row, col string) string {
	for _, name := range importColumns[col] {
		if v := r.Get(name); v != "" {
			return v
		}
	}
	return ""
}

type importTask struct {
	TenantID uuid.UUID `json:"tenant_id"`
	JobID    uuid.UUID `json:"job_id"`
}

// Importer runs import jobs in the worker.
type Importer struct {
	s       *Service
	tenants *tenant.Registry
	log     *slog.Logger
}

// NewImporter returns the job handler; tenants gives a tenant's current rules.
func NewImporter(s *Service, tenants *tenant.Registry, log *slog.Logger) *Importer {
	return &Importer{s: s, tenants: tenants, log: log}
}

// Handle is the asynq handler of TaskImportWaitlist.
func (im *Importer) Handle(ctx context.Context, t *asynq.Task) error {
	var task importTask
	if err := json.Unmarshal(t.Payload(), &task); err != nil {
		return fmt.Errorf("import task: %v: %w", err, asynq.SkipRetry)
	}
	tn, err := im.tenants.Lookup(ctx, task.TenantID)
	if errors.Is(err, tenant.ErrUnknownTenant) {
		return fmt.Errorf("import task: unknown tenant: %w", asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	return im.Run(ctx, tn, task.JobID)
}

// Run processes job id of tenant t: batch by batch, each row in a savepoint so a
// refused row loses nothing of the others; a dry run rolls every batch back.
func (im *Importer) Run(ctx context.Context, t *tenant.Tenant, id uuid.UUID) error {
	var job struct {
		DryRun    bool      `bun:"dry_run"`
		Status    string    `bun:"status"`
		Content   []byte    `bun:"content"`
		CreatedBy uuid.UUID `bun:"created_by"`
		Processed int       `bun:"processed"`
	}
	err := database.InTenantTx(ctx, im.s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT dry_run, status, content, created_by, processed FROM import_job WHERE tenant_id = ? AND id = ? FOR UPDATE`,
			t.ID, id).Scan(ctx, &job)
	})
	if errors.Is(err, sql.ErrNoRows) || (err == nil && job.Status == JobDone) {
		return nil // gone, or finished by an earlier delivery
	}
	if err != nil {
		return err
	}
	rd, err := csvfile.Open(bytes.NewReader(job.Content), MaxImportBytes)
	if err != nil {
		return im.finish(ctx, t, id, JobFailed, "csv_unreadable")
	}
	staff := job.CreatedBy
	var rows []csvfile.Row
	for {
		r, err := rd.Next()
		if err != nil {
			break
		}
		rows = append(rows, r)
	}
	// A retried job resumes after the last committed batch (a real run commits each).
	start := 0
	if !job.DryRun {
		start = job.Processed
	}
	for from := start; from < len(rows); from += importBatch {
		to := min(from+importBatch, len(rows))
		var refused []RefusedRow
		imported := 0
		err := im.batch(ctx, t, rows[from:to], staff, job.DryRun, &refused, &imported)
		if err != nil {
			im.log.Error("waitlist import batch failed", "tenant", t.Slug, "job", id, "err", err)
			return err // asynq retries; committed batches are not repeated
		}
		refusedJSON, _ := json.Marshal(refused)
		if err := database.InTenantTx(ctx, im.s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE import_job SET status = ?, processed = ?, imported = imported + ?,
				refused = refused || ?::jsonb WHERE tenant_id = ? AND id = ?`, JobRunning, to, imported, string(refusedJSON), t.ID, id)
			return err
		}); err != nil {
			return err
		}
	}
	return im.finish(ctx, t, id, JobDone, "")
}

func (im *Importer) finish(ctx context.Context, t *tenant.Tenant, id uuid.UUID, status, msg string) error {
	return database.InTenantTx(ctx, im.s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE import_job SET status = ?, error = ?, finished_at = ?, content = CASE WHEN dry_run THEN content END
			WHERE tenant_id = ? AND id = ?`, status, msg, im.s.now(), t.ID, id)
		return err
	})
}

// errDryRun rolls a dry run's batch back.
var errDryRun = errors.New("dry run")

func (im *Importer) batch(ctx context.Context, t *tenant.Tenant, rows []csvfile.Row, staff uuid.UUID, dry bool, refused *[]RefusedRow, imported *int) error {
	err := database.InTenantTx(ctx, im.s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT import_row"); err != nil {
				return err
			}
			rowErr := im.row(ctx, tx, t, r, staff)
			if rowErr == nil {
				*imported++
				if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT import_row"); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT import_row"); err != nil {
				return err
			}
			refusals, ok := asRefusals(r.Line, rowErr)
			if !ok {
				return rowErr // not the row's fault: retry the batch
			}
			*refused = append(*refused, refusals...)
		}
		if dry {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

func asRefusals(line int, err error) ([]RefusedRow, bool) {
	var list apperr.List
	if errors.As(err, &list) {
		out := make([]RefusedRow, 0, len(list))
		for _, e := range list {
			out = append(out, RefusedRow{Line: line, Field: e.Field, Code: e.Code, Args: plainArgs(e.Args)})
		}
		return out, true
	}
	if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal && e.Kind != apperr.KindUnavailable {
		return []RefusedRow{{Line: line, Field: e.Field, Code: e.Code, Args: plainArgs(e.Args)}}, true
	}
	return nil, false
}

// plainArgs keeps message arguments storable (dates as text).
func plainArgs(a map[string]any) map[string]any {
	if len(a) == 0 {
		return nil
	}
	out := make(map[string]any, len(a))
	for k, v := range a {
		if d, ok := v.(date.Date); ok {
			out[k] = d.String()
		} else {
			out[k] = v
		}
	}
	return out
}

// row imports one line: family, child and a submitted request with the date on paper.
func (im *Importer) row(ctx context.Context, tx bun.IDB, t *tenant.Tenant, r csvfile.Row, staff uuid.UUID) error {
	now := im.s.now()
	today := date.In(now)
	var errs apperr.List
	fam, err := family.CheckInput(family.Input{
		Address: family.AddressInput{Street: get(r, "street"), HouseNumber: get(r, "house_number"), PLZ: get(r, "plz"), City: get(r, "city")},
		Guardians: []family.GuardianInput{{FirstName: get(r, "parent_first_name"), LastName: get(r, "parent_last_name"),
			Email: get(r, "email"), Phone: get(r, "phone")}},
	})
	apperr.Collect(&errs, err)
	nc, err := family.CheckChild(family.ChildInput{FirstName: get(r, "child_first_name"), LastName: get(r, "child_last_name"),
		BirthDate: isoDate(get(r, "birth_date"))}, today)
	apperr.Collect(&errs, err)
	start, err := care.ParseStart(isoDate(get(r, "start_date")))
	apperr.Collect(&errs, err)
	hours, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(get(r, "care_hours")), "h"))
	if err != nil {
		errs = append(errs, apperr.Invalid("care_hours", "care_scope_unknown", map[string]any{"scopes": tenant.ScopesText(t.Rules.CareScopes)}))
	}
	registered := today
	if s := get(r, "registered_at"); s != "" {
		if registered, err = date.Parse(isoDate(s)); err != nil || registered.After(today) {
			errs = append(errs, apperr.Invalid("registered_at", "date_invalid", nil))
			registered = today
		}
	}
	var choices []uuid.UUID
	for i := 1; i <= application.MaxChoicesStored; i++ {
		v := r.Get("wunsch" + strconv.Itoa(i))
		if v == "" {
			v = r.Get("choice" + strconv.Itoa(i))
		}
		if v == "" {
			continue
		}
		id, err := provider.FacilityByRef(ctx, tx, t.ID, v)
		if err != nil {
			errs = append(errs, apperr.Invalid("wunsch"+strconv.Itoa(i), "choice_unknown", map[string]any{"rank": i}))
			continue
		}
		choices = append(choices, id)
	}
	if len(errs) > 0 {
		return errs
	}
	if !start.After(today) {
		return apperr.Invalid("start_date", "start_in_past", map[string]any{"earliest": today.AddDays(1)})
	}
	// The same child with a request for the same period: the row was imported before.
	same, err := family.ChildIDsWithKey(ctx, tx, t.ID, family.DedupeKey(nc.Input.FirstName, nc.Input.LastName, *nc.Birth))
	if err != nil {
		return err
	}
	dup, err := application.QueuedFor(ctx, tx, t.ID, same, t.Rules.Calendar().YearStart(start))
	if err != nil {
		return err
	}
	if dup {
		return apperr.Invalid("child", "import_duplicate_request", nil)
	}
	famID, err := family.Create(ctx, tx, t, fam, family.SourceImport, nil, &staff)
	if err != nil {
		return err
	}
	ch, err := family.CreateChild(ctx, tx, t.ID, famID, nc, now)
	if err != nil {
		return err
	}
	f, err := family.Load(ctx, tx, t, famID)
	if err != nil {
		return err
	}
	code, err := family.NewLinkCode(ctx, tx, t.ID, famID, "walk_in", fam.Guardians[0].Email, &staff, now.Add(family.LinkCodeTTL))
	if err != nil {
		return err
	}
	in := application.Input{ChildID: ch.ID, StartDate: start.String(), CareHours: hours, Choices: choices, Criteria: map[string]string{}}
	_, err = im.s.apps.FileImported(ctx, tx, t, f, ch, in, start, registered, code, staff, now)
	return err
}

// isoDate accepts the German way of writing a date (14.03.2025) besides 2025-03-14.
func isoDate(s string) string {
	s = strings.TrimSpace(s)
	if d, m, ok := strings.Cut(s, "."); ok {
		if m, y, ok := strings.Cut(m, "."); ok && len(y) == 4 {
			return fmt.Sprintf("%s-%02s-%02s", y, m, d)
		}
	}
	return s
}
