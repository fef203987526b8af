package httpserver

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLazyDeadlineExpires(t *testing.T) {
	t.Parallel()
	ctx := withLazyDeadline(context.Background(), 50*time.Millisecond)
	if ctx.Err() != nil {
		t.Fatal("fresh context already done")
	}
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("Done never closed")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("err %v", ctx.Err())
	}
}

func TestLazyDeadlineWithoutWaitersStillReportsExpiry(t *testing.T) {
	t.Parallel()
	ctx := withLazyDeadline(context.Background(), 10*time.Millisecond)
	time.Sleep(30 * time.Millisecond)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("err %v", ctx.Err())
	}
	select {
	case <-ctx.Done():
	default:
		t.Fatal("Done of an expired context must be closed")
	}
}

func TestLazyDeadlineFollowsParentAndRelease(t *testing.T) {
	t.Parallel()
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), struct{}{}, "v"))
	ctx := withLazyDeadline(parent, time.Hour)
	if ctx.Value(struct{}{}) != "v" {
		t.Error("values of the parent are lost")
	}
	done := ctx.Done()
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("parent cancellation not propagated")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("err %v", ctx.Err())
	}

	ctx2 := withLazyDeadline(context.Background(), time.Hour)
	derived, stop := context.WithCancel(ctx2)
	defer stop()
	ctx2.release()
	select {
	case <-derived.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("release did not cancel derived contexts")
	}
	if dl, ok := ctx2.Deadline(); !ok || time.Until(dl) < 59*time.Minute {
		t.Errorf("deadline %v %v", dl, ok)
	}
}
