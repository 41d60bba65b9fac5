package netstack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/pki"
)

// PeerVerify is the device's peer verification level.
type PeerVerify int

// Levels. The zero value is VerifyRequired, the firmware default for
// clients (Zephyr TLS_PEER_VERIFY default, mqtt_helper, #XSSOCKET default 2:
// nrf91.md §7, §9 [S]).
const (
	VerifyRequired PeerVerify = iota
	VerifyOptional
	VerifyNone
)

// Zephyr's TLS_PEER_VERIFY option values, also #XSSOCKET's and
// #XSSOCKETOPT's peer_verify (nrf91.md §7 [S]; zephyr socket.h
// TLS_PEER_VERIFY_NONE 0, _OPTIONAL 1, _REQUIRED 2).
const (
	sockoptVerifyNone     = 0
	sockoptVerifyOptional = 1
	sockoptVerifyRequired = 2
)

// PeerVerifyFromSockopt converts a TLS_PEER_VERIFY / peer_verify value.
func PeerVerifyFromSockopt(v int) (PeerVerify, bool) {
	switch v {
	case sockoptVerifyNone:
		return VerifyNone, true
	case sockoptVerifyOptional:
		return VerifyOptional, true
	case sockoptVerifyRequired:
		return VerifyRequired, true
	}
	return 0, false
}

// Sockopt is the TLS_PEER_VERIFY value of the level.
func (v PeerVerify) Sockopt() int {
	switch v {
	case VerifyNone:
		return sockoptVerifyNone
	case VerifyOptional:
		return sockoptVerifyOptional
	}
	return sockoptVerifyRequired
}

func (v PeerVerify) String() string {
	switch v {
	case VerifyRequired:
		return "required"
	case VerifyOptional:
		return "optional"
	case VerifyNone:
		return "none"
	}
	return "PeerVerify(" + strconv.Itoa(int(v)) + ")"
}

// TLSConfig is a device's TLS socket configuration.
type TLSConfig struct {
	// SecTags are the credential tags, primary first
	// (CONFIG_MQTT_HELPER_SEC_TAG, then _SECONDARY_SEC_TAG, nrf91.md §9).
	SecTags []uint32
	// PeerVerify is the verification level (zero value: required).
	PeerVerify PeerVerify
	// HostName is TLS_HOSTNAME: the SNI sent and the name the server
	// certificate must carry. Empty means the host the device dials (what
	// mqtt_helper and #XMQTTCON set, nrf91.md §7, §9 [S]).
	HostName string
	// MaxVersion caps the TLS version (default TLS 1.2: the nRF91 modem
	// and NCS mbedTLS builds speak TLS 1.2 [I]).
	MaxVersion uint16
	// Renegotiation is whether the device answers a server renegotiation
	// (mbedTLS CONFIG_MBEDTLS_SSL_RENEGOTIATION; FAILURE-CASES WS1). Only a
	// real hub renegotiates; the emulator models it without (hub package doc).
	Renegotiation tls.RenegotiationSupport
	// MaxIncomingRecord is the longest TLS record the device's stack
	// accepts from the server, in content bytes (mbedTLS
	// MBEDTLS_SSL_IN_CONTENT_LEN, CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN in
	// NCS); a longer one fails the connection with a *RecordTooLargeError
	// (FAILURE-CASES WS4). 0: no limit (Go's 16 KiB).
	MaxIncomingRecord int
	// VerifyConnection is a firmware's own check of the server, run after
	// the stack's verification has passed (Go calls it after the chain
	// checks); an error aborts the handshake with an alert. The SPWF04
	// uses it to find the issuer by key identifier, as its firmware does.
	VerifyConnection func(tls.ConnectionState) error
}

// RootMapping is one substitution of a real public root by its stand-in,
// reported to the board for the transcript.
type RootMapping struct {
	SecTag        uint32
	Name          pki.RootName
	RealSHA256    string
	StandInSHA256 string
}

// String is the transcript line.
func (m RootMapping) String() string {
	return fmt.Sprintf("sec tag %d: real public root %q (SHA-256 %s) replaced by the emulator's stand-in of the same name (SHA-256 %s)",
		m.SecTag, m.Name, m.RealSHA256, m.StandInSHA256)
}

