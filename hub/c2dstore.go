package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/modemsim/modemsim/atomicfile"
)

// C2D message lifetime: the hub's defaultTtlAsIso8601 is one hour, at most
// two days [doc iot-hub-devguide-messages-c2d "Message expiration (time to
// live)"].
const (
	DefaultC2DTTL = time.Hour
	MaxC2DTTL     = 48 * time.Hour
)

// CheckC2DExpired is not a refusal: a C2D message expired undelivered.
const CheckC2DExpired Check = "c2d-expired"

// c2dFile keeps the pending C2D messages in the hub's state directory: the
// queue is cloud-side and survives a restart (and a kill -9) of the hub,
// as the real service's does.
const c2dFile = "c2d.json"

// WithC2DTTL sets how long a C2D message waits for its device (default
// DefaultC2DTTL; values outside (0, MaxC2DTTL] are ignored).
func WithC2DTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 && d <= MaxC2DTTL {
			c.c2dTTL = d
		}
	}
}

// c2dState is the persisted C2D queue.
type c2dState struct {
	// Seq continues the message id counter, so ids stay unique across restarts.
	Seq      uint64                   `json:"seq"`
	Messages map[string][]*C2DMessage `json:"messages"`
}

// loadC2D reads the queue left by an earlier run (an unacknowledged
// in-flight message is pending again: the device never completed it).
func (s *Service) loadC2D() error {
	b, err := os.ReadFile(s.c2dPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("hub: read %s: %w", s.c2dPath, err)
	}
	var st c2dState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("hub: parse %s: %w", s.c2dPath, err)
	}
	s.msgSeq.Store(st.Seq)
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, msgs := range st.Messages {
		if _, ok := s.reg.device(id); !ok {
			continue
		}
		ds := s.dev(id)
		for _, m := range msgs {
			if m != nil && len(ds.c2d) < maxC2DQueue {
				ds.c2d = append(ds.c2d, m)
			}
		}
	}
	return nil
}

// saveC2DLocked writes every device's queue atomically and durably; s.mu held.
func (s *Service) saveC2DLocked() error {
	st := c2dState{Seq: s.msgSeq.Load(), Messages: map[string][]*C2DMessage{}}
	for id, ds := range s.devices {
		if len(ds.c2d) > 0 {
			st.Messages[id] = ds.c2d
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("hub: encode c2d queue: %w", err)
	}
	if err := atomicfile.Write(s.c2dPath, b); err != nil {
		return fmt.Errorf("hub: write c2d queue: %w", err)
	}
	return nil
}

// dropExpiredLocked removes expired messages that are not in flight and
// records each; s.mu held.
func (s *Service) dropExpiredLocked(id string, ds *devState, now time.Time) {
	kept := ds.c2d[:0:0]
	var dropped []*C2DMessage
	for _, m := range ds.c2d {
		if !m.inflight && !m.Expiry.IsZero() && !now.Before(m.Expiry) {
			dropped = append(dropped, m)
			continue
		}
		kept = append(kept, m)
	}
	if len(dropped) == 0 {
		return
	}
	ds.c2d = kept
	for _, m := range dropped {
		s.rec.reason(Reason{Time: now, Service: serviceName, DeviceID: id, Check: CheckC2DExpired,
			Detail: "cloud-to-device message expired before the device took it",
			Values: map[string]string{"messageId": m.ID, "enqueued": m.Enqueued.UTC().Format(time.RFC3339),
				"expiry": m.Expiry.UTC().Format(time.RFC3339)}})
	}
	if err := s.saveC2DLocked(); err != nil {
		s.cfg.log.Warn("hub: c2d state not saved after expiry", "device", id, "error", err)
	}
}
