package host

import (
	"sync"
	"time"
)

// Clock is the host's time source. Realtime is what WASI clock_time_get(0) and
// proxy_get_current_time_nanoseconds return (and the request.time property); Monotonic is WASI
// clock_time_get(1).
type Clock interface {
	// Now returns the wall-clock time.
	Now() time.Time
	// Monotonic returns a never-decreasing nanosecond reading. It must not be 0: the Go runtime
	// aborts with "nanotime returning zero".
	Monotonic() int64
}

type realClock struct{ start time.Time }

func (c realClock) Now() time.Time { return time.Now() }

// Monotonic counts from one second before the host started, so that it is never 0.
func (c realClock) Monotonic() int64 { return int64(time.Second) + int64(time.Since(c.start)) }

// ManualClock is a Clock that moves only when told to. The zero value is not usable; use
// NewManualClock.
type ManualClock struct {
	mu   sync.Mutex
	now  time.Time
	mono int64
}

// NewManualClock returns a clock set to t, with a monotonic reading of one second.
func NewManualClock(t time.Time) *ManualClock {
	return &ManualClock{now: t, mono: int64(time.Second)}
}

// Now returns the clock's wall time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Monotonic returns the clock's monotonic reading in nanoseconds.
func (c *ManualClock) Monotonic() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

// Set moves the wall time to t. The monotonic reading advances by the same amount when t is
// later than the current time and stays put otherwise (a wall clock may step back, a monotonic
// clock may not).
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := t.Sub(c.now); d > 0 {
		c.mono += int64(d)
	}
	c.now = t
}

// Advance moves both readings forward by d (negative d is ignored).
func (c *ManualClock) Advance(d time.Duration) {
	if d < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.mono += int64(d)
}
