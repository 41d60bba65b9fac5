package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/hubadmin"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/webconsole"
)

// Default listen addresses of `modemsim hub serve`: loopback and ports
// above 1024 so no root is needed. The real service uses 8883 and 443
// (azure-iot-hub.md §1.1 [doc D-MQTT]); 8443 stands in for 443.
const (
	defaultHubMQTTAddr  = "127.0.0.1:8883"
	defaultHubWSAddr    = "127.0.0.1:8443"
	defaultHubAdminAddr = hubadmin.DefaultAddr
)

// File names serve writes into the state directory.
const (
	rootsFile   = "roots.pem"    // every stand-in root: the trust file for tools
	hubRootFile = "hub-root.pem" // the root the hub's chain ends in now
)

// hubCmd is one node of the `modemsim hub …` tree: a leaf runs, a group dispatches.
type hubCmd struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	sub           []hubCmd
}

func hubTree() hubCmd {
	return hubCmd{name: "hub", summary: "run the Azure IoT Hub + DPS emulator, or administer it", sub: []hubCmd{
		{name: "serve", summary: "run the hub and DPS emulator and the admin API (the default)", run: runHubServe},
		{name: "device", summary: "device identities (az iot hub device-identity)", sub: []hubCmd{
			{name: "create", summary: "create a device (SAS or X.509)", run: deviceCreate},
			{name: "list", summary: "list devices", run: deviceList},
			{name: "show", summary: "show one device", run: deviceShow},
			{name: "disable", summary: "disable a device (closes its connection)", run: deviceSetEnabled(false)},
			{name: "enable", summary: "enable a device", run: deviceSetEnabled(true)},
			{name: "delete", summary: "delete a device", run: deviceDelete},
			{name: "sas-token", summary: "print a device SAS token (for mosquitto and friends)", run: deviceSASToken},
		}},
		{name: "ca", summary: "hub CA certificates with proof of possession (az iot hub certificate)", sub: []hubCmd{
			{name: "upload", summary: "upload a CA certificate", run: caUpload(false)},
			{name: "list", summary: "list CA certificates", run: caList(false)},
			{name: "verification-code", summary: "generate a verification code", run: caCode(false)},
			{name: "verify", summary: "verify with a certificate signed by the CA whose CN is the code", run: caVerify(false)},
			{name: "delete", summary: "delete a CA certificate", run: caDelete(false)},
		}},
		{name: "twin", summary: "device twins (az iot hub device-twin)", sub: []hubCmd{
			{name: "show", summary: "show a twin", run: twinShow},
			{name: "update", summary: "patch the desired properties (JSON merge patch)", run: twinUpdate},
		}},
		{name: "method", summary: "direct methods", sub: []hubCmd{
			{name: "invoke", summary: "invoke a direct method on a connected device", run: methodInvoke},
		}},
		{name: "c2d", summary: "cloud-to-device messages", sub: []hubCmd{
			{name: "send", summary: "send a cloud-to-device message", run: c2dSend},
			{name: "list", summary: "list pending cloud-to-device messages (kept across restarts until delivered or expired)", run: c2dList},
		}},
		{name: "monitor", summary: "stream device-to-cloud telemetry until Ctrl-C", run: monitor},
		{name: "attempts", summary: "list recent connection attempts and why they were refused", run: attempts},
		{name: "reasons", summary: "list recent hub and DPS refusal reasons", run: reasons},
		{name: "info", summary: "show the running emulator's host names, ID scope, addresses and roots", run: hubInfo},
		{name: "connection-string", summary: "print the service connection strings of the hub's and DPS's shared access policies", run: connectionString},
		{name: "load", summary: "measure connects/s and QoS 1 messages/s: hub vs plain mochi-mqtt", run: runHubLoad},
		{name: "root", summary: "print a stand-in root PEM (hub, dps, all, digicert-g2, baltimore, microsoft-2017)", run: rootPEM},
		{name: "dps", summary: "Device Provisioning Service (az iot dps)", sub: []hubCmd{
			{name: "enrollment", summary: "individual enrollments", sub: []hubCmd{
				{name: "create", summary: "create or replace an individual enrollment", run: enrollmentCreate},
				{name: "list", summary: "list individual enrollments", run: enrollmentList},
				{name: "delete", summary: "delete an individual enrollment", run: enrollmentDelete},
			}},
			{name: "group", summary: "enrollment groups", sub: []hubCmd{
				{name: "create", summary: "create or replace an enrollment group", run: groupCreate},
				{name: "list", summary: "list enrollment groups", run: groupList},
				{name: "delete", summary: "delete an enrollment group", run: groupDelete},
			}},
			{name: "ca", summary: "DPS certificate store", sub: []hubCmd{
				{name: "upload", summary: "upload a CA certificate", run: caUpload(true)},
				{name: "list", summary: "list CA certificates", run: caList(true)},
				{name: "verification-code", summary: "generate a verification code", run: caCode(true)},
				{name: "verify", summary: "verify with a certificate signed by the CA whose CN is the code", run: caVerify(true)},
				{name: "delete", summary: "delete a CA certificate", run: caDelete(true)},
			}},
			{name: "registrations", summary: "list device registration records", run: registrations},
		}},
	}}
}

// runHub is the `modemsim hub` command.
func runHub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	t := hubTree()
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && !isHelp(args[0]) {
		return inCommand("modemsim hub serve", runHubServe(ctx, args, stdout, stderr))
	}
	return t.dispatch(ctx, "modemsim hub", args, stdout, stderr)
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" || a == "help" }

