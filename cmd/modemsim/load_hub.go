package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/hubadmin"
	"github.com/modemsim/modemsim/pki"
)

// loadHubStart starts an emulator for a load run on loopback ports the
// kernel picks (a load run never takes the default ports a `modemsim hub`
// may hold), with its admin API, and returns the admin URL. The run then
// reads the hub through the API as it would a running one (--hub).
func loadHubStart(ctx context.Context, dir, pkiDir string, retryAfter time.Duration, onTelemetry func(hub.Message), logger *slog.Logger) (adminURL string, stop func(), err error) {
	p, err := pki.LoadOrCreate(pkiDir, pki.WithLogger(logger))
	if err != nil {
		return "", nil, fmt.Errorf("stand-in PKI: %w", err)
	}
	dpsReasons := hubadmin.NewDPSReasons(0)
	e, err := hub.New(dir, hub.WithPKI(p), hub.WithLogger(logger),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr("127.0.0.1:0"), hub.WithTelemetryHandler(onTelemetry),
		hub.WithDPSOptions(dps.WithReasonSink(dpsReasons.Record), dps.WithRetryAfter(retryAfter)))
	if err != nil {
		return "", nil, err
	}
	if err := e.Start(ctx); err != nil {
		e.Close()
		return "", nil, fmt.Errorf("hub: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.Close()
		return "", nil, fmt.Errorf("hub admin API: %w", err)
	}
	srv := &http.Server{
		Handler:           hubadmin.NewHandler(e, hubadmin.WithLogger(logger), hubadmin.WithDPSReasons(dpsReasons)),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = e.Close()
	}, nil
}

// telemetrySeen records which devices the in-process hub received an
// event from: the sample publishes at QoS 0, so the hub's side is the only
// acknowledgement there is.
type telemetrySeen struct {
	mu   sync.Mutex
	from map[string]bool
}

func (t *telemetrySeen) record(m hub.Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.from == nil {
		t.from = map[string]bool{}
	}
	t.from[m.DeviceID] = true
}

// count is how many of ids the hub received an event from.
func (t *telemetrySeen) count(ids []string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, id := range ids {
		if t.from[id] {
			n++
		}
	}
	return n
}

// loadGroup is the run's enrollment group and the CA that signs its
// devices' CSRs.
type loadGroup struct {
	id string
	ca *pki.Authority
}

// loadGroupCreate makes the group CA, uploads it to DPS, proves possession
// (a certificate whose CN is the verification code, signed by the CA) and
// creates an X.509 enrollment group bound to it, as a user does in the
// portal. Names carry the time, so runs against one hub do not collide.
func loadGroupCreate(ctx context.Context, c *hubadmin.Client, now time.Time) (*loadGroup, error) {
	stamp := now.UTC().Format("20060102-150405.000")
	stamp = strings.ReplaceAll(stamp, ".", "-")
	ca, err := pki.NewCA(rand.Reader, "modemsim load group CA "+stamp, nil, now.Add(-time.Hour), now.Add(7*24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("group CA: %w", err)
	}
	name := "load-ca-" + stamp
	if _, err := c.UploadDPSCA(ctx, name, ca.CertPEM(), false); err != nil {
		return nil, fmt.Errorf("upload group CA: %w", err)
	}
	code, err := c.DPSCAVerificationCode(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("group CA verification code: %w", err)
	}
	proof, err := pki.NewVerificationCert(rand.Reader, code, ca, now)
	if err != nil {
		return nil, fmt.Errorf("proof of possession: %w", err)
	}
	if _, err := c.VerifyDPSCA(ctx, name, pki.EncodeCertsPEM(proof)); err != nil {
		return nil, fmt.Errorf("verify group CA: %w", err)
	}
	g := &loadGroup{id: "load-" + stamp, ca: ca}
	if _, err := c.PutGroup(ctx, dps.GroupEnrollment{GroupID: g.id, Attestation: dps.AttestationX509, CAName: name, Enabled: true}); err != nil {
		return nil, fmt.Errorf("enrollment group: %w", err)
	}
	return g, nil
}

// defaultRootFile is where Debian's ca-certificates puts the real DigiCert
// Global Root G2, the root a factory script writes to the board.
const defaultRootFile = "/etc/ssl/certs/DigiCert_Global_Root_G2.pem"

// loadRoot reads the real DigiCert Global Root G2 and checks it is that
// root (its SHA-256 in pki.RealRoots): the board's network maps it to the
// emulator's stand-in only when it is the real one.
func loadRoot(path string) ([]byte, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("root CA (the real DigiCert Global Root G2; Debian's ca-certificates has it): %w", err)
	}
	certs, err := pki.ParseCertsPEM(pemBytes)
	if err != nil || len(certs) != 1 {
		return nil, fmt.Errorf("root CA %s: want one PEM certificate (%v)", path, err)
	}
	sum := sha256.Sum256(certs[0].Raw)
	got := strings.ToUpper(hex.EncodeToString(sum[:]))
	for _, r := range pki.RealRoots() {
		if r.Name == pki.DigiCertGlobalRootG2 {
			if got != r.SHA256 {
				return nil, fmt.Errorf("root CA %s is not the real DigiCert Global Root G2 (SHA-256 %s)", path, got)
			}
			return []byte(strings.TrimRight(string(pemBytes), "\n")), nil
		}
	}
	return nil, fmt.Errorf("pki knows no DigiCert Global Root G2")
}