// ClientTLS is the TLS client configuration built from the device's sec
// tags for one connection.
type ClientTLS struct {
	Config   *tls.Config
	Anchors  []*x509.Certificate // after the real-root mapping
	Mappings []RootMapping
	HostName string
	Verify   PeerVerify
	// HasClientCert reports that a certificate and its key were found.
	HasClientCert bool

	now func() time.Time

	mu       sync.Mutex
	optional error // VerifyOptional: the verification result the handshake ignored
}

// OptionalVerifyResult is, for VerifyOptional, the verification outcome the
// handshake went on despite (mbedTLS MBEDTLS_SSL_VERIFY_OPTIONAL leaves it
// to mbedtls_ssl_get_verify_result). Nil when the chain verified.
func (c *ClientTLS) OptionalVerifyResult() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.optional
}

// defaultMaxTLS: see TLSConfig.MaxVersion.
const defaultMaxTLS = tls.VersionTLS12

// NewClientTLS builds the TLS client for a connection to host from the sec
// tags: trust anchors from the CA type of every tag (mapped when a
// TrustMapper is set), the first tag holding both a certificate chain and a
// key as the client certificate (sent whole), the verification level and
// the host name check.
func (s *Stack) NewClientTLS(host string, cfg TLSConfig) (*ClientTLS, error) {
	c := &ClientTLS{HostName: cfg.HostName, Verify: cfg.PeerVerify, now: s.clock}
	if c.HostName == "" {
		c.HostName = host
	}
	var cert *tls.Certificate
	for _, tag := range cfg.SecTags {
		m, err := loadTagAs(s.creds, s.types, tag, s.mbedtls)
		if err != nil {
			return nil, err
		}
		anchors := m.anchors
		if s.trust != nil && len(anchors) > 0 {
			mapped, subs, err := s.trust.MapTrustAnchors(anchors)
			if err != nil {
				return nil, fmt.Errorf("netstack: map trust anchors of sec tag %d: %w", tag, err)
			}
			anchors = mapped
			for _, sub := range subs {
				rm := RootMapping{SecTag: tag, Name: sub.Name, RealSHA256: pki.ThumbprintSHA256(sub.Real), StandInSHA256: pki.ThumbprintSHA256(sub.StandIn)}
				c.Mappings = append(c.Mappings, rm)
				s.log.Info("real root mapped to stand-in", "sec_tag", tag, "root", sub.Name, "real_sha256", rm.RealSHA256)
				if s.onMapped != nil {
					s.onMapped(rm)
				}
			}
		}
		c.Anchors = append(c.Anchors, anchors...)
		if cert == nil && len(m.chain) > 0 && m.signer != nil {
			cert = &tls.Certificate{PrivateKey: m.signer, Leaf: m.chain[0]}
			for _, x := range m.chain {
				cert.Certificate = append(cert.Certificate, x.Raw)
			}
		}
	}
	pool := x509.NewCertPool()
	for _, a := range c.Anchors {
		pool.AddCert(a)
	}
	maxV := cfg.MaxVersion
	if maxV == 0 {
		maxV = defaultMaxTLS
	}
	tc := &tls.Config{
		MinVersion:    tls.VersionTLS12,
		MaxVersion:    maxV,
		ServerName:    c.HostName,
		RootCAs:       pool,
		Time:          s.clock,
		Renegotiation: cfg.Renegotiation,
	}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
		c.HasClientCert = true
	}
	switch cfg.PeerVerify {
	case VerifyRequired:
		// Go's own verification: chain to RootCAs at Time, name = ServerName;
		// then the firmware's own rule, if it has one.
		tc.VerifyConnection = cfg.VerifyConnection
	case VerifyOptional:
		// The firmware verifies but does not abort (mbedTLS VERIFY_OPTIONAL);
		// Go cannot express that, so its check is off and the same check
		// runs in VerifyConnection, recording instead of failing. This is
		// not a verifying path: the firmware accepts any server here too.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			err := c.verify(cs)
			c.mu.Lock()
			c.optional = err
			c.mu.Unlock()
			return nil
		}
	case VerifyNone:
		// TLS_PEER_VERIFY_NONE: the firmware does not check the server at
		// all, so neither does the simulation.
		tc.InsecureSkipVerify = true
	default:
		return nil, fmt.Errorf("netstack: peer verification level %d", cfg.PeerVerify)
	}
	c.Config = tc
	return c, nil
}