// dispatch runs the subcommand args[0] of the group at path. `help <sub>…`
// is `<sub>… --help`.
func (c hubCmd) dispatch(ctx context.Context, path string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{cmd: path, msg: "missing subcommand"}
	}
	if args[0] == "help" && len(args) > 1 {
		args = append(append([]string{}, args[1:]...), "--help")
	} else if isHelp(args[0]) {
		c.usage(path, stdout)
		return nil
	}
	for _, s := range c.sub {
		if s.name != args[0] {
			continue
		}
		if s.run != nil {
			return inCommand(path+" "+s.name, s.run(ctx, args[1:], stdout, stderr))
		}
		return s.dispatch(ctx, path+" "+s.name, args[1:], stdout, stderr)
	}
	return &usageError{cmd: path, msg: fmt.Sprintf("unknown subcommand %q", args[0])}
}

func (c hubCmd) usage(path string, w io.Writer) {
	fmt.Fprintf(w, "usage: %s <command> [flags]\n\n%s\n\ncommands:\n", path, c.summary)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, s := range c.sub {
		fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nRun '%s <command> --help' for its flags.\n", path)
}

// ---------------------------------------------------------------- serve

func runHubServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("modemsim hub serve", "", "Run the emulated Azure IoT Hub + DPS and its admin API until SIGINT/SIGTERM.\nTLS SNI selects DPS (*.azure-devices-provisioning.net) or the hub on the same ports.\n`modemsim hub` with no subcommand or with flags only is `modemsim hub serve`.", stdout)
	state := fs.String("state", defaultState, "state directory; the hub keeps its state in <state>/hub")
	mqttAddr := fs.String("mqtt-addr", defaultHubMQTTAddr, "MQTT/TLS listen address (real hub: 8883); \"\" disables")
	wsAddr := fs.String("ws-addr", defaultHubWSAddr, "MQTT over WebSocket/TLS listen address (real hub: 443); \"\" disables")
	adminAddr := fs.String("admin-addr", defaultHubAdminAddr, "admin API listen address (HTTP); on an address that is not loopback a token is required (generated and printed unless --admin-token)")
	adminToken := fs.String("admin-token", "", "require this token on every admin request (Authorization: Bearer TOKEN, or --admin http://:TOKEN@HOST:PORT)")
	var adminHosts stringList
	fs.Var(&adminHosts, "admin-host", "another host name the admin API answers to (repeatable); loopback names and the listener's own IPs always do")
	hostName := fs.String("hostname", hub.DefaultHostName, "hub host name (CONNECT user names and SAS tokens name it)")
	root := fs.String("root", "auto", "hub server chain root: auto (by date), "+strings.Join(hubadmin.RootAliases(), ", "))
	dpsRoot := fs.String("dps-root", "auto", "DPS server chain root: auto (by date), "+strings.Join(hubadmin.RootAliases(), ", "))
	date := fs.String("date", "", "simulation clock start, e.g. 2024-06-01 or RFC 3339 (default: real time); tools like mosquitto check certificates against real time")
	pkiDir := fs.String("pki", "", "stand-in PKI directory (default <state>/hub/pki); share it to keep one set of roots")
	renegGate := fs.Bool("renegotiation-gate", false, "strict WS1 model: on the WebSocket port, drop a client that sent no certificate and no ?iothub-no-client-cert=true, as the real hub's renegotiation drops a TLS stack that cannot renegotiate (mbedTLS without CONFIG_MBEDTLS_SSL_RENEGOTIATION, Go); off by default because it also drops clients that can renegotiate (Node SDK, C SDK over OpenSSL), which the real hub accepts")
	legacy := fs.Bool("legacy-ciphers", false, "also accept the pre-2025 cipher suites of hubs without TLS enforcement")
	tls13 := fs.Bool("tls13", false, "also accept TLS 1.3 (new-style hubs); classic hub names are TLS 1.2 only")
	twinLimit := fs.Int("twin-rate-limit", 0, "answer twin requests beyond this many per second with 429 (0: unlimited)")
	dpsLimit := fs.Int("dps-rate-limit", 0, "answer DPS registration requests beyond this many per second with 429 and retry-after (0: unlimited)")
	connectTimeout := fs.Duration("connect-timeout", hub.DefaultConnectTimeout, "close a connection that has not sent CONNECT this long after the TCP accept (TLS handshake and WebSocket upgrade included)")
	maxPending := fs.Int("max-pending-connections", hub.DefaultMaxPendingConnections, "at most this many connections may wait for their CONNECT; more are closed at accept (0: no bound)")
	var extra stringList
	fs.Var(&extra, "extra-host", "extra name or IP in the server certificates (repeatable); localhost and 127.0.0.1 are always there")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	clock, err := simClock(*date)
	if err != nil {
		return usagef(fs, "%v", err)
	}
	hubRoot, err := hubadmin.ParseRoot(*root)
	if err != nil {
		return usagef(fs, "--root: %v", err)
	}
	dRoot, err := hubadmin.ParseRoot(*dpsRoot)
	if err != nil {
		return usagef(fs, "--dps-root: %v", err)
	}
	hubDir := filepath.Join(*state, "hub")
	if *pkiDir == "" {
		*pkiDir = filepath.Join(hubDir, "pki")
	}
	p, err := pki.LoadOrCreate(*pkiDir, pki.WithClock(clock), pki.WithLogger(logger))
	if err != nil {
		return fmt.Errorf("stand-in PKI: %w", err)
	}
	// Tools connect to 127.0.0.1 or localhost, not to the hub's name, and
	// verify the server certificate against the name they dialled.
	hosts := append([]string{"localhost", "127.0.0.1"}, extra...)
	dpsReasons := hubadmin.NewDPSReasons(0)
	opts := []hub.Option{
		hub.WithPKI(p), hub.WithClock(clock), hub.WithLogger(logger), hub.WithHostName(*hostName),
		hub.WithMQTTAddr(*mqttAddr), hub.WithWebSocketAddr(*wsAddr), hub.WithExtraHosts(hosts...),
		// Both services log every refusal at WARN with its reason; DPS
		// reasons are also kept for GET /reasons.
		hub.WithDPSOptions(dps.WithReasonSink(dpsReasons.Record), dps.WithRegistrationRateLimit(*dpsLimit, time.Second)),
		hub.WithRenegotiationGate(*renegGate), hub.WithLegacyCipherSuites(*legacy), hub.WithTLS13(*tls13),
		hub.WithTwinRateLimit(*twinLimit, time.Second),
		hub.WithConnectTimeout(*connectTimeout), hub.WithMaxPendingConnections(*maxPending),
	}
	if hubRoot != "" {
		opts = append(opts, hub.WithRoot(hubRoot))
	}
	if dRoot != "" {
		opts = append(opts, hub.WithDPSRoot(dRoot))
	}
	e, err := hub.New(hubDir, opts...)
	if err != nil {
		return err
	}
	defer e.Close()
	api, err := serveServiceAPI(e, hubDir, clock, logger)
	if err != nil {
		return err
	}
	console, err := webconsole.New(e, logger)
	if err != nil {
		return err
	}
	if err := e.Start(ctx); err != nil {
		return err
	}
	// The admin API hands out device keys: beyond loopback only with a token.
	token := *adminToken
	if token == "" && !hubadmin.IsLoopbackAddr(*adminAddr) {
		token = hubadmin.NewToken()
	}
	ln, err := net.Listen("tcp", *adminAddr)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	srv := &http.Server{
		Handler: hubadmin.NewHandler(e, hubadmin.WithLogger(logger), hubadmin.WithClock(clock), hubadmin.WithDPSReasons(dpsReasons),
			hubadmin.WithToken(token), hubadmin.WithAllowedHosts(append(adminHosts, hubadmin.ListenerHosts(ln.Addr())...)...),
			hubadmin.WithConnectionStrings(api.ConnectionStrings), hubadmin.WithUI(console)),
		// Telemetry streams end with the command.
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
	}
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	rootsPath, hubRootPath, err := writeRoots(*state, e)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "modemsim hub: serving (Ctrl-C to stop)\n")
	fmt.Fprintf(tw, "  hub host name\t%s\n", e.HostName())
	fmt.Fprintf(tw, "  MQTT/TLS\t%s\n", orOff(e.MQTTAddr()))
	fmt.Fprintf(tw, "  MQTT/WebSocket/TLS\t%s\n", orOff(e.WebSocketAddr()))
	fmt.Fprintf(tw, "  admin API\thttp://%s\n", ln.Addr())
	fmt.Fprintf(tw, "  web console\thttp://%s/ui/\n", ln.Addr())
	if token != "" {
		fmt.Fprintf(tw, "  admin token\t%s (send it: --admin http://:%s@%s, or curl -H 'Authorization: Bearer %s')\n", token, token, ln.Addr(), token)
	}
	if e.WebSocketAddr() != "" {
		fmt.Fprintf(tw, "  service API\thttps://%s, https://%s on %s ('hub connection-string')\n", e.HostName(), api.DPSHostName(), e.WebSocketAddr())
	}
	fmt.Fprintf(tw, "  DPS host name\t%s (same ports, chosen by TLS SNI)\n", hub.DefaultDPSHostName)
	fmt.Fprintf(tw, "  DPS ID scope\t%s\n", e.DPS().IDScope())
	fmt.Fprintf(tw, "  hub chain root\t%s (stand-in)\n", e.HubRoot())
	fmt.Fprintf(tw, "  DPS chain root\t%s (stand-in)\n", e.DPSRoot())
	fmt.Fprintf(tw, "  trust (CA file)\t%s\n", rootsPath)
	fmt.Fprintf(tw, "  hub root only\t%s\n", hubRootPath)
	fmt.Fprintf(tw, "  simulation time\t%s\n", clock().UTC().Format(time.RFC3339))
	fmt.Fprintf(tw, "  state\t%s\n", hubDir)
	if err := tw.Flush(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "modemsim hub: stopped")
		return nil
	case err := <-srvErr:
		return fmt.Errorf("admin API: %w", err)
	}
}

