package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"text/tabwriter"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/hubadmin"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

// loadResult is one target's figures.
type loadResult struct {
	Target         string  `json:"target"`
	Devices        int     `json:"devices"`
	Messages       int     `json:"messagesPerDevice"`
	ConnectSeconds float64 `json:"connectSeconds"`
	ConnectsPerSec float64 `json:"connectsPerSecond"`
	PublishSeconds float64 `json:"publishSeconds"`
	MessagesPerSec float64 `json:"messagesPerSecond"`
}

// loadTarget is a TLS MQTT endpoint and the CONNECT fields of device i.
type loadTarget struct {
	name  string
	addr  string
	tls   *tls.Config
	creds func(i int) (id, user, pass string)
	close func()
}

func runHubLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("modemsim hub load", "", "Measure TLS connects/s and QoS 1 telemetry messages/s with paho clients against an in-process hub,\nthen against a plain mochi-mqtt server with the same TLS certificate and version but none of the\nhub's hooks (allow-all), and print both and their ratio.", stdout)
	devices := fs.Int("devices", 50, "devices (paho clients), connected concurrently")
	messages := fs.Int("messages", 100, "QoS 1 telemetry messages per device")
	size := fs.Int("size", 64, "payload bytes per message")
	concurrency := fs.Int("concurrency", 4*runtime.GOMAXPROCS(0), "connects in flight at once")
	state := fs.String("state", defaultState, "state directory whose stand-in PKI is reused (<state>/hub/pki)")
	pkiDir := fs.String("pki", "", "stand-in PKI directory (default <state>/hub/pki)")
	asJSON := fs.Bool("json", false, "print JSON")
	progressFlag := fs.String("progress", "auto", "progress on stderr: auto (a bar on a terminal, a line every 2 s otherwise), bar, lines, off")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *devices < 1:
		return usagef(fs, "--devices must be at least 1")
	case *messages < 0:
		return usagef(fs, "--messages must not be negative")
	case *concurrency < 1:
		return usagef(fs, "--concurrency must be at least 1")
	case *size < 0:
		return usagef(fs, "--size must not be negative")
	}
	mode, err := parseProgress(*progressFlag, stderr)
	if err != nil {
		fs.Usage()
		return err
	}
	report := func(label string, total int) *progress {
		every := lineEvery
		if mode == progressBar {
			every = barEvery
		}
		return startProgress(stderr, mode, label, total, every)
	}
	if *pkiDir == "" {
		*pkiDir = filepath.Join(*state, "hub", "pki")
	}
	p, err := pki.LoadOrCreate(*pkiDir)
	if err != nil {
		return fmt.Errorf("stand-in PKI: %w", err)
	}
	tmp, err := os.MkdirTemp("", "modemsim-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	payload := make([]byte, *size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	var results []loadResult
	for _, mk := range []func(context.Context, *pki.PKI, string, int) (*loadTarget, error){hubLoadTarget, baselineLoadTarget} {
		t, err := mk(ctx, p, tmp, *devices)
		if err != nil {
			return err
		}
		r, err := measureLoad(ctx, t, *devices, *messages, *concurrency, payload, report)
		t.close()
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		results = append(results, r)
	}
	hubR, base := results[0], results[1]
	ratio := map[string]float64{"connects": hubR.ConnectsPerSec / base.ConnectsPerSec}
	if base.MessagesPerSec > 0 {
		ratio["messages"] = hubR.MessagesPerSec / base.MessagesPerSec
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"results": results, "hubOverBaseline": ratio})
	}
	fmt.Fprintf(stdout, "load: %d devices × %d QoS 1 messages of %d bytes, TLS 1.2, %d connects in flight, GOMAXPROCS %d\n",
		*devices, *messages, *size, *concurrency, runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tconnects/s\tmessages/s\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t\n", r.Target, r.ConnectsPerSec, r.MessagesPerSec)
	}
	fmt.Fprintf(tw, "hub/baseline\t%.2f\t%.2f\t\n", ratio["connects"], ratio["messages"])
	return tw.Flush()
}

