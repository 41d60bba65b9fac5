package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"time"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/hubadmin"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/pki"
)

// boardHub is the hub a board's network reaches: an emulator started in
// this process, or a running one found through its admin API.
type boardHub struct {
	network *board.Network
	// clock is the simulation clock the board must share with the hub.
	clock func() time.Time
	// lines describe the hub for the start-up output.
	lines []string
	close func()
}

// inProcessHub starts the emulator the way `modemsim hub serve` does with
// its defaults (MQTT/TLS 127.0.0.1:8883, WebSocket 127.0.0.1:8443, admin
// 127.0.0.1:8480), so `modemsim hub monitor` and the other admin commands
// work against it unchanged. A default port that is taken fails at once.
func inProcessHub(ctx context.Context, state string, clock func() time.Time, logger *slog.Logger) (_ *boardHub, err error) {
	hubDir := filepath.Join(state, "hub")
	ln, err := net.Listen("tcp", defaultHubAdminAddr)
	if err != nil {
		return nil, portTaken(defaultHubAdminAddr, err)
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	for _, a := range []string{defaultHubMQTTAddr, defaultHubWSAddr} {
		probe, err := net.Listen("tcp", a)
		if err != nil {
			return nil, portTaken(a, err)
		}
		probe.Close()
	}
	p, err := pki.LoadOrCreate(filepath.Join(hubDir, "pki"), pki.WithClock(clock), pki.WithLogger(logger))
	if err != nil {
		return nil, fmt.Errorf("stand-in PKI: %w", err)
	}
	dpsReasons := hubadmin.NewDPSReasons(0)
	e, err := hub.New(hubDir, hub.WithPKI(p), hub.WithClock(clock), hub.WithLogger(logger),
		hub.WithMQTTAddr(defaultHubMQTTAddr), hub.WithWebSocketAddr(defaultHubWSAddr),
		hub.WithExtraHosts("localhost", "127.0.0.1"), hub.WithDPSOptions(dps.WithReasonSink(dpsReasons.Record)))
	if err != nil {
		return nil, err
	}
	if err := e.Start(ctx); err != nil {
		e.Close()
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, portTaken(defaultHubMQTTAddr+" or "+defaultHubWSAddr, err)
		}
		return nil, fmt.Errorf("hub: %w", err)
	}
	srv := &http.Server{
		Handler:           hubadmin.NewHandler(e, hubadmin.WithLogger(logger), hubadmin.WithClock(clock), hubadmin.WithDPSReasons(dpsReasons)),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	roots, _, err := writeRoots(state, e)
	if err != nil {
		logger.Warn("trust files not written", "err", err)
	}
	h := &boardHub{
		network: &board.Network{Endpoint: endpointOf(e.MQTTAddr(), e.WebSocketAddr()), Trust: p, Names: []string{e.HostName()}, Renegotiates: hub.WebSocketRenegotiates},
		clock:   clock,
		lines: []string{
			fmt.Sprintf("hub (in this process) %s: MQTT/TLS %s, MQTT/WebSocket/TLS %s, admin API http://%s", e.HostName(), e.MQTTAddr(), e.WebSocketAddr(), ln.Addr()),
			fmt.Sprintf("hub chain root %s (stand-in), trust file %s, state %s", e.HubRoot(), roots, hubDir),
		},
	}
	h.close = func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = e.Close()
	}
	return h, nil
}

func portTaken(addr string, err error) error {
	return fmt.Errorf("hub port %s is taken (%v): a hub already running? pass --hub http://%s to use it", addr, errors.Unwrap(err), defaultHubAdminAddr)
}

// runningHub reads a running emulator's addresses, host name, clock and
// stand-in roots from its admin API (GET /info, GET /roots/{name}).
func runningHub(ctx context.Context, adminURL string) (*boardHub, error) {
	c := hubadmin.NewClient(adminURL, nil)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	in, err := c.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("--hub %s: %w", adminURL, err)
	}
	standIns := pki.StandIns{}
	for _, alias := range hubadmin.RootAliases() {
		name, err := hubadmin.ParseRoot(alias)
		if err != nil {
			return nil, err
		}
		b, err := c.Root(ctx, alias)
		if err != nil {
			return nil, fmt.Errorf("--hub %s: root %s: %w", adminURL, alias, err)
		}
		certs, err := pki.ParseCertsPEM(b)
		if err != nil || len(certs) == 0 {
			return nil, fmt.Errorf("--hub %s: root %s: no certificate (%v)", adminURL, alias, err)
		}
		standIns[name] = certs[0]
	}
	// The board keeps the hub's simulation time (certificate and SAS
	// checks on both sides agree), running from the hub's "now".
	clock := time.Now
	if t, err := time.Parse(time.RFC3339, in.Now); err == nil {
		offset := time.Until(t)
		if offset > time.Minute || offset < -time.Minute {
			clock = func() time.Time { return time.Now().Add(offset) }
		}
	}
	return &boardHub{
		network: &board.Network{Endpoint: endpointOf(in.MQTTAddr, in.WebSocketAddr), Trust: standIns, Names: []string{in.HostName}, Renegotiates: hub.WebSocketRenegotiates},
		clock:   clock,
		lines: []string{fmt.Sprintf("hub %s (running, admin API %s): MQTT/TLS %s, MQTT/WebSocket/TLS %s, chain root %s, simulation time %s",
			in.HostName, adminURL, orOff(in.MQTTAddr), orOff(in.WebSocketAddr), in.HubRoot, in.Now)},
		close: func() {},
	}, nil
}

func printHub(w io.Writer, h *boardHub) {
	for _, l := range h.lines {
		fmt.Fprintln(w, l)
	}
}

// needsNetwork reports whether any of the boards runs a persona that
// connects.
func needsNetwork(cat *board.Catalog, cfgs []board.Config) (bool, error) {
	for _, c := range cfgs {
		p, err := cat.ResolvePersona(c)
		if err != nil {
			return false, err
		}
		if p.Network {
			return true, nil
		}
	}
	return false, nil
}

func endpointOf(mqtt, ws string) netstack.Endpoint {
	return netstack.Endpoint{MQTT: mqtt, WebSocket: ws}
}

// boardNetwork starts or finds the hub when a board needs a network, and
// gives every config the network and the shared clock. It returns nil when
// no board connects.
func boardNetwork(ctx context.Context, cat *board.Catalog, cfgs []board.Config, state, hubURL, date string, logger *slog.Logger) (*boardHub, error) {
	need, err := needsNetwork(cat, cfgs)
	if err != nil || !need {
		return nil, err
	}
	var h *boardHub
	if hubURL != "" {
		if date != "" {
			return nil, errors.New("--date sets the in-process hub's clock; a running hub (--hub) has its own (modemsim hub serve --date)")
		}
		h, err = runningHub(ctx, hubURL)
	} else {
		clock, cerr := simClock(date)
		if cerr != nil {
			return nil, cerr
		}
		h, err = inProcessHub(ctx, state, clock, logger)
	}
	if err != nil {
		return nil, err
	}
	for i := range cfgs {
		cfgs[i].Network, cfgs[i].Clock = h.network, h.clock
	}
	return h, nil
}