func orOff(a string) string {
	if a == "" {
		return "off"
	}
	return a
}

// writeRoots writes the trust files tools need: all stand-in roots (a
// device that trusts every Azure root, as Microsoft advises, §3.3), and the
// root the hub serves now.
func writeRoots(state string, e *hub.Emulator) (string, string, error) {
	all, err := hubadmin.RootsPEM(e.PKI(), pki.RootNames()...)
	if err != nil {
		return "", "", err
	}
	one, err := hubadmin.RootsPEM(e.PKI(), e.HubRoot())
	if err != nil {
		return "", "", err
	}
	a, b := filepath.Join(state, rootsFile), filepath.Join(state, hubRootFile)
	for path, data := range map[string][]byte{a: all, b: one} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return "", "", fmt.Errorf("trust file: %w", err)
		}
	}
	return a, b, nil
}

// simClock returns the simulation clock: real time, or time running from
// the given start.
func simClock(date string) (func() time.Time, error) {
	if date == "" {
		return time.Now, nil
	}
	var start time.Time
	var err error
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if start, err = time.Parse(layout, date); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("--date %q: want 2006-01-02 or RFC 3339", date)
	}
	t0 := time.Now()
	return func() time.Time { return start.Add(time.Since(t0)) }, nil
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// ---------------------------------------------------------------- admin plumbing

