package contract

import (
	"strings"
	"testing"
	"time"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/pdftext"
	"kitaportal/internal/provider"
)

// The care contract reads back with names, dates and the fee as printed, umlauts, ß and
// € included, and one page per attachment; the same data gives the same bytes.
func TestCareContractReadsBack(t *testing.T) {
	t.Parallel()
	d := DocumentData{City: "Kinderbetreuung Kempten", Authority: "Stadt Kempten (Allgäu)",
		Guardians: []string{"Pia Weiß-Öztürk", "Jörg Weiß"}, Address: "Lindenstraße 4a, 87435 Kempten", Child: "Jürgen Weiß-Öztürk",
		Birth: date.MustParse("2025-03-14"), Start: date.MustParse("2026-09-01"), End: date.MustParse("2031-09-01"), CareHours: 35,
		FeeCents: 124550, FeeKnown: true, Facility: provider.PostalAddress{Name: "Kita Iller", Provider: "Träger Süd e. V.",
			Street: "Gartenweg", HouseNumber: "3", PLZ: "87435", City: "Kempten"},
		Attachments: []string{"Hausordnung der Einrichtung", "SEPA-Lastschriftmandat"}, Made: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	pdf, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	text := pdftext.ForTest(t, pdf)
	for _, want := range []string{"Betreuungsvertrag", "Jürgen Weiß-Öztürk", "14.03.2025", "01.09.2026", "31.08.2031", "35 Stunden",
		"1.245,50 €", "Pia Weiß-Öztürk, Jörg Weiß", "Lindenstraße 4a", "Kita Iller", "Träger Süd e. V.",
		"Anlage: Hausordnung der Einrichtung", "Anlage: SEPA-Lastschriftmandat", "IBAN"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
	if pages := strings.Count(text, "\f"); pages != 3 {
		t.Errorf("%d pages, want the contract and one per attachment (3)", pages)
	}
	again, err := Render(d)
	if err != nil || string(again) != string(pdf) {
		t.Error("the same data rendered different bytes")
	}
	d.FeeKnown = false
	if pdf, err = Render(d); err != nil || !strings.Contains(pdftext.ForTest(t, pdf), "Beitragssatzung") {
		t.Errorf("without a fee row the contract points to the statute: %v", err)
	}
}

func TestEuroAndFileName(t *testing.T) {
	t.Parallel()
	for cents, want := range map[int]string{0: "0,00 €", 5: "0,05 €", 24550: "245,50 €", 124550: "1.245,50 €", 100000000: "1.000.000,00 €"} {
		if got := euro(cents); got != want {
			t.Errorf("euro(%d) = %q, want %q", cents, got, want)
		}
	}
	if got := DocumentName("Weiß-Öztürk", date.MustParse("2027-09-01")); got != "Betreuungsvertrag-Weiss-Oeztuerk-2027-09-01.pdf" {
		t.Errorf("file name %q", got)
	}
}
