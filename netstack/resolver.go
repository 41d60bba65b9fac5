package netstack

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Logical ports of the Azure endpoints (azure-iot-hub.md §1.1 [doc D-MQTT],
// §2.1 [doc P-MQTT]). A device dials these; the resolver decides which
// loopback listener stands behind them.
const (
	PortMQTT      = 8883 // MQTT 3.1.1 over TLS
	PortWebSocket = 443  // MQTT over WebSockets over TLS
)

// DefaultNames returns the host-name patterns the emulator answers without
// configuration: every hub (`<hub>.azure-devices.net`, azure-iot-hub.md §3.3)
// and the global DPS endpoint (§2.1 [src S-NRF Kconfig]). A leading "*."
// matches one or more labels.
func DefaultNames() []string {
	return []string{"*.azure-devices.net", "global.azure-devices-provisioning.net"}
}

// EAI is a getaddrinfo result code in Zephyr's numbering (DNS_EAI_* in
// zephyr/include/zephyr/net/dns_resolve.h, negative, equal to glibc's),
// which both the nRF91 (nrf_modem offload) and the nRF7002 (native stack)
// applications print: mqtt_helper logs `getaddrinfo() failed, error -2`
// (nrf91.md §7 [S/I]).
type EAI int

// getaddrinfo codes [S zephyr dns_resolve.h; -2 and -8 also in the Serial
// Modem's unit tests, ncs-serial-modem tests/sm_at_socket]. Values other than
// -2 and -8 follow glibc, which Zephyr copies [I].
const (
	EAIBadFlags EAI = -1  // DNS_EAI_BADFLAGS
	EAINoName   EAI = -2  // DNS_EAI_NONAME: the name does not exist
	EAIAgain    EAI = -3  // DNS_EAI_AGAIN: temporary failure (server unreachable, timeout)
	EAIFail     EAI = -4  // DNS_EAI_FAIL: non-recoverable failure
	EAIFamily   EAI = -6  // DNS_EAI_FAMILY: address family not supported
	EAIService  EAI = -8  // DNS_EAI_SERVICE: port/service not supported
	EAISystem   EAI = -11 // DNS_EAI_SYSTEM
	EAICanceled EAI = -101
)

func (c EAI) String() string {
	switch c {
	case EAIBadFlags:
		return "EAI_BADFLAGS"
	case EAINoName:
		return "EAI_NONAME"
	case EAIAgain:
		return "EAI_AGAIN"
	case EAIFail:
		return "EAI_FAIL"
	case EAIFamily:
		return "EAI_FAMILY"
	case EAIService:
		return "EAI_SERVICE"
	case EAISystem:
		return "EAI_SYSTEM"
	case EAICanceled:
		return "EAI_CANCELED"
	}
	return "EAI(" + strconv.Itoa(int(c)) + ")"
}

// DNSError is a failed name resolution, carrying the getaddrinfo code the
// firmware would have received.
type DNSError struct {
	Name string
	Code EAI
	Err  error // the underlying resolver error, if any
}

func (e *DNSError) Error() string {
	s := "netstack: resolve " + strconv.Quote(e.Name) + ": " + e.Code.String()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DNSError) Unwrap() error { return e.Err }

// Resolver is the device's name service: what getaddrinfo answers, and where
// a TCP connection to a host and port actually goes.
type Resolver interface {
	// Lookup answers getaddrinfo for host (`#XGETADDRINFO`).
	Lookup(ctx context.Context, host string) ([]netip.Addr, error)
	// Route returns the network address to dial for host:port. A failure
	// is a *DNSError.
	Route(ctx context.Context, host string, port int) (string, error)
}

// Endpoint is where the emulator listens for the two logical ports.
type Endpoint struct {
	MQTT      string // host:port standing in for port 8883
	WebSocket string // host:port standing in for port 443
}

// EmulatorResolver resolves the Azure names (and any configured name) to the
// emulator's loopback listeners. IP literals are passed through unchanged.
// It never consults real DNS.
type EmulatorResolver struct {
	patterns []namePattern
}

type namePattern struct {
	suffix string // lower case; "" for exact
	exact  string
	ep     Endpoint
}

// NewEmulatorResolver answers DefaultNames and extra with ep.
func NewEmulatorResolver(ep Endpoint, extra ...string) *EmulatorResolver {
	r := &EmulatorResolver{}
	for _, n := range append(DefaultNames(), extra...) {
		r.Add(n, ep)
	}
	return r
}

// Add answers a name pattern ("host.example" or "*.example") with ep. Later
// patterns do not override earlier ones that also match. Not safe to call
// while the resolver is in use.
func (r *EmulatorResolver) Add(pattern string, ep Endpoint) {
	p := strings.ToLower(strings.TrimSuffix(pattern, "."))
	if rest, ok := strings.CutPrefix(p, "*."); ok {
		r.patterns = append(r.patterns, namePattern{suffix: "." + rest, ep: ep})
		return
	}
	r.patterns = append(r.patterns, namePattern{exact: p, ep: ep})
}

func (r *EmulatorResolver) match(host string) (Endpoint, bool) {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, p := range r.patterns {
		if p.exact != "" && p.exact == h {
			return p.ep, true
		}
		if p.suffix != "" && strings.HasSuffix(h, p.suffix) && len(h) > len(p.suffix) {
			return p.ep, true
		}
	}
	return Endpoint{}, false
}

// Lookup returns the listener IP (the emulator's loopback address).
func (r *EmulatorResolver) Lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, &DNSError{Name: host, Code: EAICanceled, Err: err}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	ep, ok := r.match(host)
	if !ok {
		return nil, &DNSError{Name: host, Code: EAINoName}
	}
	var out []netip.Addr
	for _, a := range []string{ep.MQTT, ep.WebSocket} {
		if ap, err := netip.ParseAddrPort(a); err == nil && !contains(out, ap.Addr()) {
			out = append(out, ap.Addr())
		}
	}
	if len(out) == 0 {
		return nil, &DNSError{Name: host, Code: EAINoName}
	}
	return out, nil
}

