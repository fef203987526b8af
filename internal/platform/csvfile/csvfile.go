// Package csvfile reads CSV uploads the way offices produce them: UTF-8 with or without
// byte-order mark, or Windows-1252 (what Excel writes in Germany), fields separated by
// semicolons or commas, a header row naming the columns. Imports of facilities, contracts
// and paper waitlists all read through it.
package csvfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encodings recognised.
const (
	UTF8        = "UTF-8"
	Windows1252 = "Windows-1252"
)

// ErrTooLarge: the file is larger than the caller allows.
var ErrTooLarge = errors.New("csvfile: file too large")

// Reader yields the rows of one file as column → value.
type Reader struct {
	Encoding  string
	Delimiter rune
	Header    []string // as written, trimmed
	total     int64
	counted   *countingReader
	csv       *csv.Reader
	index     map[string]int // lower-case column name → position
}

// Row is one data line.
type Row struct {
	Line   int // line number in the file, for messages (the header is line 1)
	values []string
	index  map[string]int
}

// Get returns the trimmed value of column (case-insensitive), "" when missing.
func (r Row) Get(column string) string {
	i, ok := r.index[strings.ToLower(column)]
	if !ok || i >= len(r.values) {
		return ""
	}
	return strings.TrimSpace(r.values[i])
}

// Open reads the whole upload (at most maxBytes), detects encoding and separator and
// parses the header.
func Open(r io.Reader, maxBytes int64) (*Reader, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > maxBytes {
		return nil, ErrTooLarge
	}
	raw = bytes.TrimPrefix(raw, []byte("\xEF\xBB\xBF"))
	rd := &Reader{Encoding: UTF8, total: int64(len(raw))}
	if !utf8.Valid(raw) {
		// Not UTF-8: Windows-1252 maps every byte, so it is the safe reading of Excel files.
		decoded, err := charmap.Windows1252.NewDecoder().Bytes(raw)
		if err != nil {
			return nil, fmt.Errorf("csvfile: decode: %w", err)
		}
		raw, rd.Encoding = decoded, Windows1252
		rd.total = int64(len(raw))
	}
	firstLine, _, _ := bytes.Cut(raw, []byte("\n"))
	rd.Delimiter = ','
	if bytes.Count(firstLine, []byte(";")) > bytes.Count(firstLine, []byte(",")) {
		rd.Delimiter = ';'
	}
	rd.counted = &countingReader{r: bytes.NewReader(raw)}
	rd.csv = csv.NewReader(rd.counted)
	rd.csv.Comma = rd.Delimiter
	rd.csv.FieldsPerRecord = -1 // ragged rows become row errors, not a failed file
	header, err := rd.csv.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("csvfile: the file is empty")
	}
	if err != nil {
		return nil, fmt.Errorf("csvfile: header: %w", err)
	}
	rd.index = map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		rd.Header = append(rd.Header, h)
		if _, dup := rd.index[strings.ToLower(h)]; dup && h != "" {
			return nil, fmt.Errorf("csvfile: column %q appears twice", h)
		}
		rd.index[strings.ToLower(h)] = i
	}
	return rd, nil
}

// Missing lists the required columns the header lacks.
func (r *Reader) Missing(required ...string) []string {
	var out []string
	for _, c := range required {
		if _, ok := r.index[strings.ToLower(c)]; !ok {
			out = append(out, c)
		}
	}
	return out
}

// Next returns the next non-empty row, or io.EOF.
func (r *Reader) Next() (Row, error) {
	for {
		rec, err := r.csv.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return Row{Line: pe.Line}, fmt.Errorf("line %d: %w", pe.Line, pe.Err)
			}
			return Row{}, err
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		line, _ := r.csv.FieldPos(0)
		return Row{Line: line, values: rec, index: r.index}, nil
	}
}

// Progress is the share of the file read so far, from 0 to 1.
func (r *Reader) Progress() float64 {
	if r.total == 0 {
		return 1
	}
	return float64(r.counted.n) / float64(r.total)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
