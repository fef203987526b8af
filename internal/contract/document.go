package contract

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"kitaportal/internal/auth"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// The care contract (Betreuungsvertrag) of a contract the portal entered: a PDF made by
// a job after the acceptance committed, from the city's rules (fee table, attachments),
// kept in storage; families and staff download it, staff note when the signed papers
// came back.

// TaskDocument makes the document of one contract.
const TaskDocument = "contract:document"

type documentJob struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	ContractID uuid.UUID `json:"contract_id"`
}

// DocumentData is everything the document prints.
type DocumentData struct {
	City        string // the portal's name, e.g. "Kinderbetreuung Kempten"
	Authority   string // the city, e.g. "Stadt Kempten (Allgäu)"
	Guardians   []string
	Address     string
	Child       string
	Birth       date.Date
	Facility    provider.PostalAddress
	Start       date.Date
	End         date.Date
	CareHours   int
	FeeCents    int
	FeeKnown    bool
	Attachments []string
	OnSite      bool // the signed papers are handed in at the facility
	Made        time.Time
}

// euro writes cents the German way: 1.245,50 €.
func euro(cents int) string {
	s := strconv.Itoa(cents / 100)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "." + s[i:]
	}
	return fmt.Sprintf("%s,%02d €", s, cents%100)
}

func germanDay(d date.Date) string { return d.Time().Format("02.01.2006") }

// Render makes the PDF: the contract with its parties, place, fee and clauses, then a
// page per attachment. The same data gives the same bytes.
func Render(d DocumentData) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(d.Made)
	pdf.SetModificationDate(d.Made)
	pdf.SetCatalogSort(true)
	pdf.SetCreator("Kitaportal", true)
	pdf.SetTitle("Betreuungsvertrag "+d.Child, true)
	// Go's fonts cover umlauts, ß and €; embedded, so every reader prints them.
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(true, 20)
	heading := func(s string) {
		pdf.SetFont("go", "B", 13)
		pdf.MultiCell(0, 7, s, "", "L", false)
		pdf.Ln(2)
		pdf.SetFont("go", "", 10.5)
	}
	text := func(s string) { pdf.MultiCell(0, 5.5, s, "", "L", false); pdf.Ln(1.5) }

	pdf.AddPage()
	pdf.SetFont("go", "", 9)
	pdf.MultiCell(0, 5, d.City+" · "+d.Authority, "", "L", false)
	pdf.Ln(4)
	pdf.SetFont("go", "B", 18)
	pdf.MultiCell(0, 9, "Betreuungsvertrag", "", "L", false)
	pdf.Ln(4)
	heading("Vertragsparteien")
	text("Träger der Einrichtung: " + d.Facility.Provider + "\nfür die Einrichtung " + d.Facility.Name + ", " +
		d.Facility.Street + " " + d.Facility.HouseNumber + ", " + d.Facility.PLZ + " " + d.Facility.City)
	text("Personensorgeberechtigte: " + strings.Join(d.Guardians, ", ") + "\n" + d.Address)
	heading("Kind")
	text(d.Child + ", geboren am " + germanDay(d.Birth))
	heading("Betreuung")
	text("Beginn der Betreuung: " + germanDay(d.Start))
	if !d.End.IsZero() {
		text("Voraussichtliches Ende: " + germanDay(d.End.AddDays(-1)) + " (Schuleintritt oder Ende der Altersstufe der Einrichtung)")
	}
	text("Betreuungsumfang: " + strconv.Itoa(d.CareHours) + " Stunden pro Woche")
	heading("Elternbeitrag")
	if d.FeeKnown {
		text("Monatlicher Elternbeitrag nach der Beitragstabelle der Stadt: " + euro(d.FeeCents) +
			". Ermäßigungen nach Einkommen oder für Geschwister setzt die Stadt auf Antrag fest.")
	} else {
		text("Der Elternbeitrag richtet sich nach der Beitragssatzung der Stadt und wird gesondert festgesetzt.")
	}
	heading("Vereinbarungen")
	for i, c := range []string{
		"Die Einrichtung betreut, bildet und erzieht das Kind im vereinbarten Umfang nach ihrer Konzeption.",
		"Die Eltern teilen Änderungen der Anschrift, der Personensorge und Erkrankungen des Kindes, die andere gefährden können, unverzüglich mit.",
		"Der Vertrag kann von den Eltern mit einer Frist von drei Monaten zum Monatsende gekündigt werden; er endet ohne Kündigung mit dem voraussichtlichen Ende.",
		"Die Einrichtung verarbeitet die Daten des Kindes und der Eltern nur zur Erfüllung dieses Vertrags und nach den Vorgaben der DSGVO.",
	} {
		text(strconv.Itoa(i+1) + ". " + c)
	}
	if len(d.Attachments) > 0 {
		heading("Anlagen")
		text(strings.Join(d.Attachments, "\n"))
	}
	if d.OnSite {
		text("Bitte bringen Sie den unterschriebenen Vertrag und die Anlagen zum ersten Termin in die Einrichtung mit.")
	}
	pdf.Ln(10)
	signatures(pdf)

	for _, a := range d.Attachments {
		pdf.AddPage()
		heading("Anlage: " + a)
		text("zum Betreuungsvertrag für " + d.Child + ", geboren am " + germanDay(d.Birth) + ", in der Einrichtung " + d.Facility.Name + ".")
		if strings.Contains(a, "SEPA") {
			text("Ich ermächtige den Träger, den Elternbeitrag von meinem Konto mittels Lastschrift einzuziehen.")
			text("Kontoinhaber: ________________________________________\n\nIBAN: DE__ ____ ____ ____ ____ __\n\nBIC: ___________")
		} else {
			text("Wir haben die Anlage erhalten, gelesen und erklären uns mit ihr einverstanden.")
		}
		pdf.Ln(10)
		signatures(pdf)
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("contract: render: %w", err)
	}
	return out.Bytes(), nil
}

