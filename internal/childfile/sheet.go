package childfile

import (
	"bytes"
	"context"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/google/uuid"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/clock"
)

// sheetWords are the labels of the emergency sheet, German and English.
var sheetWords = map[string]map[string]string{
	"de": {"title": "Notfallblatt", "born": "geboren am", "guardians": "Sorgeberechtigte", "emergency": "Notfallkontakte",
		"pickup": "Abholberechtigte Personen", "allergies": "Allergien", "conditions": "Erkrankungen", "medication": "Medikamente",
		"measles": "Masernschutz-Nachweis gesehen am", "by": "von", "none": "keine Angaben", "noconsent": "Keine Einwilligung zu Gesundheitsdaten erteilt.",
		"footer": "Vertraulich – nur für den Notfall. Erstellt am %s von %s; der Abruf ist protokolliert."},
	"en": {"title": "Emergency sheet", "born": "born", "guardians": "Guardians", "emergency": "Emergency contacts",
		"pickup": "Authorised pick-up persons", "allergies": "Allergies", "conditions": "Conditions", "medication": "Medication",
		"measles": "Measles protection proof seen on", "by": "by", "none": "none given", "noconsent": "No consent to health data given.",
		"footer": "Confidential – for emergencies only. Made on %s by %s; the access is logged."},
}

// SheetPDF opens the emergency sheet with reason (an emergency access, Emergency) and
// renders it as a printable PDF in lang.
func (s *Files) SheetPDF(ctx context.Context, c auth.Caller, id uuid.UUID, reason string) ([]byte, error) {
	f, err := s.Emergency(ctx, c, id, reason)
	if err != nil {
		return nil, err
	}
	return RenderSheet(f, c.Lang, c.Principal.Name(), s.clock.Now())
}

// RenderSheet makes the emergency sheet PDF of f.
func RenderSheet(f *File, lang, by string, made time.Time) ([]byte, error) {
	w, ok := sheetWords[lang]
	if !ok {
		w = sheetWords["de"]
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(made)
	pdf.SetModificationDate(made)
	pdf.SetCreator("Kitaportal", true)
	pdf.SetTitle(w["title"]+" "+f.FirstName+" "+f.LastName, true)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(true, 20)
	pdf.AddPage()
	pdf.SetFont("go", "B", 18)
	pdf.MultiCell(0, 9, w["title"]+": "+f.FirstName+" "+f.LastName, "", "L", false)
	pdf.SetFont("go", "", 10.5)
	if f.BirthDate != nil {
		pdf.MultiCell(0, 6, w["born"]+" "+f.BirthDate.Time().Format("02.01.2006"), "", "L", false)
	}
	pdf.Ln(3)
	section := func(title string, lines []string) {
		pdf.SetFont("go", "B", 13)
		pdf.MultiCell(0, 7, title, "", "L", false)
		pdf.SetFont("go", "", 10.5)
		if len(lines) == 0 {
			lines = []string{w["none"]}
		}
		for _, l := range lines {
			pdf.MultiCell(0, 5.5, l, "", "L", false)
		}
		pdf.Ln(2)
	}
	people := func(ps []Person) []string {
		var out []string
		for _, p := range ps {
			l := p.Name
			if p.Relation != "" {
				l += " (" + p.Relation + ")"
			}
			if p.Phone != "" {
				l += ": " + p.Phone
			}
			out = append(out, l)
		}
		return out
	}
	section(w["emergency"], people(f.Emergency))
	section(w["guardians"], people(f.Guardians))
	section(w["pickup"], people(f.Pickup))
	if f.Health == nil {
		section(w["allergies"]+" / "+w["medication"], []string{w["noconsent"]})
	} else {
		one := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, "\n")
		}
		section(w["allergies"], one(f.Health.Allergies))
		section(w["medication"], one(f.Health.Medication))
		section(w["conditions"], one(f.Health.Conditions))
		if f.Health.MeaslesSeenOn != nil {
			section(w["measles"], []string{f.Health.MeaslesSeenOn.Time().Format("02.01.2006") + " " + w["by"] + " " + f.Health.MeaslesSeenBy})
		}
	}
	pdf.SetFont("go", "", 8.5)
	pdf.MultiCell(0, 4.5, strings.Replace(strings.Replace(w["footer"], "%s", made.In(clock.Berlin).Format("02.01.2006 15:04"), 1), "%s", by, 1), "", "L", false)
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
