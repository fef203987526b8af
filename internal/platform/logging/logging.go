// Package logging creates the process logger: JSON lines (or text for humans) on stderr.
// Request logs carry request_id and tenant; personal data never goes into a log.
package logging

import (
	"io"
	"log/slog"
)

// New returns a logger writing to w in format "json" or "text" from level on.
func New(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