func signatures(pdf *fpdf.Fpdf) {
	pdf.SetFont("go", "", 10.5)
	pdf.CellFormat(80, 6, "____________________________", "", 0, "L", false, 0, "")
	pdf.CellFormat(80, 6, "____________________________", "", 1, "L", false, 0, "")
	pdf.CellFormat(80, 6, "Ort, Datum, Personensorgeberechtigte", "", 0, "L", false, 0, "")
	pdf.CellFormat(80, 6, "Ort, Datum, Träger", "", 1, "L", false, 0, "")
}

// Tenants finds a city by id (the worker's tenant registry).
type Tenants interface {
	Lookup(ctx context.Context, id uuid.UUID) (*tenant.Tenant, error)
}

// Documents makes the contracts' documents (the worker's handler of TaskDocument).
type Documents struct {
	db      *bun.DB
	files   storage.Storage
	tenants Tenants
	clock   clock.Clock
	log     *slog.Logger
}

// NewDocuments returns the document maker.
func NewDocuments(db *bun.DB, files storage.Storage, tenants Tenants, clk clock.Clock, log *slog.Logger) *Documents {
	return &Documents{db: db, files: files, tenants: tenants, clock: clk, log: log}
}

// Handle makes the document of the job's contract, once: a contract that has its
// document already is left alone.
func (d *Documents) Handle(ctx context.Context, task *asynq.Task) error {
	var job documentJob
	if err := json.Unmarshal(task.Payload(), &job); err != nil {
		return fmt.Errorf("%s: %w: %w", TaskDocument, err, asynq.SkipRetry)
	}
	t, err := d.tenants.Lookup(ctx, job.TenantID)
	if err != nil {
		return err
	}
	return d.Make(ctx, t, job.ContractID)
}

