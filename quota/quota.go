// Package quota holds the token buckets the emulated services use to model
// their quotas. Real IoT Hub and DPS limits depend on tier and units
// (D-QUOTA in ../shared/protocols/azure-iot-hub.md); the emulator only needs
// the device's view of them: over the limit, a request is answered 429.
package quota

import (
	"sync"
	"time"
)

// Bucket allows Limit operations per Window, refilled continuously. A nil
// Bucket, or a zero Limit or Window, allows everything.
type Bucket struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	tokens float64
	last   time.Time
}

// New makes a bucket that starts full.
func New(limit int, window time.Duration) *Bucket {
	return &Bucket{limit: limit, window: window, tokens: float64(limit)}
}

// Limit and Window describe the quota, for reasons and logs.
func (b *Bucket) Limit() int { return b.limit }

// Window is the refill period of Limit tokens.
func (b *Bucket) Window() time.Duration { return b.window }

// Allow takes one token at time now if there is one.
func (b *Bucket) Allow(now time.Time) bool {
	if b == nil || b.limit <= 0 || b.window <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = min(float64(b.limit), b.tokens+float64(b.limit)*float64(now.Sub(b.last))/float64(b.window))
	}
	if now.After(b.last) {
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
