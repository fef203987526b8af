package privacy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"kitaportal/internal/account"
	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/contract"
	"kitaportal/internal/family"
	"kitaportal/internal/notify"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/tenant"
)

// ExportData is everything the export holds; its JSON is the Art. 20 file.
type ExportData struct {
	Format      string          `json:"format"` // "kitaportal-dsgvo-export/1"
	GeneratedAt time.Time       `json:"generated_at"`
	City        string          `json:"city"`
	Account     json.RawMessage `json:"account"`
	Families    json.RawMessage `json:"families"`
	Guardians   json.RawMessage `json:"guardians"`
	Children    json.RawMessage `json:"children"`
	Requests    json.RawMessage `json:"requests"`
	Offers      json.RawMessage `json:"offers"`
	Contracts   json.RawMessage `json:"contracts"`
	Inbox       json.RawMessage `json:"inbox"`
	StaffAccess []audit.Access  `json:"staff_access"`
}

// Tenants finds a city by id (the worker's tenant registry).
type Tenants interface {
	Lookup(ctx context.Context, id uuid.UUID) (*tenant.Tenant, error)
}

// Exporter makes the exports (the worker's handler of TaskExport).
type Exporter struct {
	db      *bun.DB
	files   storage.Storage
	tenants Tenants
	mails   *notify.Templates
	links   *notify.Links
	clock   clock.Clock
	log     *slog.Logger
}

// NewExporter returns the export maker.
func NewExporter(db *bun.DB, files storage.Storage, tenants Tenants, mails *notify.Templates, links *notify.Links, clk clock.Clock, log *slog.Logger) *Exporter {
	return &Exporter{db: db, files: files, tenants: tenants, mails: mails, links: links, clock: clk, log: log}
}

// Handle makes the job's export.
func (x *Exporter) Handle(ctx context.Context, task *asynq.Task) error {
	var job exportJob
	if err := json.Unmarshal(task.Payload(), &job); err != nil {
		return fmt.Errorf("%s: %w: %w", TaskExport, err, asynq.SkipRetry)
	}
	t, err := x.tenants.Lookup(ctx, job.TenantID)
	if err != nil {
		return err
	}
	return x.Make(ctx, t, job.ExportID)
}

// who is the account an export goes to, as far as its notice needs.
type who struct {
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Language  string `json:"language"`
	Status    string `json:"status"`
}

// Make gathers, renders and stores export id and tells its account; an export that is
// gone or done already is left alone, so a retried job does nothing twice.
func (x *Exporter) Make(ctx context.Context, t *tenant.Tenant, id uuid.UUID) error {
	var (
		e    *Export
		data ExportData
	)
	now := x.clock.Now()
	err := database.InTenantTx(ctx, x.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if e, err = loadExport(ctx, tx, t.ID, id); err != nil || e == nil || e.Status != ExportPending {
			return err
		}
		data, err = Gather(ctx, tx, t, e.AccountID)
		return err
	})
	if err != nil || e == nil || e.Status != ExportPending {
		return err
	}
	data.GeneratedAt = now
	raw, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return fmt.Errorf("privacy: export json: %w", err)
	}
	var acc who
	_ = json.Unmarshal(data.Account, &acc)
	lang := notify.LanguageFor(t, e.Lang)
	pdf, err := x.RenderPDF(data, lang)
	if err != nil {
		return err
	}
	base := "exports/" + t.ID.String() + "/" + id.String()
	if err := x.files.Put(ctx, base+".json", bytes.NewReader(raw)); err != nil {
		return err
	}
	if err := x.files.Put(ctx, base+".pdf", bytes.NewReader(pdf)); err != nil {
		return err
	}
	expires := now.Add(ExportValidity)
	return database.InTenantTx(ctx, x.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := markReady(ctx, tx, t.ID, id, base+".json", base+".pdf", len(raw), len(pdf), now, expires); err != nil {
			return err
		}
		return x.tell(ctx, tx, t, e.AccountID, acc, lang, expires)
	})
}

// tell puts the notice that the export is ready in the account's inbox (in every
// language of the city) and mails it.
func (x *Exporter) tell(ctx context.Context, tx bun.IDB, t *tenant.Tenant, accountID uuid.UUID, acc who, lang string, expires time.Time) error {
	const path = "/account/export"
	word := func(l string) notify.Notice {
		until := expires.In(clock.Berlin).Format("02.01.2006 15:04")
		return notify.Notice{
			Subject: x.mails.Translate(l, "privacy.export.ready.subject"),
			Lines:   []string{x.mails.TranslateArgs(l, "privacy.export.ready.text", map[string]any{"until": until})},
			URL:     x.links.URL(t, path),
			Action:  x.mails.Translate(l, "privacy.export.ready.action"),
		}
	}
	all := notify.Wordings(t, word)
	if _, ok := all[lang]; !ok {
		all[lang] = word(lang)
	}
	if err := notify.DeliverEntry(ctx, tx, t.ID, accountID, notify.Entry{Kind: "data_export_ready", Link: path, Lang: lang,
		Mailed: acc.Email != "", Versions: all}); err != nil {
		return err
	}
	if acc.Email == "" || acc.Status == "deleted" {
		return nil
	}
	n := all[lang]
	n.Name = strings.TrimSpace(acc.FirstName + " " + acc.LastName)
	return x.mails.Queue(ctx, tx, t.ID, notify.Mail{Kind: "data_export_ready", Template: "notice", Lang: lang, To: acc.Email,
		Brand: x.links.Brand(t), Data: n})
}