// adminFlags are the flags every admin subcommand has.
type adminFlags struct {
	fs     *flag.FlagSet
	admin  *string
	asJSON *bool
}

func newAdminFlags(path, summary string, stdout io.Writer) *adminFlags {
	fs := newFlagSet(path, "", summary, stdout)
	a := &adminFlags{fs: fs,
		admin:  fs.String("admin", defaultAdminURL(), "admin API of a running 'modemsim hub serve' (default from $"+adminEnv+")"),
		asJSON: fs.Bool("json", false, "print JSON instead of text"),
	}
	return a
}

// parse parses args and checks that the named flags were given.
func (a *adminFlags) parse(args []string, required ...string) error {
	if err := parseFlags(a.fs, args); err != nil {
		return err
	}
	for _, name := range required {
		if f := a.fs.Lookup(name); f != nil && f.Value.String() == "" {
			return usagef(a.fs, "--%s is required", name)
		}
	}
	return nil
}

func (a *adminFlags) client() *hubadmin.Client {
	base := *a.admin
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return hubadmin.NewClient(base, nil)
}

// print writes v as JSON (--json) or with text.
func (a *adminFlags) print(w io.Writer, v any, text func(w io.Writer)) error {
	if *a.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

func readFile(path, what string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// ---------------------------------------------------------------- devices

func deviceCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub device create", "Create a device identity. SAS keys are generated unless given.", stdout)
	id := a.fs.String("device", "", "device ID")
	auth := a.fs.String("auth", "sas", "authentication: sas, x509-thumbprint (self-signed) or x509-ca")
	pk := a.fs.String("primary-key", "", "SAS primary key (base64; generated when empty)")
	sk := a.fs.String("secondary-key", "", "SAS secondary key (base64; generated when empty)")
	pt := a.fs.String("primary-thumbprint", "", "x509-thumbprint: SHA-1 or SHA-256 hex of the device certificate")
	st := a.fs.String("secondary-thumbprint", "", "x509-thumbprint: secondary thumbprint")
	certFile := a.fs.String("cert", "", "x509-thumbprint: take the primary thumbprint (SHA-256) from this PEM certificate")
	disabled := a.fs.Bool("disabled", false, "create the device disabled")
	if err := a.parse(args, "device"); err != nil {
		return err
	}
	if *certFile != "" {
		b, err := readFile(*certFile, "--cert")
		if err != nil {
			return err
		}
		certs, err := pki.ParseCertsPEM(b)
		if err != nil {
			return fmt.Errorf("--cert %s: %w", *certFile, err)
		}
		*pt = pki.ThumbprintSHA256(certs[0])
	}
	d, err := a.client().CreateDevice(ctx, *id, hubadmin.DeviceRequest{Auth: *auth, PrimaryKey: *pk, SecondaryKey: *sk,
		PrimaryThumbprint: *pt, SecondaryThumbprint: *st, Disabled: *disabled})
	if err != nil {
		return err
	}
	return a.print(stdout, d, func(w io.Writer) { printDevice(w, d) })
}

func printDevice(w io.Writer, d hub.Device) {
	status := "enabled"
	if d.Disabled {
		status = "disabled"
	}
	fmt.Fprintf(w, "device\t%s\n", d.ID)
	fmt.Fprintf(w, "auth\t%s\n", d.Auth)
	fmt.Fprintf(w, "status\t%s\n", status)
	if d.PrimaryKey != "" {
		fmt.Fprintf(w, "primary key\t%s\n", d.PrimaryKey)
		fmt.Fprintf(w, "secondary key\t%s\n", d.SecondaryKey)
	}
	if d.PrimaryThumbprint != "" {
		fmt.Fprintf(w, "primary thumbprint\t%s\n", d.PrimaryThumbprint)
	}
	if d.SecondaryThumbprint != "" {
		fmt.Fprintf(w, "secondary thumbprint\t%s\n", d.SecondaryThumbprint)
	}
	fmt.Fprintf(w, "created\t%s\n", ts(d.Created))
}

func deviceList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub device list", "List device identities.", stdout)
	if err := a.parse(args); err != nil {
		return err
	}
	ds, err := a.client().Devices(ctx)
	if err != nil {
		return err
	}
	return a.print(stdout, ds, func(w io.Writer) {
		fmt.Fprintln(w, "DEVICE\tAUTH\tSTATUS\tCREATED")
		for _, d := range ds {
			status := "enabled"
			if d.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", d.ID, d.Auth, status, ts(d.Created))
		}
	})
}

func deviceShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub device show", "Show one device identity.", stdout)
	id := a.fs.String("device", "", "device ID")
	if err := a.parse(args, "device"); err != nil {
		return err
	}
	d, err := a.client().Device(ctx, *id)
	if err != nil {
		return err
	}
	return a.print(stdout, d, func(w io.Writer) { printDevice(w, d) })
}

func deviceSetEnabled(enabled bool) func(context.Context, []string, io.Writer, io.Writer) error {
	verb := "disable"
	if enabled {
		verb = "enable"
	}
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		a := newAdminFlags("modemsim hub device "+verb, strings.ToUpper(verb[:1])+verb[1:]+" a device.", stdout)
		id := a.fs.String("device", "", "device ID")
		if err := a.parse(args, "device"); err != nil {
			return err
		}
		d, err := a.client().SetDeviceEnabled(ctx, *id, enabled)
		if err != nil {
			return err
		}
		return a.print(stdout, d, func(w io.Writer) { fmt.Fprintf(w, "device %s %sd\n", d.ID, verb) })
	}
}

func deviceDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub device delete", "Delete a device identity (closes its connection).", stdout)
	id := a.fs.String("device", "", "device ID")
	if err := a.parse(args, "device"); err != nil {
		return err
	}
	if err := a.client().DeleteDevice(ctx, *id); err != nil {
		return err
	}
	return a.print(stdout, map[string]string{"deleted": *id}, func(w io.Writer) { fmt.Fprintf(w, "device %s deleted\n", *id) })
}

func deviceSASToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub device sas-token",
		"Print a SAS token signed with the device's primary key (the MQTT password; the user name is\n<hub>/<device>/?api-version="+hubadmin.APIVersion+"). The text output is the token alone, for $(…).", stdout)
	id := a.fs.String("device", "", "device ID")
	ttl := a.fs.Duration("ttl", hubadmin.DefaultSASTTL, "token lifetime (on the emulator's clock)")
	if err := a.parse(args, "device"); err != nil {
		return err
	}
	t, err := a.client().SASToken(ctx, *id, *ttl)
	if err != nil {
		return err
	}
	if *a.asJSON {
		return a.print(stdout, t, nil)
	}
	_, err = fmt.Fprintln(stdout, t.Token)
	return err
}

// ---------------------------------------------------------------- CA certificates

func caPath(dpsStore bool) string {
	if dpsStore {
		return "modemsim hub dps ca"
	}
	return "modemsim hub ca"
}

func caUpload(dpsStore bool) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		a := newAdminFlags(caPath(dpsStore)+" upload", "Upload a root or intermediate CA certificate (PEM).", stdout)
		name := a.fs.String("name", "", "certificate name")
		file := a.fs.String("cert", "", "PEM file of the CA certificate")
		verified := a.fs.Bool("verified", false, "mark verified on upload (skip proof of possession)")
		if err := a.parse(args, "name", "cert"); err != nil {
			return err
		}
		b, err := readFile(*file, "--cert")
		if err != nil {
			return err
		}
		c := a.client()
		if dpsStore {
			ca, err := c.UploadDPSCA(ctx, *name, b, *verified)
			if err != nil {
				return err
			}
			return a.print(stdout, ca, func(w io.Writer) { printCA(w, ca.Name, ca.Subject, ca.ThumbprintSHA256, ca.Verified) })
		}
		ca, err := c.UploadCA(ctx, *name, b, *verified)
		if err != nil {
			return err
		}
		return a.print(stdout, ca, func(w io.Writer) { printCA(w, ca.Name, ca.Subject, ca.ThumbprintSHA256, ca.Verified) })
	}
}

func printCA(w io.Writer, name, subject, thumb string, verified bool) {
	fmt.Fprintf(w, "name\t%s\nsubject\t%s\nSHA-256 thumbprint\t%s\nverified\t%t\n", name, subject, thumb, verified)
}

func caList(dpsStore bool) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		a := newAdminFlags(caPath(dpsStore)+" list", "List CA certificates.", stdout)
		if err := a.parse(args); err != nil {
			return err
		}
		type row struct {
			name, subject, thumb string
			verified             bool
		}
		var rows []row
		var v any
		if dpsStore {
			cas, err := a.client().DPSCAs(ctx)
			if err != nil {
				return err
			}
			for _, c := range cas {
				rows = append(rows, row{c.Name, c.Subject, c.ThumbprintSHA256, c.Verified})
			}
			v = cas
		} else {
			cas, err := a.client().CAs(ctx)
			if err != nil {
				return err
			}
			for _, c := range cas {
				rows = append(rows, row{c.Name, c.Subject, c.ThumbprintSHA256, c.Verified})
			}
			v = cas
		}
		return a.print(stdout, v, func(w io.Writer) {
			fmt.Fprintln(w, "NAME\tVERIFIED\tSUBJECT\tSHA-256")
			for _, r := range rows {
				fmt.Fprintf(w, "%s\t%t\t%s\t%s\n", r.name, r.verified, r.subject, r.thumb)
			}
		})
	}
}

func caCode(dpsStore bool) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		a := newAdminFlags(caPath(dpsStore)+" verification-code",
			"Generate a verification code: sign a certificate with subject CN=<code> with the CA's key and pass it to verify.", stdout)
		name := a.fs.String("name", "", "certificate name")
		if err := a.parse(args, "name"); err != nil {
			return err
		}
		var code string
		var err error
		if dpsStore {
			code, err = a.client().DPSCAVerificationCode(ctx, *name)
		} else {
			code, err = a.client().CAVerificationCode(ctx, *name)
		}
		if err != nil {
			return err
		}
		return a.print(stdout, hubadmin.VerificationCode{Name: *name, Code: code}, func(w io.Writer) { fmt.Fprintln(w, code) })
	}
}

func caVerify(dpsStore bool) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		a := newAdminFlags(caPath(dpsStore)+" verify", "Prove possession of the CA key with a verification certificate (PEM).", stdout)
		name := a.fs.String("name", "", "certificate name")
		file := a.fs.String("cert", "", "PEM file of the verification certificate (CN = verification code, signed by the CA)")
		if err := a.parse(args, "name", "cert"); err != nil {
			return err
		}
		b, err := readFile(*file, "--cert")
		if err != nil {
			return err
		}
		if dpsStore {
			ca, err := a.client().VerifyDPSCA(ctx, *name, b)
			if err != nil {
				return err
			}
			return a.print(stdout, ca, func(w io.Writer) { printCA(w, ca.Name, ca.Subject, ca.ThumbprintSHA256, ca.Verified) })
		}
		ca, err := a.client().VerifyCA(ctx, *name, b)
		if err != nil {
			return err
		}
		return a.print(stdout, ca, func(w io.Writer) { printCA(w, ca.Name, ca.Subject, ca.ThumbprintSHA256, ca.Verified) })
	}
}

