package csvfile

import (
	"bytes"
	"strings"
	"testing"
)

func TestWrittenFilesReadBack(t *testing.T) {
	t.Parallel()
	rows := [][]string{{"name", "telefon", "notiz"}, {"Kita Bärenhöhle; Süd", "+49 341 123-45", "=HYPERLINK(\"http://x\")"}, {"Zwergenstube", "-", "@SUM(A1)"}}
	for _, enc := range []string{UTF8, Windows1252} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, enc)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := w.Write(r...); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if enc == UTF8 && !bytes.HasPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF")) {
			t.Error("UTF-8 without byte-order mark: Excel guesses the encoding wrong")
		}
		if strings.Contains(buf.String(), ";=HYPERLINK") || strings.Contains(buf.String(), ";@SUM") {
			t.Errorf("%s: a formula cell is not defused:\n%s", enc, buf.String())
		}
		r, read := readAll(t, buf.String())
		if r.Encoding != enc || r.Delimiter != ';' || len(read) != 2 {
			t.Fatalf("%s: read back as %s %q, %d rows", enc, r.Encoding, r.Delimiter, len(read))
		}
		for i, row := range read {
			for j, col := range rows[0] {
				if got := Restore(row.Get(col)); got != rows[i+1][j] {
					t.Errorf("%s row %d %s: %q, want %q", enc, i, col, got, rows[i+1][j])
				}
			}
		}
	}
}

func TestDefuse(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "Kita": "Kita", "+49 341 1": "'+49 341 1", "-5": "-5", "-5,5": "-5,5", "=1+1": "'=1+1",
		"+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0", "-2+3": "'-2+3", "@x": "'@x", "\tx": "'\tx"} {
		if got := Defuse(in); got != want {
			t.Errorf("Defuse(%q) = %q, want %q", in, got, want)
		}
		if got := Restore(Defuse(in)); got != in {
			t.Errorf("Restore(Defuse(%q)) = %q", in, got)
		}
	}
}
