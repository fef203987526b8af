package httpserver

// The edge kit: what handlers read from a request (JSON bodies, path ids, form values,
// uploads) and the CSV downloads they answer with, one way for every package.

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvfile"
)

// ErrBadJSON answers a body that is not the JSON the endpoint takes: 400 invalid_json.
var ErrBadJSON = apperr.New(apperr.KindBadRequest, "invalid_json")

// ErrBadID answers a path id that does not parse: like any unknown id, 404 not_found.
var ErrBadID = apperr.NotFound("not_found")

// DecodeJSON reads the request body into v. An empty body is bad JSON; unknown fields
// are ignored, so clients may send more than we read. The size is the app's BodyLimit.
func DecodeJSON(c *fiber.Ctx, v any) error {
	if len(c.Body()) == 0 || json.Unmarshal(c.Body(), v) != nil {
		return ErrBadJSON
	}
	return nil
}

// PathID reads the uuid path parameter name; anything else is ErrBadID.
func PathID(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, ErrBadID
	}
	return id, nil
}

// PathIDs reads two uuid path parameters (a thing and one of its parts); the first bad
// one is ErrBadID.
func PathIDs(c *fiber.Ctx, a, b string) (uuid.UUID, uuid.UUID, error) {
	first, err := PathID(c, a)
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	second, err := PathID(c, b)
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	return first, second, nil
}

// PathNumber reads the decimal path parameter name within [lo, hi]; anything else is
// ErrBadID (a number out of range names nothing).
func PathNumber(c *fiber.Ctx, name string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(c.Params(name))
	if err != nil || n < lo || n > hi {
		return 0, ErrBadID
	}
	return n, nil
}

// FormValues reads the form fields keys (URL-encoded or multipart), missing ones as "".
func FormValues(c *fiber.Ctx, keys ...string) map[string]string {
	v := make(map[string]string, len(keys))
	for _, k := range keys {
		v[k] = c.FormValue(k)
	}
	return v
}

// PostedValues reads every field of a URL-encoded form but skip (the last value of a
// repeated field), to show a form again as typed.
func PostedValues(c *fiber.Ctx, skip ...string) map[string]string {
	v := map[string]string{}
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		if key := string(k); !slices.Contains(skip, key) {
			v[key] = string(val)
		}
	})
	return v
}

// PostedList reads every value of a repeated field of a URL-encoded form (checkboxes).
func PostedList(c *fiber.Ctx, name string) []string {
	var out []string
	for _, raw := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(raw))
	}
	return out
}

// Checked tells whether a checkbox was sent with any value.
func Checked(c *fiber.Ctx, name string) bool { return c.FormValue(name) != "" }

// Upload is a file sent with a multipart form.
type Upload struct {
	Filename string
	Content  []byte
}

// UploadRules say which field holds the file, how large it may be and how a form
// refuses a missing or too large file (each form keeps its own codes).
type UploadRules struct {
	Field    string
	MaxBytes int64
	Missing  *apperr.Error
	TooLarge *apperr.Error
}

// ReadUpload reads the uploaded file of rules.Field, at most rules.MaxBytes.
func ReadUpload(c *fiber.Ctx, rules UploadRules) (*Upload, error) {
	fh, err := c.FormFile(rules.Field)
	if err != nil {
		return nil, rules.Missing
	}
	if fh.Size > rules.MaxBytes {
		return nil, rules.TooLarge
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The header's size is what the client said; the limit holds for what is read.
	content, err := io.ReadAll(io.LimitReader(f, rules.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(content)) > rules.MaxBytes {
		return nil, rules.TooLarge
	}
	return &Upload{Filename: fh.Filename, Content: content}, nil
}

// CSVEncoding is the export encoding a request asks for: ?encoding=windows-1252 for old
// Excel, else UTF-8 (csvfile.UTF8 or csvfile.Windows1252).
func CSVEncoding(c *fiber.Ctx) string {
	if strings.EqualFold(c.Query("encoding"), "windows-1252") {
		return csvfile.Windows1252
	}
	return csvfile.UTF8
}

// CSVType is the Content-Type of a CSV file in enc.
func CSVType(enc string) string {
	if enc == csvfile.Windows1252 {
		return "text/csv; charset=windows-1252"
	}
	return "text/csv; charset=utf-8"
}

// SendCSV answers with the CSV download name, written by write in enc (UTF-8 with its
// byte-order mark, or Windows-1252; see csvfile.NewWriter).
func SendCSV(c *fiber.Ctx, name, enc string, write func(*csvfile.Writer) error) error {
	var buf bytes.Buffer
	w, err := csvfile.NewWriter(&buf, enc)
	if err != nil {
		return err
	}
	if err := write(w); err != nil {
		return err
	}
	return SendAttachment(c, name, CSVType(enc), buf.Bytes())
}

// SendAttachment answers body as the download name; no cache keeps it (personal data).
func SendAttachment(c *fiber.Ctx, name, contentType string, body []byte) error {
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(body)
}

// List is s, or an empty list for nil, so that a JSON answer carries [] and never null.
func List[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
