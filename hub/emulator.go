package hub

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub/wsconn"
	"github.com/modemsim/modemsim/pki"
)

// Listener ids (they appear in Attempt.Listener).
const (
	ListenerMQTT    = "hub-mqtts"
	ListenerWS      = "hub-wss"
	listenerDPSMQTT = "dps-mqtts"
	listenerDPSWS   = "dps-wss"
)

// CheckWebSocketUpgrade records an upgrade answered with HTTP 400 (§1.1).
const CheckWebSocketUpgrade Check = "websocket-upgrade"

// Emulator composes the PKI, the hub Service, the DPS service and the
// TLS/WebSocket listeners. The Service's admin API is promoted.
type Emulator struct {
	*Service
	cfg  *config
	pki  *pki.PKI
	dps  *dps.Service
	stls *serverTLS
	// guard bounds connections that have not sent CONNECT (both listeners).
	guard *connGuard

	mu      sync.Mutex
	mqttL   *tlsListener
	wsL     *wsconn.Listener
	https   http.Handler // the service REST API on the WebSocket port (ServeHTTPS)
	started bool
	closed  bool
	done    chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// WithDPSOptions passes options to the DPS service (logger and clock are
// set from the emulator's).
func WithDPSOptions(o ...dps.Option) Option {
	return func(c *config) { c.dpsOpts = append(c.dpsOpts, o...) }
}

// New opens (or creates) an emulator whose state lives in dir:
// dir/pki (unless WithPKI), dir/hub (registry) and dir/dps.
func New(dir string, opts ...Option) (*Emulator, error) {
	cfg := newConfig(opts)
	p := cfg.pki
	if p == nil {
		var err error
		p, err = pki.LoadOrCreate(filepath.Join(dir, "pki"), pki.WithClock(cfg.clock), pki.WithLogger(cfg.log))
		if err != nil {
			return nil, fmt.Errorf("hub: pki: %w", err)
		}
	}
	svc, err := newService(filepath.Join(dir, "hub"), cfg)
	if err != nil {
		return nil, err
	}
	dopts := append([]dps.Option{dps.WithLogger(cfg.log), dps.WithClock(cfg.clock)}, cfg.dpsOpts...)
	d, err := dps.New(filepath.Join(dir, "dps"), svc, dopts...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("hub: %w", err), svc.Close())
	}
	return &Emulator{Service: svc, cfg: cfg, pki: p, dps: d, stls: newServerTLS(cfg, p),
		guard: newConnGuard(cfg, svc.rec), done: make(chan struct{})}, nil
}

// PKI returns the stand-in PKI the server chains come from.
func (e *Emulator) PKI() *pki.PKI { return e.pki }

// DPS returns the Device Provisioning Service.
func (e *Emulator) DPS() *dps.Service { return e.dps }

// HubRoot returns the root of the chain the hub serves now.
func (e *Emulator) HubRoot() pki.RootName { return e.stls.hubRoot() }

// DPSRoot returns the root of the chain DPS serves now.
func (e *Emulator) DPSRoot() pki.RootName { return e.stls.dpsRoot() }

// Start binds the listeners and serves until Close or until ctx ends.
func (e *Emulator) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if e.started {
		return errors.New("hub: already started")
	}
	if err := e.stls.warm(); err != nil {
		return err
	}
	tcfg := e.stls.tlsConfig()
	dsrv := e.dps.Server()
	// Both servers tell the guard when a CONNECT arrives.
	for _, srv := range []interface {
		AddHook(mqtt.Hook, any) error
	}{e.srv, dsrv} {
		if err := srv.AddHook(&connectSeen{}, nil); err != nil {
			return fmt.Errorf("hub: connect deadline hook: %w", err)
		}
	}
	if e.cfg.mqttAddr != "" {
		e.mqttL = &tlsListener{id: ListenerMQTT, addr: e.cfg.mqttAddr, tlsCfg: tcfg, timeout: e.cfg.handshakeTimeout,
			rec: e.rec, clk: e.cfg.clock, admit: e.guard.admit,
			dps: func(c net.Conn) error { return dsrv.EstablishConnection(listenerDPSMQTT, c) }}
		if err := e.srv.AddListener(e.mqttL); err != nil {
			return fmt.Errorf("hub: mqtt listener %s: %w", e.cfg.mqttAddr, err)
		}
	}
	if e.cfg.wsAddr != "" {
		e.wsL = wsconn.New(wsconn.Config{
			ID: ListenerWS, Address: e.cfg.wsAddr, TLSConfig: tcfg,
			Path: WebSocketPath, Subprotocol: WebSocketSubprotocol,
			Gate: e.renegotiationGate,
			Route: func(r *http.Request) (func(net.Conn) error, bool) {
				toDPS := func(c net.Conn) error { return dsrv.EstablishConnection(listenerDPSWS, c) }
				if r.TLS != nil && isDPSName(r.TLS.ServerName) {
					return toDPS, true
				}
				if r.TLS != nil && needsUsernameRoute(r.TLS.ServerName) {
					toHub := func(c net.Conn) error { return e.srv.EstablishConnection(ListenerWS, c) }
					return func(c net.Conn) error {
						return routeByUsername(c, e.cfg.handshakeTimeout, e.rec, e.cfg.clock, ListenerWS, toDPS, toHub)
					}, true
				}
				return nil, false
			},
			Rejected: e.wsRejected,
			Fallback: e.https,
			HandshakeFailed: func(remote string, st tls.ConnectionState, err error) {
				recordHandshakeFailure(e.rec, e.cfg.clock, ListenerWS, remote, newTLSContext(st, ""), err)
			},
			HandshakeTimeout: e.cfg.handshakeTimeout,
			Admit:            func(c net.Conn) net.Conn { return e.guard.admit(ListenerWS, c) },
		})
		if err := e.srv.AddListener(e.wsL); err != nil {
			return fmt.Errorf("hub: websocket listener %s: %w", e.cfg.wsAddr, err)
		}
	}
	if err := dsrv.Serve(); err != nil {
		return fmt.Errorf("hub: dps serve: %w", err)
	}
	if err := e.srv.Serve(); err != nil {
		return fmt.Errorf("hub: serve: %w", err)
	}
	e.started = true
	go func() {
		select {
		case <-ctx.Done():
			_ = e.Close()
		case <-e.done:
		}
	}()
	return nil
}