// hubLoadTarget runs the full emulator with n SAS devices sharing one key.
func hubLoadTarget(ctx context.Context, p *pki.PKI, tmp string, n int) (*loadTarget, error) {
	e, err := hub.New(filepath.Join(tmp, "hub"), hub.WithPKI(p), hub.WithMQTTAddr("127.0.0.1:0"),
		hub.WithWebSocketAddr(""), hub.WithExtraHosts("127.0.0.1"))
	if err != nil {
		return nil, err
	}
	if err := e.Start(ctx); err != nil {
		_ = e.Close()
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keyB64 := base64.StdEncoding.EncodeToString(key)
	host := e.HostName()
	for i := range n {
		if _, err := e.CreateDevice(hub.DeviceSpec{ID: loadDeviceID(i), Auth: hub.AuthSAS, PrimaryKey: keyB64, SecondaryKey: keyB64}); err != nil {
			_ = e.Close()
			return nil, err
		}
	}
	roots, err := p.RootPool(e.HubRoot())
	if err != nil {
		_ = e.Close()
		return nil, err
	}
	exp := time.Now().Add(time.Hour)
	return &loadTarget{name: "hub", addr: e.MQTTAddr(),
		tls: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
		creds: func(i int) (string, string, string) {
			id := loadDeviceID(i)
			return id, host + "/" + id + "/?api-version=" + hubadmin.APIVersion,
				sas.Sign(url.QueryEscape(host+"/devices/"+id), key, exp, "")
		},
		close: func() { _ = e.Close() }}, nil
}

// baselineLoadTarget is a plain mochi server (the hub's capabilities, an
// allow-all hook) behind mochi's TLS listener with the hub's server chain,
// TLS 1.2 and a client-certificate request, as the hub's listener has.
func baselineLoadTarget(_ context.Context, p *pki.PKI, _ string, _ int) (*loadTarget, error) {
	root := pki.RootAt(pki.ServiceHub, time.Now())
	cert, err := p.ServerCertificate(root, []string{hub.DefaultHostName, "127.0.0.1"})
	if err != nil {
		return nil, err
	}
	srv := hub.NewMQTTServer(slog.New(slog.DiscardHandler))
	if err := srv.AddHook(new(allowAll), nil); err != nil {
		return nil, err
	}
	l := listeners.NewTCP(listeners.Config{ID: "baseline", Address: "127.0.0.1:0", TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
		ClientAuth: tls.RequestClientCert}})
	if err := srv.AddListener(l); err != nil {
		return nil, err
	}
	if err := srv.Serve(); err != nil {
		return nil, err
	}
	roots, err := p.RootPool(root)
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	return &loadTarget{name: "baseline mochi", addr: l.Address(),
		tls: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
		creds: func(i int) (string, string, string) {
			id := loadDeviceID(i)
			return id, "u", "p"
		},
		close: func() { _ = srv.Close() }}, nil
}

func loadDeviceID(i int) string { return fmt.Sprintf("load-%04d", i) }

// measureLoad connects n paho clients (at most conc at once), then has each
// publish m QoS 1 messages and waits for every PUBACK.
// report starts the progress of one phase.
func measureLoad(ctx context.Context, t *loadTarget, n, m, conc int, payload []byte, report func(label string, total int) *progress) (loadResult, error) {
	clients := make([]paho.Client, n)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Disconnect(0)
			}
		}
	}()
	var (
		wg    sync.WaitGroup
		sem   = make(chan struct{}, conc)
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	start := time.Now()
	prog := report(t.name+" connects", n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id, user, pass := t.creds(i)
			c := paho.NewClient(paho.NewClientOptions().AddBroker("tls://" + t.addr).SetClientID(id).
				SetUsername(user).SetPassword(pass).SetProtocolVersion(4).SetCleanSession(true).
				SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(30 * time.Second).
				SetTLSConfig(t.tls.Clone()))
			tk := c.Connect()
			if !tk.WaitTimeout(60 * time.Second) {
				fail(fmt.Errorf("connect %s: timeout", id))
				return
			}
			if err := tk.Error(); err != nil {
				fail(fmt.Errorf("connect %s: %w", id, err))
				return
			}
			clients[i] = c
			prog.add(1)
		}()
	}
	wg.Wait()
	connect := time.Since(start)
	prog.finish()
	if first != nil {
		return loadResult{}, first
	}
	if err := ctx.Err(); err != nil {
		return loadResult{}, err
	}

	start = time.Now()
	prog = report(t.name+" messages", n*m)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			topic := "devices/" + loadDeviceID(i) + "/messages/events/"
			toks := make([]paho.Token, 0, m)
			for range m {
				toks = append(toks, c.Publish(topic, 1, false, payload))
			}
			for _, tk := range toks {
				if !tk.WaitTimeout(60 * time.Second) {
					fail(fmt.Errorf("publish %s: timeout", loadDeviceID(i)))
					return
				}
				if err := tk.Error(); err != nil {
					fail(fmt.Errorf("publish %s: %w", loadDeviceID(i), err))
					return
				}
				prog.add(1)
			}
		}()
	}
	wg.Wait()
	publish := time.Since(start)
	prog.finish()
	if first != nil {
		return loadResult{}, first
	}
	r := loadResult{Target: t.name, Devices: n, Messages: m,
		ConnectSeconds: connect.Seconds(), ConnectsPerSec: float64(n) / connect.Seconds(),
		PublishSeconds: publish.Seconds()}
	if m > 0 {
		r.MessagesPerSec = float64(n*m) / publish.Seconds()
	}
	return r, nil
}

// allowAll admits every client and topic: the baseline has no hub logic.
// (mochi's own auth.AllowHook package pulls in a YAML dependency.)
type allowAll struct{ mqtt.HookBase }

func (*allowAll) ID() string { return "allow-all" }

func (*allowAll) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (*allowAll) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

func (*allowAll) OnACLCheck(*mqtt.Client, string, bool) bool { return true }