func caDelete(dpsStore bool) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		a := newAdminFlags(caPath(dpsStore)+" delete", "Delete a CA certificate.", stdout)
		name := a.fs.String("name", "", "certificate name")
		if err := a.parse(args, "name"); err != nil {
			return err
		}
		var err error
		if dpsStore {
			err = a.client().DeleteDPSCA(ctx, *name)
		} else {
			err = a.client().DeleteCA(ctx, *name)
		}
		if err != nil {
			return err
		}
		return a.print(stdout, map[string]string{"deleted": *name}, func(w io.Writer) { fmt.Fprintf(w, "CA %s deleted\n", *name) })
	}
}

// ---------------------------------------------------------------- twin, methods, C2D

func twinShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub twin show", "Show a device twin (always JSON).", stdout)
	id := a.fs.String("device", "", "device ID")
	if err := a.parse(args, "device"); err != nil {
		return err
	}
	t, err := a.client().Twin(ctx, *id)
	if err != nil {
		return err
	}
	*a.asJSON = true
	return a.print(stdout, t, nil)
}

func twinUpdate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub twin update", "Patch the desired properties (JSON merge patch; null deletes). A connected, subscribed device gets the patch.", stdout)
	id := a.fs.String("device", "", "device ID")
	desired := a.fs.String("desired", "", `desired properties patch, e.g. '{"interval":30}'`)
	if err := a.parse(args, "device", "desired"); err != nil {
		return err
	}
	t, err := a.client().UpdateDesired(ctx, *id, json.RawMessage(*desired))
	if err != nil {
		return err
	}
	*a.asJSON = true
	return a.print(stdout, t, nil)
}

func methodInvoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub method invoke", "Invoke a direct method and print the device's status and payload.", stdout)
	id := a.fs.String("device", "", "device ID")
	name := a.fs.String("method", "", "method name")
	payload := a.fs.String("payload", "{}", "JSON payload")
	timeout := a.fs.Duration("timeout", hubadmin.DefaultMethodTimeout, "how long to wait for the device")
	if err := a.parse(args, "device", "method"); err != nil {
		return err
	}
	if !json.Valid([]byte(*payload)) {
		return usagef(a.fs, "--payload is not JSON: %s", *payload)
	}
	res, err := a.client().InvokeMethod(ctx, *id, *name, hubadmin.MethodRequest{
		Payload: json.RawMessage(*payload), TimeoutSeconds: int((*timeout + time.Second - 1) / time.Second)})
	if err != nil {
		return err
	}
	return a.print(stdout, res, func(w io.Writer) {
		var compact bytes.Buffer
		if json.Compact(&compact, res.Payload) != nil {
			compact.Write(res.Payload)
		}
		fmt.Fprintf(w, "status\t%d\npayload\t%s\n", res.Status, compact.Bytes())
	})
}

func c2dSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub c2d send", "Queue a cloud-to-device message; it is delivered when the device is connected and subscribed.", stdout)
	id := a.fs.String("device", "", "device ID")
	data := a.fs.String("data", "", "message body (text)")
	props := a.fs.String("props", "", "application properties as in az: 'key0=value0;key1=value1'")
	if err := a.parse(args, "device"); err != nil {
		return err
	}
	p, err := parseProps(*props)
	if err != nil {
		return usagef(a.fs, "%v", err)
	}
	mid, err := a.client().SendC2D(ctx, *id, hubadmin.C2DRequest{Payload: *data, Properties: p})
	if err != nil {
		return err
	}
	return a.print(stdout, hubadmin.C2DResponse{MessageID: mid}, func(w io.Writer) { fmt.Fprintf(w, "queued %s for %s\n", mid, *id) })
}

// parseProps parses az's `key0=value0;key1=value1` property syntax.
func parseProps(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for kv := range strings.SplitSeq(s, ";") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--props: %q is not key=value", kv)
		}
		out[k] = v
	}
	return out, nil
}

// ---------------------------------------------------------------- monitor, attempts, reasons

func monitor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub monitor", "Print device-to-cloud telemetry as it arrives, until Ctrl-C (az iot hub monitor-events).", stdout)
	id := a.fs.String("device", "", "only this device")
	sinceFlag := a.fs.String("since", "", "first print the retained messages received since this RFC 3339 time or this long ago on the hub's clock (e.g. 10m)")
	if err := a.parse(args); err != nil {
		return err
	}
	if !*a.asJSON {
		fmt.Fprintln(stderr, "monitoring telemetry; Ctrl-C to stop")
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	return a.client().TelemetrySince(ctx, *id, *sinceFlag, func(ev hubadmin.TelemetryEvent) error {
		if *a.asJSON {
			return enc.Encode(ev)
		}
		body := ev.Text
		if body == "" && len(ev.Payload) > 0 && !utf8.Valid(ev.Payload) {
			body = "base64:" + base64.StdEncoding.EncodeToString(ev.Payload)
		}
		line := fmt.Sprintf("%s %s %s", ts(ev.Received), ev.DeviceID, body)
		if len(ev.Properties) > 0 {
			line += " " + formatProps(ev.Properties)
		}
		_, err := fmt.Fprintln(stdout, line)
		return err
	})
}