// MQTTAddr is the bound MQTT/TLS address ("" before Start or if disabled).
func (e *Emulator) MQTTAddr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mqttL == nil {
		return ""
	}
	return e.mqttL.Address()
}

// WebSocketAddr is the bound WebSocket/TLS address ("" before Start or if disabled).
func (e *Emulator) WebSocketAddr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.wsL == nil {
		return ""
	}
	return e.wsL.Address()
}

// Close stops listeners, connections and the DPS service and releases the
// state. Every call, concurrent ones included (the context's watcher may
// be closing already), returns only once that is done, so a reopen of the
// same directory right after Close succeeds.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.close() })
	return e.closeErr
}

func (e *Emulator) close() error {
	e.mu.Lock()
	e.closed = true
	close(e.done)
	mqttL, wsL := e.mqttL, e.wsL
	e.mu.Unlock()
	if mqttL != nil {
		mqttL.shutdown()
	}
	if wsL != nil {
		wsL.Shutdown()
	}
	err := e.Service.Close()
	return errors.Join(err, e.dps.Close())
}

// renegotiationGate models WS1 (see the package documentation): without
// `iothub-no-client-cert=true` the real hub asks for the client certificate
// by renegotiation; a client that did not present one in the first
// handshake is dropped, as a client without renegotiation support is.
func (e *Emulator) renegotiationGate(r *http.Request) error {
	if !e.cfg.renegotiationGate || (r.TLS != nil && isDPSName(r.TLS.ServerName)) {
		return nil
	}
	if !WebSocketRenegotiates(r.URL) {
		return nil
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return nil
	}
	tc := requestTLSContext(r)
	rs := Reason{Time: e.cfg.clock(), Service: serviceName, Check: CheckRenegotiation,
		Detail: "WebSocket request without " + NoClientCertQuery + "=true and no client certificate in the first handshake: " +
			"the real hub renegotiates to request one; a client without renegotiation support is disconnected " +
			"(strict renegotiation gate on)",
		Values: map[string]string{"remote": r.RemoteAddr, "requestURI": r.RequestURI}}
	tc.addValues(rs.Values)
	e.rec.reason(rs)
	e.rec.attempt(Attempt{Time: rs.Time, Remote: r.RemoteAddr, Listener: ListenerWS, Outcome: OutcomeRefused, ConnackCode: -1, Reason: &rs, TLS: tc})
	return wsconn.ErrDropped
}

func (e *Emulator) wsRejected(r *http.Request, status int, why string) {
	rs := Reason{Time: e.cfg.clock(), Service: serviceName, Check: CheckWebSocketUpgrade, Detail: why,
		Values: map[string]string{"remote": r.RemoteAddr, "path": r.URL.Path,
			"subprotocols": r.Header.Get("Sec-Websocket-Protocol"), "status": fmt.Sprint(status)}}
	tc := requestTLSContext(r)
	tc.addValues(rs.Values)
	e.rec.reason(rs)
	e.rec.attempt(Attempt{Time: rs.Time, Remote: r.RemoteAddr, Listener: ListenerWS, Outcome: OutcomeRefused, ConnackCode: -1, Reason: &rs, TLS: tc})
}

// AssignDevice implements dps.Assigner: DPS creates or updates the hub
// identity (a CA-signed device becomes a SHA-256 thumbprint device, §2.3
// [obs SO 77836421]).
func (s *Service) AssignDevice(ctx context.Context, d dps.AssignedDevice) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	spec := DeviceSpec{ID: d.DeviceID}
	switch {
	case len(d.SymmetricKey) > 0:
		spec.Auth = AuthSAS
		spec.PrimaryKey = base64.StdEncoding.EncodeToString(d.SymmetricKey)
		spec.SecondaryKey = spec.PrimaryKey
	case d.X509ThumbprintSHA256 != "":
		spec.Auth, spec.PrimaryThumbprint = AuthSelfSigned, d.X509ThumbprintSHA256
	default:
		return "", fmt.Errorf("%w: assignment for %q has neither key nor thumbprint", ErrInvalid, d.DeviceID)
	}
	_, err := s.CreateDevice(spec)
	if errors.Is(err, ErrExists) {
		_, err = s.reg.update(d.DeviceID, func(dev *Device) error {
			dev.Auth = spec.Auth
			dev.PrimaryKey, dev.SecondaryKey = spec.PrimaryKey, spec.SecondaryKey
			dev.PrimaryThumbprint, dev.SecondaryThumbprint = normThumb(spec.PrimaryThumbprint), ""
			return nil
		})
	}
	if err != nil {
		return "", err
	}
	return s.cfg.hostName, nil
}

var _ dps.Assigner = (*Service)(nil)
