package httpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvfile"
)

// edgeApp is an app with the real error handler, so tests see what clients see.
func edgeApp(t *testing.T, bodyLimit int) *fiber.App {
	t.Helper()
	return New(Options{BodyLimit: bodyLimit, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

type errorAnswer struct {
	Error struct {
		Code  string `json:"code"`
		Field string `json:"field"`
	} `json:"error"`
}

// code is the error code of a JSON error answer ("" if there is none).
func (a answer) code() string {
	var e errorAnswer
	_ = json.Unmarshal(a.body, &e)
	return e.Error.Code
}

// field is the field of a JSON error answer.
func (a answer) field() string {
	var e errorAnswer
	_ = json.Unmarshal(a.body, &e)
	return e.Error.Field
}

func do(t *testing.T, app *fiber.App, req *http.Request) answer {
	t.Helper()
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: body}
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	app := edgeApp(t, 64)
	app.Post("/api/echo", func(c *fiber.Ctx) error {
		var in struct {
			Name string `json:"name"`
			N    int    `json:"n"`
		}
		if err := DecodeJSON(c, &in); err != nil {
			return err
		}
		return c.JSON(in)
	})
	cases := []struct {
		name, body string
		status     int
		code, echo string
	}{
		{"good", `{"name":"Kita","n":3}`, 200, "", `{"name":"Kita","n":3}`},
		{"unknown field ignored", `{"name":"Kita","extra":true}`, 200, "", `{"name":"Kita","n":0}`},
		{"garbage", `not json`, 400, "invalid_json", ""},
		{"empty", ``, 400, "invalid_json", ""},
		{"wrong type", `{"n":"three"}`, 400, "invalid_json", ""},
		{"not an object", `[1,2]`, 400, "invalid_json", ""},
	}
	for _, tc := range cases {
		req := httptest.NewRequest("POST", "/api/echo", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		a := do(t, app, req)
		if a.status != tc.status || a.code() != tc.code {
			t.Errorf("%s: %d %q, want %d %q (%s)", tc.name, a.status, a.code(), tc.status, tc.code, a.body)
		}
		if tc.echo != "" && string(a.body) != tc.echo {
			t.Errorf("%s: body %s, want %s", tc.name, a.body, tc.echo)
		}
	}

	// The size limit is the app's BodyLimit: fasthttp refuses a larger body before any
	// handler runs, which app.Test cannot show, so this goes through a real listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	res, err := http.Post("http://"+ln.Addr().String()+"/api/echo", "application/json",
		strings.NewReader(`{"name":"`+strings.Repeat("x", 100)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if a := (answer{status: res.StatusCode, body: body}); a.status != 413 || a.code() != "body_too_large" {
		t.Errorf("too large: %d %s, want 413 body_too_large", a.status, body)
	}
}

func TestPathIDs(t *testing.T) {
	t.Parallel()
	app := edgeApp(t, 0)
	app.Get("/api/one/:id", func(c *fiber.Ctx) error {
		id, err := PathID(c, "id")
		if err != nil {
			return err
		}
		return c.SendString(id.String())
	})
	app.Get("/api/two/:a/:b", func(c *fiber.Ctx) error {
		a, b, err := PathIDs(c, "a", "b")
		if err != nil {
			return err
		}
		return c.SendString(a.String() + " " + b.String())
	})
	app.Get("/api/photo/:n", func(c *fiber.Ctx) error {
		n, err := PathNumber(c, "n", 1, 20)
		if err != nil {
			return err
		}
		return c.JSON(n)
	})
	const a, b = "0190a1b2-0000-7000-8000-000000000001", "0190a1b2-0000-7000-8000-000000000002"
	cases := []struct {
		path   string
		status int
		body   string
	}{
		{"/api/one/" + a, 200, a},
		{"/api/one/" + strings.ToUpper(a), 200, a},
		{"/api/one/42", 404, ""},
		{"/api/one/" + a + "x", 404, ""},
		{"/api/two/" + a + "/" + b, 200, a + " " + b},
		{"/api/two/nope/" + b, 404, ""},
		{"/api/two/" + a + "/nope", 404, ""},
		{"/api/photo/1", 200, "1"},
		{"/api/photo/20", 200, "20"},
		{"/api/photo/0", 404, ""},
		{"/api/photo/21", 404, ""},
		{"/api/photo/-1", 404, ""},
		{"/api/photo/x", 404, ""},
	}
	for _, tc := range cases {
		r := do(t, app, httptest.NewRequest("GET", tc.path, nil))
		if r.status != tc.status {
			t.Errorf("%s: %d, want %d (%s)", tc.path, r.status, tc.status, r.body)
			continue
		}
		if tc.status == 404 && r.code() != "not_found" {
			t.Errorf("%s: code %q, want not_found", tc.path, r.code())
		}
		if tc.body != "" && string(r.body) != tc.body {
			t.Errorf("%s: body %q, want %q", tc.path, r.body, tc.body)
		}
	}
}

func TestFormValues(t *testing.T) {
	t.Parallel()
	app := edgeApp(t, 0)
	var values, posted map[string]string
	var list []string
	var on, off bool
	app.Post("/form", func(c *fiber.Ctx) error {
		values = FormValues(c, "name", "missing")
		posted = PostedValues(c, "_csrf")
		list = PostedList(c, "concept")
		on, off = Checked(c, "dry_run"), Checked(c, "missing")
		return c.SendStatus(204)
	})
	form := url.Values{"name": {"Kita Sonne"}, "_csrf": {"secret"}, "concept": {"montessori", "waldorf"}, "dry_run": {"1"}}
	req := httptest.NewRequest("POST", "/form", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := do(t, app, req); r.status != 204 {
		t.Fatalf("status %d", r.status)
	}
	if len(values) != 2 || values["name"] != "Kita Sonne" || values["missing"] != "" {
		t.Errorf("FormValues %v", values)
	}
	if _, ok := posted["_csrf"]; ok || posted["name"] != "Kita Sonne" || posted["concept"] != "waldorf" || len(posted) != 3 {
		t.Errorf("PostedValues %v", posted)
	}
	if !slices.Equal(list, []string{"montessori", "waldorf"}) {
		t.Errorf("PostedList %v", list)
	}
	if !on || off {
		t.Errorf("Checked: %v %v", on, off)
	}
}

func TestSendCSV(t *testing.T) {
	t.Parallel()
	app := edgeApp(t, 0)
	app.Get("/export", func(c *fiber.Ctx) error {
		return SendCSV(c, "belegung.csv", CSVEncoding(c), func(w *csvfile.Writer) error {
			if err := w.Write("name", "ort"); err != nil {
				return err
			}
			if err := w.Write("Kita Bärenhöhle", "=HYPERLINK()"); err != nil {
				return err
			}
			return w.Flush()
		})
	})
	app.Get("/fails", func(c *fiber.Ctx) error {
		return SendCSV(c, "x.csv", csvfile.UTF8, func(*csvfile.Writer) error { return apperr.Forbidden("nope") })
	})

	r := do(t, app, httptest.NewRequest("GET", "/export", nil))
	if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		r.header.Get("Content-Disposition") != `attachment; filename="belegung.csv"` || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("utf-8: %d %v", r.status, r.header)
	}
	if want := "\xEF\xBB\xBFname;ort\r\nKita Bärenhöhle;'=HYPERLINK()\r\n"; string(r.body) != want {
		t.Errorf("utf-8 body %q, want %q", r.body, want)
	}

	r = do(t, app, httptest.NewRequest("GET", "/export?encoding=Windows-1252", nil))
	if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=windows-1252" {
		t.Fatalf("windows-1252: %d %v", r.status, r.header)
	}
	if want := "name;ort\r\nKita B\xe4renh\xf6hle;'=HYPERLINK()\r\n"; string(r.body) != want {
		t.Errorf("windows-1252 body %q, want %q", r.body, want)
	}

	r = do(t, app, httptest.NewRequest("GET", "/fails", nil))
	if r.status != 403 || r.header.Get("Content-Disposition") != "" {
		t.Errorf("failed write: %d %v", r.status, r.header)
	}
}

func TestSendAttachment(t *testing.T) {
	t.Parallel()
	app := edgeApp(t, 0)
	app.Get("/file", func(c *fiber.Ctx) error { return SendAttachment(c, "einrichtungen.csv", "text/csv", []byte("a;b\r\n")) })
	r := do(t, app, httptest.NewRequest("GET", "/file", nil))
	if r.status != 200 || r.header.Get("Content-Type") != "text/csv" || string(r.body) != "a;b\r\n" ||
		r.header.Get("Content-Disposition") != `attachment; filename="einrichtungen.csv"` || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%d %v %q", r.status, r.header, r.body)
	}
}

func TestReadUpload(t *testing.T) {
	t.Parallel()
	app := edgeApp(t, 1<<20)
	rules := UploadRules{Field: "file", MaxBytes: 10,
		Missing:  apperr.Invalid("file", "file_required", nil),
		TooLarge: apperr.New(apperr.KindTooLarge, "file_too_large").WithField("file")}
	app.Post("/api/upload", func(c *fiber.Ctx) error {
		up, err := ReadUpload(c, rules)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"name": up.Filename, "content": string(up.Content)})
	})
	upload := func(field, name, content string) *http.Request {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		_ = w.WriteField("dry_run", "1")
		if field != "" {
			fw, err := w.CreateFormFile(field, name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = fw.Write([]byte(content))
		}
		_ = w.Close()
		req := httptest.NewRequest("POST", "/api/upload", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		return req
	}

	r := do(t, app, upload("file", "liste.csv", "a;b\r\n"))
	if r.status != 200 || string(r.body) != `{"content":"a;b\r\n","name":"liste.csv"}` {
		t.Errorf("good: %d %s", r.status, r.body)
	}
	r = do(t, app, upload("file", "exact.csv", "0123456789"))
	if r.status != 200 {
		t.Errorf("at the limit: %d %s", r.status, r.body)
	}
	r = do(t, app, upload("file", "big.csv", "0123456789x"))
	if r.status != 413 || r.code() != "file_too_large" || r.field() != "file" {
		t.Errorf("too big: %d %s", r.status, r.body)
	}
	r = do(t, app, upload("other", "x.csv", "a"))
	if r.status != 422 || r.code() != "file_required" || r.field() != "file" {
		t.Errorf("other field: %d %s", r.status, r.body)
	}
	r = do(t, app, upload("", "", ""))
	if r.status != 422 || r.code() != "file_required" {
		t.Errorf("no file: %d %s", r.status, r.body)
	}
	req := httptest.NewRequest("POST", "/api/upload", strings.NewReader("a;b"))
	req.Header.Set("Content-Type", "text/csv")
	if r = do(t, app, req); r.status != 422 || r.code() != "file_required" {
		t.Errorf("not multipart: %d %s", r.status, r.body)
	}
}