// verify checks a server chain as VerifyRequired would (used by VerifyOptional).
func (c *ClientTLS) verify(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, x := range cs.PeerCertificates[1:] {
		inter.AddCert(x)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots: c.Config.RootCAs, Intermediates: inter, DNSName: c.HostName, CurrentTime: c.now(),
	})
	if err != nil {
		return c.explain(err, cs.PeerCertificates)
	}
	return nil
}

// explain adds what Go's error types leave out: that the anchor the chain
// ends in is expired at the device's clock (Go says "unknown authority"),
// that a certificate is not valid *yet*, and that there was no anchor at
// all. It returns err wrapped, never replaced.
func (c *ClientTLS) explain(err error, peer []*x509.Certificate) error {
	now := c.now()
	var ce x509.CertificateInvalidError
	if errors.As(err, &ce) && ce.Reason == x509.Expired && ce.Cert != nil {
		for _, a := range c.Anchors {
			if a.Equal(ce.Cert) && !now.Before(a.NotBefore) {
				return &ExpiredAnchorError{Anchor: a, Now: now, Err: err}
			}
		}
		if now.Before(ce.Cert.NotBefore) {
			return &notYetValid{err: err}
		}
		return err
	}
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		return err
	}
	if len(c.Anchors) == 0 {
		return fmt.Errorf("%w: %w", ErrNoTrustAnchor, err)
	}
	for _, a := range c.Anchors {
		if !now.Before(a.NotBefore) && !now.After(a.NotAfter) {
			continue
		}
		for _, p := range peer {
			if p.CheckSignatureFrom(a) == nil || p.Equal(a) {
				return &ExpiredAnchorError{Anchor: a, Now: now, Err: err}
			}
		}
	}
	return err
}

// TLSConn is a device TLS connection.
type TLSConn struct {
	*tls.Conn
	// Client is the configuration the connection was made with (mappings,
	// the optional-verification result).
	Client *ClientTLS
}

// DialTLS resolves host, connects to the logical port and completes a TLS
// handshake with the credentials of cfg's sec tags (`#XSSOCKET` +
// `#XCONNECT`). Every failure is an *Error with its Class.
func (s *Stack) DialTLS(ctx context.Context, host string, port int, cfg TLSConfig) (*TLSConn, error) {
	client, err := s.NewClientTLS(host, cfg)
	if err != nil {
		return nil, &Error{Op: "tls-credentials", Host: host, Class: Classify(err), Err: err}
	}
	raw, err := s.DialTCP(ctx, host, port)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	under := raw
	if cfg.MaxIncomingRecord > 0 {
		// The limit holds for the whole connection, as mbedTLS's buffer does.
		under = &limitConn{Conn: raw, ins: NewRecordInspector(cfg.MaxIncomingRecord)}
	}
	tc := tls.Client(under, client.Config)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		var peer []*x509.Certificate
		var cve *tls.CertificateVerificationError
		if errors.As(err, &cve) {
			peer = cve.UnverifiedCertificates
		}
		err = client.explain(err, peer)
		return nil, &Error{Op: "tls-handshake", Host: host, Class: Classify(err), Err: err}
	}
	return &TLSConn{Conn: tc, Client: client}, nil
}

// Lookup answers getaddrinfo for host (`#XGETADDRINFO`); a failure is an
// *Error whose Err is a *DNSError.
func (s *Stack) Lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, err := s.resolver.Lookup(ctx, host)
	if err != nil {
		return nil, &Error{Op: "resolve", Host: host, Class: Classify(err), Err: err}
	}
	return addrs, nil
}

// DialTCP resolves host and opens a TCP connection to the logical port.
func (s *Stack) DialTCP(ctx context.Context, host string, port int) (net.Conn, error) {
	addr, err := s.resolver.Route(ctx, host, port)
	if err != nil {
		return nil, &Error{Op: "resolve", Host: host, Class: Classify(err), Err: err}
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &Error{Op: "connect", Host: host, Class: Classify(err), Err: err}
	}
	return raw, nil
}

func (s *Stack) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= s.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// hostPort joins a host and a port for URLs, leaving the default port out.
func hostPort(host string, port, defaultPort int) string {
	if port == defaultPort {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
