package storage

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestLocalPutOpenDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key := "tenant-1/facility/abc/photo/1.jpg"
	if err := s.Put(ctx, key, strings.NewReader("first")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, key, strings.NewReader("second")); err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "second" {
		t.Errorf("got %q", got)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("deleting nothing: %v", err)
	}
}

func TestKeysCannotEscapeTheRoot(t *testing.T) {
	t.Parallel()
	s, _ := NewLocal(t.TempDir())
	for _, key := range []string{"../etc/passwd", "/abs", "a/../../b", "a//b", "", "a/.hidden", "a b", "ä"} {
		if err := s.Put(context.Background(), key, strings.NewReader("x")); err == nil {
			t.Errorf("key %q accepted", key)
		}
	}
}

func TestCancelledUploadLeavesNothing(t *testing.T) {
	t.Parallel()
	s, _ := NewLocal(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, "x/y.jpg", strings.NewReader("data")); err == nil {
		t.Fatal("cancelled upload succeeded")
	}
	if _, err := s.Open(context.Background(), "x/y.jpg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("half an upload is visible: %v", err)
	}
}