func formatProps(m map[string]string) string {
	b, _ := json.Marshal(m) // sorted keys
	return "properties=" + string(b)
}

func attempts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub attempts", "List recent connection attempts with the reason of each refusal.", stdout)
	id := a.fs.String("device", "", "only this device")
	if err := a.parse(args); err != nil {
		return err
	}
	as, err := a.client().Attempts(ctx, *id)
	if err != nil {
		return err
	}
	return a.print(stdout, as, func(w io.Writer) {
		fmt.Fprintln(w, "TIME\tLISTENER\tREMOTE\tCLIENT\tAUTH\tOUTCOME\tCONNACK\tCHECK\tDETAIL")
		for _, at := range as {
			connack := fmt.Sprint(at.ConnackCode)
			if at.ConnackCode < 0 {
				connack = "-"
			}
			check, detail := "", ""
			if at.Reason != nil {
				check, detail = string(at.Reason.Check), at.Reason.Detail
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ts(at.Time), at.Listener, at.Remote,
				dash(at.ClientID), dash(at.Auth), at.Outcome, connack, dash(check), detail)
		}
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func reasons(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub reasons", "List recent hub and DPS refusal reasons, newest last.", stdout)
	if err := a.parse(args); err != nil {
		return err
	}
	rs, err := a.client().Reasons(ctx)
	if err != nil {
		return err
	}
	return a.print(stdout, rs, func(w io.Writer) {
		fmt.Fprintln(w, "TIME\tSERVICE\tID\tCHECK\tDETAIL")
		for _, r := range rs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", ts(r.Time), r.Service, dash(r.ID), r.Check, r.Detail)
		}
	})
}

func rootPEM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub root", "Print a stand-in root certificate (PEM) a tool can trust.", stdout)
	name := a.fs.String("name", "hub", "hub (the root the hub serves now), dps, all, "+strings.Join(hubadmin.RootAliases(), ", "))
	if err := a.parse(args); err != nil {
		return err
	}
	b, err := a.client().Root(ctx, *name)
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}

// ---------------------------------------------------------------- DPS

// parseAttestation accepts the DPS names and az's spellings.
func parseAttestation(s string) (string, error) {
	switch strings.ToLower(s) {
	case "x509":
		return dps.AttestationX509, nil
	case "symmetrickey", "symmetric-key", "sas":
		return dps.AttestationSymmetricKey, nil
	}
	return "", fmt.Errorf("--attestation %q: want x509 or symmetricKey", s)
}

func decodeKey(flagName, s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("--%s: not base64: %w", flagName, err)
	}
	return b, nil
}

func enrollmentCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub dps enrollment create", "Create or replace an individual enrollment (az iot dps enrollment create).", stdout)
	regID := a.fs.String("registration-id", "", "registration ID (X.509: the certificate's CN)")
	deviceID := a.fs.String("device-id", "", "hub device ID to create (default: the registration ID)")
	att := a.fs.String("attestation", "x509", "x509 or symmetricKey")
	certFile := a.fs.String("cert", "", "x509: device certificate PEM file")
	thumb := a.fs.String("thumbprint", "", "x509: SHA-256 thumbprint of the device certificate")
	pk := a.fs.String("primary-key", "", "symmetricKey: primary key (base64; generated when empty)")
	sk := a.fs.String("secondary-key", "", "symmetricKey: secondary key (base64)")
	disabled := a.fs.Bool("disabled", false, "create the enrollment disabled")
	if err := a.parse(args, "registration-id"); err != nil {
		return err
	}
	attestation, err := parseAttestation(*att)
	if err != nil {
		return usagef(a.fs, "%v", err)
	}
	e := dps.IndividualEnrollment{RegistrationID: *regID, DeviceID: *deviceID, Attestation: attestation, Enabled: !*disabled}
	if *certFile != "" {
		b, err := readFile(*certFile, "--cert")
		if err != nil {
			return err
		}
		e.CertificatePEM = string(b)
	}
	if *thumb != "" {
		e.ThumbprintsSHA256 = []string{*thumb}
	}
	if e.PrimaryKey, err = decodeKey("primary-key", *pk); err != nil {
		return usagef(a.fs, "%v", err)
	}
	if e.SecondaryKey, err = decodeKey("secondary-key", *sk); err != nil {
		return usagef(a.fs, "%v", err)
	}
	out, err := a.client().PutEnrollment(ctx, e)
	if err != nil {
		return err
	}
	return a.print(stdout, out, func(w io.Writer) {
		fmt.Fprintf(w, "registration ID\t%s\nattestation\t%s\nenabled\t%t\n", out.RegistrationID, out.Attestation, out.Enabled)
		if out.DeviceID != "" {
			fmt.Fprintf(w, "device ID\t%s\n", out.DeviceID)
		}
		for _, t := range out.ThumbprintsSHA256 {
			fmt.Fprintf(w, "SHA-256 thumbprint\t%s\n", t)
		}
		if len(out.PrimaryKey) > 0 {
			printKeys(w, out.PrimaryKey, out.SecondaryKey)
		}
	})
}

func enrollmentList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub dps enrollment list", "List individual enrollments.", stdout)
	if err := a.parse(args); err != nil {
		return err
	}
	es, err := a.client().Enrollments(ctx)
	if err != nil {
		return err
	}
	return a.print(stdout, es, func(w io.Writer) {
		fmt.Fprintln(w, "REGISTRATION ID\tATTESTATION\tENABLED\tDEVICE ID")
		for _, e := range es {
			fmt.Fprintf(w, "%s\t%s\t%t\t%s\n", e.RegistrationID, e.Attestation, e.Enabled, dash(e.DeviceID))
		}
	})
}

func enrollmentDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub dps enrollment delete", "Delete an individual enrollment.", stdout)
	regID := a.fs.String("registration-id", "", "registration ID")
	if err := a.parse(args, "registration-id"); err != nil {
		return err
	}
	if err := a.client().DeleteEnrollment(ctx, *regID); err != nil {
		return err
	}
	return a.print(stdout, map[string]string{"deleted": *regID}, func(w io.Writer) { fmt.Fprintf(w, "enrollment %s deleted\n", *regID) })
}

func groupCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub dps group create", "Create or replace an enrollment group (az iot dps enrollment-group create).", stdout)
	groupID := a.fs.String("group-id", "", "enrollment group ID")
	att := a.fs.String("attestation", "x509", "x509 or symmetricKey")
	caName := a.fs.String("ca-name", "", "x509: name of a CA in the DPS certificate store")
	pk := a.fs.String("primary-key", "", "symmetricKey: group primary key (base64; generated when empty)")
	sk := a.fs.String("secondary-key", "", "symmetricKey: group secondary key (base64)")
	disabled := a.fs.Bool("disabled", false, "create the group disabled")
	if err := a.parse(args, "group-id"); err != nil {
		return err
	}
	attestation, err := parseAttestation(*att)
	if err != nil {
		return usagef(a.fs, "%v", err)
	}
	g := dps.GroupEnrollment{GroupID: *groupID, Attestation: attestation, CAName: *caName, Enabled: !*disabled}
	if g.PrimaryKey, err = decodeKey("primary-key", *pk); err != nil {
		return usagef(a.fs, "%v", err)
	}
	if g.SecondaryKey, err = decodeKey("secondary-key", *sk); err != nil {
		return usagef(a.fs, "%v", err)
	}
	out, err := a.client().PutGroup(ctx, g)
	if err != nil {
		return err
	}
	return a.print(stdout, out, func(w io.Writer) {
		fmt.Fprintf(w, "group ID\t%s\nattestation\t%s\nenabled\t%t\n", out.GroupID, out.Attestation, out.Enabled)
		if out.CAName != "" {
			fmt.Fprintf(w, "CA\t%s\n", out.CAName)
		}
		if len(out.PrimaryKey) > 0 {
			printKeys(w, out.PrimaryKey, out.SecondaryKey)
		}
	})
}

func groupList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub dps group list", "List enrollment groups.", stdout)
	if err := a.parse(args); err != nil {
		return err
	}
	gs, err := a.client().Groups(ctx)
	if err != nil {
		return err
	}
	return a.print(stdout, gs, func(w io.Writer) {
		fmt.Fprintln(w, "GROUP ID\tATTESTATION\tENABLED\tCA")
		for _, g := range gs {
			fmt.Fprintf(w, "%s\t%s\t%t\t%s\n", g.GroupID, g.Attestation, g.Enabled, dash(g.CAName))
		}
	})
}

func groupDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub dps group delete", "Delete an enrollment group.", stdout)
	groupID := a.fs.String("group-id", "", "enrollment group ID")
	if err := a.parse(args, "group-id"); err != nil {
		return err
	}
	if err := a.client().DeleteGroup(ctx, *groupID); err != nil {
		return err
	}
	return a.print(stdout, map[string]string{"deleted": *groupID}, func(w io.Writer) { fmt.Fprintf(w, "group %s deleted\n", *groupID) })
}

func registrations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub dps registrations", "List device registration records.", stdout)
	if err := a.parse(args); err != nil {
		return err
	}
	rs, err := a.client().Registrations(ctx)
	if err != nil {
		return err
	}
	return a.print(stdout, rs, func(w io.Writer) {
		fmt.Fprintln(w, "REGISTRATION ID\tSTATUS\tDEVICE ID\tHUB\tATTESTATION\tERROR")
		for _, r := range rs {
			errText := ""
			if r.ErrorCode != 0 {
				errText = fmt.Sprintf("%d %s", r.ErrorCode, r.ErrorMessage)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.RegistrationID, r.Status, dash(r.DeviceID), dash(r.AssignedHub), r.Attestation, dash(errText))
		}
	})
}

func printKeys(w io.Writer, primary, secondary []byte) {
	fmt.Fprintf(w, "primary key\t%s\n", base64.StdEncoding.EncodeToString(primary))
	if len(secondary) > 0 {
		fmt.Fprintf(w, "secondary key\t%s\n", base64.StdEncoding.EncodeToString(secondary))
	}
}

func hubInfo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub info", "Show the running emulator's host names, DPS ID scope, addresses, roots and clock.", stdout)
	if err := a.parse(args); err != nil {
		return err
	}
	in, err := a.client().Info(ctx)
	if err != nil {
		return err
	}
	return a.print(stdout, in, func(w io.Writer) {
		fmt.Fprintf(w, "hub host name\t%s\nDPS host name\t%s\nDPS ID scope\t%s\n", in.HostName, in.DPSHostName, in.IDScope)
		fmt.Fprintf(w, "MQTT/TLS\t%s\nMQTT/WebSocket/TLS\t%s\n", orOff(in.MQTTAddr), orOff(in.WebSocketAddr))
		fmt.Fprintf(w, "hub chain root\t%s\nDPS chain root\t%s\nsimulation time\t%s\n", in.HubRoot, in.DPSRoot, in.Now)
	})
}
