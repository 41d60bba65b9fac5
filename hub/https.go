package hub

import (
	"errors"
	"net/http"
)

// ServeHTTPS sets the handler for plain HTTPS requests on the WebSocket
// port (every path but WebSocketPath): the real hub serves its service REST
// API on the same port 443 and host name (package serviceapi). Call it
// before Start.
func (e *Emulator) ServeHTTPS(h http.Handler) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return errors.New("hub: ServeHTTPS after Start")
	}
	e.https = h
	return nil
}

// IsDPSHostName reports whether a host name (SNI or Host header) belongs to
// DPS rather than the hub (§3.3 [inf]).
func IsDPSHostName(name string) bool { return isDPSName(name) }

// RecordReason records a refusal of a service-side front (such as the
// service REST API) with the connection refusals; Time is set when zero.
func (s *Service) RecordReason(rs Reason) {
	if rs.Time.IsZero() {
		rs.Time = s.now()
	}
	if rs.Service == "" {
		rs.Service = serviceName
	}
	s.rec.reason(rs)
}