// Gather reads everything stored about account accountID and its families' children,
// each part from the package that owns it.
func Gather(ctx context.Context, tx bun.IDB, t *tenant.Tenant, accountID uuid.UUID) (ExportData, error) {
	d := ExportData{Format: "kitaportal-dsgvo-export/1", City: t.Name}
	var err error
	if d.Account, err = account.ExportOf(ctx, tx, t.ID, accountID); err != nil {
		return d, err
	}
	fams, err := family.AccountFamilies(ctx, tx, t.ID, accountID)
	if err != nil {
		return d, err
	}
	familyIDs, children := []uuid.UUID{}, []uuid.UUID{}
	for _, f := range fams {
		familyIDs = append(familyIDs, f.ID)
		children = append(children, f.ChildIDs...)
	}
	fe, err := family.ExportOf(ctx, tx, t.ID, familyIDs)
	if err != nil {
		return d, err
	}
	d.Families, d.Guardians, d.Children = fe.Families, fe.Guardians, fe.Children
	if d.Requests, err = application.ExportForChildren(ctx, tx, t.ID, children); err != nil {
		return d, err
	}
	if d.Offers, err = offer.ExportForChildren(ctx, tx, t.ID, children); err != nil {
		return d, err
	}
	if d.Contracts, err = contract.ExportForChildren(ctx, tx, t.ID, children); err != nil {
		return d, err
	}
	if d.Inbox, err = notify.ExportInbox(ctx, tx, t.ID, accountID); err != nil {
		return d, err
	}
	d.StaffAccess, err = audit.StaffAccessTo(ctx, tx, t.ID, children)
	return d, err
}

// RenderPDF is the readable copy (Art. 15) of d in lang: a summary of the children,
// then every part with its records field by field.
func (x *Exporter) RenderPDF(d ExportData, lang string) ([]byte, error) {
	tr := func(key string) string { return x.mails.Translate(lang, key) }
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(d.GeneratedAt)
	pdf.SetModificationDate(d.GeneratedAt)
	pdf.SetCatalogSort(true)
	pdf.SetCreator("Kitaportal", true)
	pdf.SetTitle(tr("privacy.pdf.title"), true)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	pdf.SetMargins(18, 18, 18)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AddPage()
	pdf.SetFont("go", "", 9)
	pdf.MultiCell(0, 5, d.City, "", "L", false)
	pdf.SetFont("go", "B", 17)
	pdf.MultiCell(0, 9, tr("privacy.pdf.title"), "", "L", false)
	pdf.SetFont("go", "", 10)
	pdf.MultiCell(0, 5, tr("privacy.pdf.lead")+" "+d.GeneratedAt.In(clock.Berlin).Format("02.01.2006 15:04"), "", "L", false)
	pdf.Ln(3)

	heading := func(s string) {
		pdf.Ln(2)
		pdf.SetFont("go", "B", 12.5)
		pdf.MultiCell(0, 7, s, "", "L", false)
		pdf.SetFont("go", "", 9.5)
	}
	children := rows(d.Children)
	heading(tr("privacy.pdf.children"))
	if len(children) == 0 {
		pdf.MultiCell(0, 5, tr("privacy.pdf.none"), "", "L", false)
	}
	for _, c := range children {
		line := fmt.Sprint(c["first_name"], " ", c["last_name"])
		if b, ok := c["birth_date"].(string); ok && b != "" {
			line += " (" + tr("privacy.pdf.born") + " " + b + ")"
		}
		pdf.MultiCell(0, 5, line, "", "L", false)
	}
	access := make([]map[string]any, 0, len(d.StaffAccess))
	for _, a := range d.StaffAccess {
		access = append(access, map[string]any{"at": a.At.In(clock.Berlin).Format("02.01.2006 15:04"), "who": a.Who, "action": a.Action})
	}
	for _, part := range []struct {
		key  string
		rows []map[string]any
	}{
		{"account", rows(wrap(d.Account))}, {"families", rows(d.Families)}, {"guardians", rows(d.Guardians)},
		{"children_data", children}, {"requests", rows(d.Requests)}, {"offers", rows(d.Offers)},
		{"contracts", rows(d.Contracts)}, {"inbox", rows(d.Inbox)}, {"staff_access", access},
	} {
		heading(tr("privacy.pdf." + part.key))
		if len(part.rows) == 0 {
			pdf.MultiCell(0, 5, tr("privacy.pdf.none"), "", "L", false)
		}
		for i, r := range part.rows {
			if i > 0 {
				pdf.Ln(1.5)
			}
			record(pdf, r, 0)
		}
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("privacy: render export: %w", err)
	}
	return out.Bytes(), nil
}

// record prints one record's fields, nested lists (choices, history) indented.
func record(pdf *fpdf.Fpdf, r map[string]any, depth int) {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	indent := float64(depth) * 6
	for _, k := range keys {
		v := r[k]
		if list, ok := v.([]any); ok && len(list) > 0 {
			if _, obj := list[0].(map[string]any); obj {
				pdf.SetX(18 + indent)
				pdf.MultiCell(0, 4.8, k+":", "", "L", false)
				for _, item := range list {
					if m, ok := item.(map[string]any); ok {
						record(pdf, m, depth+1)
						pdf.Ln(1)
					}
				}
				continue
			}
		}
		pdf.SetX(18 + indent)
		pdf.MultiCell(0, 4.8, k+": "+text(v), "", "L", false)
	}
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "–"
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func wrap(obj json.RawMessage) json.RawMessage {
	if len(obj) == 0 || string(obj) == "null" {
		return json.RawMessage("[]")
	}
	return json.RawMessage("[" + string(obj) + "]")
}

func rows(raw json.RawMessage) []map[string]any {
	var out []map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}