func contains(s []netip.Addr, a netip.Addr) bool {
	for _, x := range s {
		if x == a {
			return true
		}
	}
	return false
}

// Route maps a logical port to the emulator listener. A known name on a
// port the emulator does not serve goes to a loopback port nothing listens
// on, so the connection is refused as a real host refuses it.
func (r *EmulatorResolver) Route(ctx context.Context, host string, port int) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", &DNSError{Name: host, Code: EAICanceled, Err: err}
	}
	if port <= 0 || port > 65535 {
		return "", &DNSError{Name: host, Code: EAIService}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return net.JoinHostPort(ip.String(), strconv.Itoa(port)), nil
	}
	ep, ok := r.match(host)
	if !ok {
		return "", &DNSError{Name: host, Code: EAINoName}
	}
	switch {
	case port == PortMQTT && ep.MQTT != "":
		return ep.MQTT, nil
	case port == PortWebSocket && ep.WebSocket != "":
		return ep.WebSocket, nil
	}
	return closedPort, nil
}

// closedPort is a loopback address nothing listens on: port 0 is never a
// listener, so connect(2) fails with ECONNREFUSED. [I] Linux refuses a
// connection to port 0 on loopback.
const closedPort = "127.0.0.1:0"

// SystemResolver is real DNS through a net.Resolver (nil: net.DefaultResolver),
// for the opt-in mode that talks to a real IoT Hub. Nothing in this
// package's tests uses the internet: they inject a Resolver whose Dial fails.
type SystemResolver struct {
	Resolver *net.Resolver
}

func (s SystemResolver) net() *net.Resolver {
	if s.Resolver != nil {
		return s.Resolver
	}
	return net.DefaultResolver
}

// Lookup resolves host through DNS.
func (s SystemResolver) Lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	addrs, err := s.net().LookupNetIP(ctx, "ip4", host)
	if err != nil {
		return nil, &DNSError{Name: host, Code: eaiFromDNS(err), Err: err}
	}
	if len(addrs) == 0 {
		return nil, &DNSError{Name: host, Code: EAINoName}
	}
	return addrs, nil
}

// Route resolves host and returns the first IPv4 address with the port (the
// firmware asks for AF_INET and uses the first answer [I]).
func (s SystemResolver) Route(ctx context.Context, host string, port int) (string, error) {
	if port <= 0 || port > 65535 {
		return "", &DNSError{Name: host, Code: EAIService}
	}
	addrs, err := s.Lookup(ctx, host)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(addrs[0].Unmap().String(), strconv.Itoa(port)), nil
}

// eaiFromDNS maps Go's resolver error to the getaddrinfo code, by type.
func eaiFromDNS(err error) EAI {
	var de *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		return EAICanceled
	case errors.As(err, &de) && de.IsNotFound:
		return EAINoName
	case errors.As(err, &de) && (de.IsTimeout || de.IsTemporary):
		return EAIAgain
	case errors.Is(err, context.DeadlineExceeded):
		return EAIAgain
	}
	return EAIFail
}