// Make renders and stores the document of contract id and records where it is.
func (d *Documents) Make(ctx context.Context, t *tenant.Tenant, id uuid.UUID) error {
	var data DocumentData
	done := false
	err := database.InTenantTx(ctx, d.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		data, done, err = documentData(ctx, tx, t, id)
		return err
	})
	if err != nil || done {
		return err
	}
	data.Made = d.clock.Now()
	pdf, err := Render(data)
	if err != nil {
		return err
	}
	key := "contracts/" + t.ID.String() + "/" + id.String() + ".pdf"
	if err := d.files.Put(ctx, key, bytes.NewReader(pdf)); err != nil {
		return err
	}
	return database.InTenantTx(ctx, d.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE contract SET document_key = ?, document_at = ? WHERE tenant_id = ? AND id = ? AND document_key IS NULL`,
			key, d.clock.Now(), t.ID, id)
		return err
	})
}

// documentData reads what the document of contract id prints; done when it has one.
func documentData(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID) (DocumentData, bool, error) {
	var row struct {
		ChildID     uuid.UUID `bun:"child_id"`
		FacilityID  uuid.UUID `bun:"facility_id"`
		Start       date.Date `bun:"start_date"`
		End         date.Date `bun:"end_date"`
		CareHours   int       `bun:"care_hours"`
		DocumentKey *string   `bun:"document_key"`
	}
	err := tx.NewRaw(`SELECT child_id, facility_id, start_date, coalesce(end_date, '0001-01-01') AS end_date, care_hours, document_key
		FROM contract WHERE tenant_id = ? AND id = ?`, t.ID, id).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return DocumentData{}, true, nil // erased meanwhile: nothing to make
	}
	if err != nil || row.DocumentKey != nil {
		return DocumentData{}, err == nil, err
	}
	ch, err := family.ChildWithAddress(ctx, tx, t.ID, row.ChildID)
	if err != nil {
		return DocumentData{}, false, err
	}
	gs, err := family.GuardianContacts(ctx, tx, t.ID, ch.FamilyID)
	if err != nil {
		return DocumentData{}, false, err
	}
	fac, err := provider.PostalAddressOf(ctx, tx, t.ID, row.FacilityID)
	if err != nil {
		return DocumentData{}, false, err
	}
	d := DocumentData{City: t.Rules.Branding.DisplayName, Authority: t.Name, Child: ch.FirstName + " " + ch.LastName,
		Address: strings.TrimSpace(ch.Street + " " + ch.HouseNumber + ", " + ch.PLZ + " " + ch.City), Facility: *fac,
		Start: row.Start, CareHours: row.CareHours, OnSite: t.Rules.Contract.PapersOnSite}
	if row.End.Year() > 1 {
		d.End = row.End
	}
	if ch.BirthDate != nil {
		d.Birth = *ch.BirthDate
	}
	for _, g := range gs {
		d.Guardians = append(d.Guardians, g.FirstName+" "+g.LastName)
	}
	if band, ok := t.Rules.Calendar().BandAt(d.Birth, d.Start); ok {
		d.FeeCents, d.FeeKnown = t.Rules.Fee(band.Key, d.CareHours)
	}
	for _, a := range t.Rules.Contract.Attachments {
		d.Attachments = append(d.Attachments, a.Title.In("de"))
	}
	return d, false, nil
}

// DocumentOf is where the document of contract id is kept; ready is false while its
// job has not run yet.
func DocumentOf(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID) (key string, ready bool, err error) {
	var k *string
	err = tx.QueryRowContext(ctx, `SELECT document_key FROM contract WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, ErrNotFound
	}
	if err != nil || k == nil {
		return "", false, err
	}
	return *k, true, nil
}

// Document is where the document of contract id in the caller's scope is kept, with the
// file name to offer; the download is audited as a read of the contract.
func (s *Service) Document(ctx context.Context, c auth.Caller, id uuid.UUID) (key, name string, err error) {
	err = s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		k, err := load(ctx, tx, c, id, false)
		if err != nil {
			return err
		}
		var ready bool
		if key, ready, err = DocumentOf(ctx, tx, c.Tenant.ID, id); err != nil {
			return err
		}
		if !ready {
			return ErrNotFound
		}
		names, err := family.ChildNames(ctx, tx, c.Tenant.ID, []uuid.UUID{k.ChildID})
		if err != nil || len(names) == 0 {
			return ErrNotFound
		}
		name = DocumentName(names[0].LastName, k.Start)
		return record(ctx, tx, c, ActionRead, k, map[string]any{"document": true})
	})
	return key, name, err
}

// DocumentName is the file name of a care contract: Betreuungsvertrag-Weiss-2027-09-01.pdf
// (ASCII, umlauts spelled out).
func DocumentName(lastName string, start date.Date) string {
	var b strings.Builder
	for _, r := range strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue", "ß", "ss", " ", "-").Replace(lastName) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
			b.WriteRune(r)
		}
	}
	return "Betreuungsvertrag-" + b.String() + "-" + start.String() + ".pdf"
}

// ActionPapersReceived is the audit action of noting the signed papers.
const ActionPapersReceived = "contract.papers_received"

// PapersReceived notes that the signed papers of contract id in the caller's scope came
// back to the facility (Herzberg hands them in on site).
func (s *Service) PapersReceived(ctx context.Context, c auth.Caller, id uuid.UUID) error {
	return s.inTx(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		k, err := load(ctx, tx, c, id, true)
		if err != nil {
			return err
		}
		if err := MarkPapersReceived(ctx, tx, c.Tenant.ID, id, c.Principal.ID, s.clock.Now()); err != nil {
			return err
		}
		return record(ctx, tx, c, ActionPapersReceived, k, nil)
	})
}

// MarkPapersReceived notes that the signed papers of contract id came back (once: the
// first note stays).
func MarkPapersReceived(ctx context.Context, tx bun.IDB, tenantID, id, by uuid.UUID, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE contract SET papers_received_at = ?, papers_received_by = ?
		WHERE tenant_id = ? AND id = ? AND papers_received_at IS NULL`, now, by, tenantID, id)
	return err
}
