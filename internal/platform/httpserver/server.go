// Package httpserver builds the Fiber app with what every route needs: request ids,
// deadlines, panic recovery, access logs, metrics, trusted-proxy handling, and the one
// error handler that turns every error into a status, a JSON body or an HTML page in the
// user's language.
package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/platform/view"
)

// Options configure the app.
type Options struct {
	BodyLimit      int
	HeaderLimit    int
	RequestTimeout time.Duration
	Log            *slog.Logger
	Metrics        *Metrics
	Catalogue      *i18n.Catalogue
	// TenantLabel names the request's tenant for logs and metrics ("" = none).
	TenantLabel func(c *fiber.Ctx) string
	// ErrorPage renders an error for browsers. Nil: plain text.
	ErrorPage func(c *fiber.Ctx, status int, e *apperr.Error, message string) error
}

// slowRequest is logged even when it succeeded.
const slowRequest = 500 * time.Millisecond

// Locals keys set here.
const (
	LocalRequestID = "request_id"
	localUnmatched = "unmatched"
)

// New returns a Fiber app with the common middleware installed.
func New(o Options) *fiber.App {
	s := &server{o: o}
	app := fiber.New(fiber.Config{
		AppName:        "kitaportal",
		ErrorHandler:   s.handleError,
		BodyLimit:      o.BodyLimit,
		ReadBufferSize: o.HeaderLimit,
		// Pages with their security headers are larger than fasthttp's 4 KiB default, which
		// would split every response into two write calls.
		WriteBufferSize:       32 << 10,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		DisableStartupMessage: true,
		// Fiber must never trust X-Forwarded-* on its own; Proxies decides that.
		EnableTrustedProxyCheck: true,
		JSONEncoder:             json.Marshal,
		JSONDecoder:             json.Unmarshal,
	})
	app.Use(s.observe)
	return app
}

type server struct{ o Options }

// observe wraps every request: id, deadline, panic recovery, then one log line and the
// metrics once the final status is known.
func (s *server) observe(c *fiber.Ctx) (err error) {
	start := time.Now()
	id := c.Get(fiber.HeaderXRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Locals(LocalRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)

	ctx := withLazyDeadline(c.UserContext(), s.o.RequestTimeout)
	defer ctx.release()
	c.SetUserContext(ctx)

	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		err = c.Next()
	}()
	if err != nil {
		if herr := s.handleError(c, err); herr != nil {
			s.o.Log.Error("error handler failed", "request_id", id, "err", herr)
			c.Status(fiber.StatusInternalServerError)
		}
	}

	status := c.Response().StatusCode()
	route := c.Route().Path
	if c.Locals(localUnmatched) != nil {
		route = "unmatched"
	}
	tenant := ""
	if s.o.TenantLabel != nil {
		tenant = s.o.TenantLabel(c)
	}
	elapsed := time.Since(start)
	if s.o.Metrics != nil {
		s.o.Metrics.requests.WithLabelValues(route, c.Method(), strconv.Itoa(status), tenant).Inc()
		s.o.Metrics.latency.WithLabelValues(route, c.Method(), tenant).Observe(elapsed.Seconds())
	}
	// Successful fast requests are counted by the metrics and logged only at debug level;
	// everything else — client and server errors, slow requests — is logged.
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400 || elapsed > slowRequest:
		level = slog.LevelInfo
	}
	// The path only: query strings may hold birth dates and other personal data.
	s.o.Log.LogAttrs(c.UserContext(), level, "request",
		slog.String("request_id", id),
		slog.String("tenant", tenant),
		slog.String("method", c.Method()),
		slog.String("route", route),
		slog.String("path", c.Path()),
		slog.Int("status", status),
		slog.Float64("ms", float64(elapsed.Microseconds())/1000),
		slog.Int("bytes", len(c.Response().Body())),
	)
	return nil
}

// handleError is the single place where errors become responses.
func (s *server) handleError(c *fiber.Ctx, err error) error {
	e := s.classify(c, err)
	status := StatusOf(e.Kind)
	if status >= 500 {
		tenant := ""
		if s.o.TenantLabel != nil {
			tenant = s.o.TenantLabel(c)
		}
		s.o.Log.Error("request failed", "request_id", c.Locals(LocalRequestID), "tenant", tenant,
			"path", c.Path(), "code", e.Code, "err", err)
	}
	if status == fiber.StatusTooManyRequests {
		if ra, ok := e.Details["retry_after_seconds"].(int); ok {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(ra))
		}
	}
	lang := s.lang(c)
	message := s.message(lang, e)
	if IsAPI(c) || s.o.ErrorPage == nil {
		return c.Status(status).JSON(errorBody(s, lang, e, message))
	}
	return s.o.ErrorPage(c, status, e, message)
}

