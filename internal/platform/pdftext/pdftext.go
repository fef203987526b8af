// Package pdftext reads the text of a PDF with pdftotext (Debian's poppler-utils), so
// tests can check what a generated document says, the way a reader shows it.
package pdftext

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ErrMissing: pdftotext is not installed (make test's devstack installs poppler-utils).
var ErrMissing = errors.New("pdftext: pdftotext is missing: install poppler-utils (make test does)")

// Read returns the text of pdf, pages separated by form feeds.
func Read(pdf []byte) (string, error) {
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		return "", ErrMissing
	}
	dir, err := os.MkdirTemp("", "pdftext")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		return "", err
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		return "", fmt.Errorf("pdftext: %w", err)
	}
	return string(out), nil
}

// ForTest is Read for a test: a missing pdftotext or an unreadable PDF fails it.
func ForTest(t testing.TB, pdf []byte) string {
	t.Helper()
	text, err := Read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	return text
}
