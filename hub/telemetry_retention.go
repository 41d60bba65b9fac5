package hub

import (
	"sync"
	"time"
)

// DefaultTelemetryRetention is how many recent device-to-cloud messages the
// hub keeps for readers that start late (`monitor --since`). The real
// built-in endpoint keeps messages by time (1 day by default, up to 7
// [doc iot-hub-devguide-messages-read-builtin]); an emulator bounds memory
// by count instead [inf].
const DefaultTelemetryRetention = 1000

// WithTelemetryRetention sets how many recent messages are kept (0 keeps none).
func WithTelemetryRetention(n int) Option {
	return func(c *config) {
		if n >= 0 {
			c.telemetryRetention = n
		}
	}
}

// TelemetrySince returns the retained messages received at or after since
// and, atomically with that snapshot, a subscription to the messages that
// follow (no message is missed or repeated between the two). The channel
// has the given buffer; when it is full, messages are dropped (and logged).
// Call stop to unsubscribe.
func (s *Service) TelemetrySince(since time.Time, buffer int) (retained []Message, live <-chan Message, stop func()) {
	ch := make(chan Message, buffer)
	s.mu.Lock()
	for _, m := range s.retained.list() {
		if !m.Received.Before(since) {
			retained = append(retained, m)
		}
	}
	s.teleSeq++
	id := s.teleSeq
	s.tele[id] = ch
	s.mu.Unlock()
	var once sync.Once
	return retained, ch, func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.tele, id)
			s.mu.Unlock()
		})
	}
}

// retainLocked keeps m among the recent messages; s.mu held.
func (s *Service) retainLocked(m Message) {
	if s.cfg.telemetryRetention > 0 {
		s.retained.add(m)
	}
}