// classify finds the apperr.Error behind any error.
func (s *server) classify(c *fiber.Ctx, err error) *apperr.Error {
	if e, ok := apperr.As(err); ok {
		return e
	}
	var list apperr.List
	if errors.As(err, &list) && len(list) > 0 {
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "validation_failed", Field: list[0].Field,
			Details: map[string]any{"errors": list}}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fiber.StatusNotFound:
			c.Locals(localUnmatched, true)
			return apperr.NotFound("not_found")
		case fiber.StatusMethodNotAllowed:
			return apperr.New(apperr.KindBadRequest, "method_not_allowed")
		case fiber.StatusRequestEntityTooLarge:
			return apperr.New(apperr.KindTooLarge, "body_too_large")
		case fiber.StatusRequestHeaderFieldsTooLarge:
			return apperr.New(apperr.KindBadRequest, "headers_too_large")
		case fiber.StatusRequestTimeout:
			return apperr.New(apperr.KindBadRequest, "request_timeout")
		case fiber.StatusUnprocessableEntity:
			return apperr.New(apperr.KindInvalid, "validation_failed")
		case fiber.StatusBadRequest, fiber.StatusBadGateway:
			return apperr.New(apperr.KindBadRequest, "bad_request")
		}
		if fe.Code < 500 {
			return apperr.New(apperr.KindBadRequest, "bad_request")
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apperr.Unavailable("request_timeout", err)
	}
	if database.IsUnavailable(err) {
		return apperr.Unavailable("service_unavailable", err)
	}
	return &apperr.Error{Kind: apperr.KindInternal, Code: "internal_error", Err: err}
}

// StatusOf maps an error kind to its HTTP status.
func StatusOf(k apperr.Kind) int {
	switch k {
	case apperr.KindNotFound:
		return fiber.StatusNotFound
	case apperr.KindInvalid:
		return fiber.StatusUnprocessableEntity
	case apperr.KindBadRequest:
		return fiber.StatusBadRequest
	case apperr.KindConflict:
		return fiber.StatusConflict
	case apperr.KindForbidden:
		return fiber.StatusForbidden
	case apperr.KindUnauthenticated:
		return fiber.StatusUnauthorized
	case apperr.KindTooMany:
		return fiber.StatusTooManyRequests
	case apperr.KindTooLarge:
		return fiber.StatusRequestEntityTooLarge
	case apperr.KindUnavailable:
		return fiber.StatusServiceUnavailable
	case apperr.KindGone:
		return fiber.StatusGone
	default:
		return fiber.StatusInternalServerError
	}
}

// lang is the request's language: what the language middleware chose, else
// Accept-Language (errors can happen before that middleware ran).
func (s *server) lang(c *fiber.Ctx) string {
	if l, ok := c.Locals(view.LocalLang).(string); ok && l != "" {
		return l
	}
	if s.o.Catalogue != nil {
		if l := i18n.Negotiate(c.Get(fiber.HeaderAcceptLanguage), s.o.Catalogue.Languages()); l != "" {
			return l
		}
	}
	return i18n.Default
}

// message is the user's text for e: "error.<code>" if the catalogue has it, else the
// generic text of its kind.
func (s *server) message(lang string, e *apperr.Error) string {
	if s.o.Catalogue == nil {
		return e.Code
	}
	key := "error." + e.Code
	if !s.o.Catalogue.Has(i18n.Default, key) {
		key = "error.kind." + strconv.Itoa(StatusOf(e.Kind))
	}
	return s.o.Catalogue.T(lang, key, e.Args)
}

type errorJSON struct {
	Error errorFields `json:"error"`
}

type errorFields struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

func errorBody(s *server, lang string, e *apperr.Error, message string) errorJSON {
	body := errorJSON{Error: errorFields{Code: e.Code, Message: message, Field: e.Field}}
	if len(e.Details) > 0 {
		body.Error.Details = make(map[string]any, len(e.Details))
		for k, v := range e.Details {
			if list, ok := v.(apperr.List); ok {
				items := make([]errorFields, len(list))
				for i, it := range list {
					items[i] = errorFields{Code: it.Code, Field: it.Field, Message: s.message(lang, it)}
				}
				v = items
			}
			body.Error.Details[k] = v
		}
	}
	if e.Kind == apperr.KindInvalid && e.Code != "validation_failed" {
		if body.Error.Details == nil {
			body.Error.Details = map[string]any{}
		}
		body.Error.Details["rule"] = e.Code
	}
	return body
}

// IsAPI tells whether the request belongs to the JSON API.
func IsAPI(c *fiber.Ctx) bool {
	return strings.HasPrefix(c.Path(), "/api/")
}

func validRequestID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Request ids are a random per-process prefix and a counter: unique, cheap, and they
// reveal nothing (no time, no host).
var (
	requestPrefix  = randomHex(6)
	requestCounter atomic.Uint64
)

func newRequestID() string {
	return requestPrefix + "-" + strconv.FormatUint(requestCounter.Add(1), 36)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
