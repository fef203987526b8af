package csvfile

import (
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

func readAll(t *testing.T, data string) (*Reader, []Row) {
	t.Helper()
	r, err := Open(strings.NewReader(data), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r, rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
}

func TestExcelGermanyWindows1252WithSemicolons(t *testing.T) {
	t.Parallel()
	text := "Name;Straße;PLZ\r\n\"Kita Sonnenblume; Süd\";Lönsweg 3;44789\r\n\r\nKita Bärenhöhle;Mühlenstraße 1;44787\r\n"
	cp1252, err := charmap.Windows1252.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	r, rows := readAll(t, cp1252)
	if r.Encoding != Windows1252 || r.Delimiter != ';' {
		t.Errorf("detected %s %q", r.Encoding, r.Delimiter)
	}
	if len(rows) != 2 || rows[0].Get("name") != "Kita Sonnenblume; Süd" || rows[1].Get("STRASSE") != "" || rows[1].Get("Straße") != "Mühlenstraße 1" {
		t.Errorf("rows %+v", rows)
	}
	if rows[1].Line != 4 {
		t.Errorf("line numbers must count the blank line: %d", rows[1].Line)
	}
	if r.Progress() != 1 {
		t.Errorf("progress %v", r.Progress())
	}
}

func TestUTF8WithBOMAndCommas(t *testing.T) {
	t.Parallel()
	r, rows := readAll(t, "\xEF\xBB\xBFname,plz\nKita Löwenzahn,04109\n")
	if r.Encoding != UTF8 || r.Delimiter != ',' || r.Header[0] != "name" || rows[0].Get("name") != "Kita Löwenzahn" {
		t.Errorf("%s %q %v %v", r.Encoding, r.Delimiter, r.Header, rows)
	}
	if m := r.Missing("name", "plz", "capacity"); len(m) != 1 || m[0] != "capacity" {
		t.Errorf("missing %v", m)
	}
}

func TestBrokenFiles(t *testing.T) {
	t.Parallel()
	if _, err := Open(strings.NewReader(""), 100); err == nil {
		t.Error("empty file accepted")
	}
	if _, err := Open(strings.NewReader(strings.Repeat("x", 200)), 100); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	if _, err := Open(strings.NewReader("a;b;a\n"), 100); err == nil {
		t.Error("duplicate column accepted")
	}
	r, _ := Open(strings.NewReader("a;b\n1;2\n\"3;4\n"), 100)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("broken quoting must name its line: %v", err)
	}
}
