// Package storage keeps uploaded files (facility photos, contract documents) behind one
// small interface, so the local disk used in development and on single servers can be
// replaced by an object store without touching the features.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// ErrNotFound is returned for a key that holds nothing.
var ErrNotFound = errors.New("storage: not found")

// Storage stores blobs by key. Keys are slash-separated paths of safe characters, e.g.
// "<tenant id>/facility/<facility id>/photo/<photo id>.jpg".
type Storage interface {
	Put(ctx context.Context, key string, r io.Reader) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

var keyPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*(/[a-zA-Z0-9][a-zA-Z0-9._-]*)*$`)

// ValidKey tells whether key is safe: no "..", no absolute paths, no odd characters.
func ValidKey(key string) bool { return len(key) <= 512 && keyPattern.MatchString(key) }

// Local stores blobs as files below a directory. Writes go to a temporary file first and
// are renamed into place, so a reader never sees half a file.
type Local struct {
	root string
}

// NewLocal keeps files below root. Directories are created by the first write, so a
// process that never stores anything leaves no trace on disk.
func NewLocal(root string) (*Local, error) {
	if root == "" {
		return nil, errors.New("storage: no directory given")
	}
	return &Local{root: root}, nil
}

func (l *Local) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("storage: invalid key %q", key)
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// Put writes the blob under key, replacing what was there.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := io.Copy(tmp, contextReader{ctx, r}); err != nil {
		tmp.Close()
		return fmt.Errorf("storage: write %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return os.Rename(tmp.Name(), p)
}

// Open returns the blob under key.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Delete removes the blob under key; deleting nothing is not an error.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// contextReader stops a long copy when the request is cancelled.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
