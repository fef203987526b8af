package csvfile

import (
	"encoding/csv"
	"io"
	"regexp"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// Writer writes CSV the way German offices open it: semicolons, CRLF, and UTF-8 with a
// byte-order mark (Excel then detects the encoding) or Windows-1252 (characters it lacks
// become "?"). Cells that a spreadsheet would run as a formula are defused with a
// leading apostrophe (see Defuse); Open's reader gives them back through Restore.
type Writer struct {
	csv *csv.Writer
}

// NewWriter writes to w in encoding (UTF8 or Windows1252).
func NewWriter(w io.Writer, enc string) (*Writer, error) {
	if enc == Windows1252 {
		w = transform.NewWriter(w, encoding.ReplaceUnsupported(charmap.Windows1252.NewEncoder()))
	} else if _, err := io.WriteString(w, "\xEF\xBB\xBF"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = ';', true
	return &Writer{csv: cw}, nil
}

// Write writes one row, each cell defused.
func (w *Writer) Write(cells ...string) error {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = Defuse(c)
	}
	return w.csv.Write(out)
}

// Flush writes what is buffered and reports the first error of any write.
func (w *Writer) Flush() error {
	w.csv.Flush()
	return w.csv.Error()
}

// A plain signed number may start with + or -; anything else starting with = + - @ (or a
// tab or carriage return) is what spreadsheets evaluate — also "+49 341 …", which Excel
// would turn into an error, and now shows as the text it is.
var (
	harmlessSigned = regexp.MustCompile(`^[+-][0-9]+([.,][0-9]+)?$`)
	defused        = regexp.MustCompile(`^'[=+\-@\t\r]`)
)

// Defuse prefixes a cell that a spreadsheet would evaluate as a formula with an
// apostrophe (OWASP: CSV injection).
func Defuse(cell string) string {
	if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) || harmlessSigned.MatchString(cell) {
		return cell
	}
	return "'" + cell
}

// Restore undoes Defuse, so an exported file imports unchanged.
func Restore(cell string) string {
	if defused.MatchString(cell) {
		return cell[1:]
	}
	return cell
}
