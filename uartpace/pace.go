// Package uartpace paces bytes as a UART at a baud rate sends them, for
// load runs that want a board's serial output to take the time a real
// serial line takes: 8N1, ten bit times a byte.
package uartpace

import (
	"sync"
	"time"
)

// BitsPerByte is a byte on an 8N1 line: start bit, 8 data bits, stop bit.
const BitsPerByte = 10

// step is how many bytes go out at a time: a UART FIFO's worth, which sets
// how smoothly the bytes trickle, not the rate [I].
const step = 32

// ByteTime is how long one byte takes on the line at baud.
func ByteTime(baud int) time.Duration {
	return time.Duration(BitsPerByte) * time.Second / time.Duration(baud)
}

// Pacer paces writes at one baud rate. Writes through one Pacer share the
// line: a second write waits for the first to have gone out.
type Pacer struct {
	byteTime time.Duration
	mu       sync.Mutex
	free     time.Time // when the line is idle again
	now      func() time.Time
	sleep    func(time.Duration)
}

// New returns a pacer at baud (> 0).
func New(baud int) *Pacer {
	return &Pacer{byteTime: ByteTime(baud), now: time.Now, sleep: time.Sleep}
}

// Write sends p through write a step at a time, each step when its last
// byte would have left the line. Time is kept against the clock, not
// summed from sleeps, so a late wake-up does not slow the average rate.
func (pc *Pacer) Write(p []byte, write func([]byte) (int, error)) (int, error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if now := pc.now(); pc.free.Before(now) {
		pc.free = now
	}
	sent := 0
	for len(p) > 0 {
		n := min(len(p), step)
		pc.free = pc.free.Add(time.Duration(n) * pc.byteTime)
		if d := pc.free.Sub(pc.now()); d > 0 {
			pc.sleep(d)
		}
		w, err := write(p[:n])
		sent += w
		if err != nil {
			return sent, err
		}
		p = p[n:]
	}
	return sent, nil
}
