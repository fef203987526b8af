package httpserver

import (
	"context"
	"sync"
	"time"
)

// deadlineContext is a request's time budget that arms its timer only when something
// waits on it (a database query, an outgoing call). Most requests — cached pages, static
// files, health checks — never do, and context.WithTimeout would start and stop a timer
// for each of them.
type deadlineContext struct {
	context.Context // parent: values and its own cancellation
	deadline        time.Time

	mu    sync.Mutex
	done  chan struct{}
	err   error
	timer *time.Timer
	stop  func() bool // detaches from the parent's cancellation
}

func withLazyDeadline(parent context.Context, d time.Duration) *deadlineContext {
	return &deadlineContext{Context: parent, deadline: time.Now().Add(d)}
}

func (c *deadlineContext) Deadline() (time.Time, bool) {
	if pd, ok := c.Context.Deadline(); ok && pd.Before(c.deadline) {
		return pd, true
	}
	return c.deadline, true
}

func (c *deadlineContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err == nil {
		c.checkLocked()
	}
	if c.err != nil {
		close(c.done)
		return c.done
	}
	c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.cancel(context.DeadlineExceeded) })
	if c.Context.Done() != nil {
		c.stop = context.AfterFunc(c.Context, func() { c.cancel(c.Context.Err()) })
	}
	return c.done
}

func (c *deadlineContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.checkLocked()
		if c.err != nil && c.done != nil {
			close(c.done)
		}
	}
	return c.err
}

// checkLocked notices an expired deadline or a cancelled parent without a timer.
func (c *deadlineContext) checkLocked() {
	if err := c.Context.Err(); err != nil {
		c.err = err
	} else if !time.Now().Before(c.deadline) {
		c.err = context.DeadlineExceeded
	}
}

func (c *deadlineContext) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
}

// release ends the budget when the request is finished: anything still waiting on it
// (a goroutine the handler started) is cancelled, and the timer is freed.
func (c *deadlineContext) release() {
	c.cancel(context.Canceled)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.stop != nil {
		c.stop()
	}
}
