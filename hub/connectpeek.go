package hub

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/modemsim/modemsim/dps"
)

// CheckRoutedByUsername is not a refusal: a connection without a service
// name in its SNI was sent to DPS because its CONNECT user name is DPS's.
const CheckRoutedByUsername Check = "routed-to-dps-by-username"

// maxPeekedConnect bounds the CONNECT read before routing: a will can carry
// a D2C-sized payload (§1.6).
const maxPeekedConnect = maxD2CBytes + 64*1024

var errNotConnect = errors.New("hub: first packet is not an MQTT CONNECT")

// needsUsernameRoute reports whether the SNI cannot choose the service: no
// SNI at all, or an IP address (RFC 6066 forbids addresses in SNI, yet
// some stacks send them). The real hub and DPS have different addresses;
// on the emulator's shared ports the CONNECT decides [inf].
func needsUsernameRoute(sni string) bool {
	if sni == "" {
		return true
	}
	_, err := netip.ParseAddr(sni)
	return err == nil
}

// peekConnect reads one MQTT CONNECT (3.1, 3.1.1 or 5) and returns every
// byte read and its user name ("" when it has none). On error the bytes
// read so far are returned, so the caller can hand them on unchanged.
func peekConnect(r io.Reader) (raw []byte, username string, err error) {
	var buf bytes.Buffer
	tr := io.TeeReader(r, &buf)
	var hdr [1]byte
	if _, err := io.ReadFull(tr, hdr[:]); err != nil {
		return buf.Bytes(), "", err
	}
	if hdr[0] != 0x10 {
		return buf.Bytes(), "", errNotConnect
	}
	n, err := readVarint(tr)
	if err != nil {
		return buf.Bytes(), "", err
	}
	if n > maxPeekedConnect {
		return buf.Bytes(), "", fmt.Errorf("hub: CONNECT of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(tr, body); err != nil {
		return buf.Bytes(), "", err
	}
	u, err := connectUsername(body)
	return buf.Bytes(), u, err
}

func readVarint(r io.Reader) (int, error) {
	var v, shift int
	var b [1]byte
	for i := 0; i < 4; i++ {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, err
		}
		v |= int(b[0]&0x7f) << shift
		if b[0]&0x80 == 0 {
			return v, nil
		}
		shift += 7
	}
	return 0, errors.New("hub: malformed remaining length")
}

// connectUsername extracts the user name from a CONNECT's variable header
// and payload (MQTT 3.1.1 §3.1; MQTT 5 adds property blocks).
func connectUsername(b []byte) (string, error) {
	p := &packetReader{b: b}
	p.str() // protocol name
	level := p.byte()
	flags := p.byte()
	p.skip(2) // keep-alive
	if level == 5 {
		p.properties()
	}
	p.str()              // client id
	if flags&0x04 != 0 { // will
		if level == 5 {
			p.properties()
		}
		p.str()
		p.str()
	}
	if p.err != nil {
		return "", p.err
	}
	if flags&0x80 == 0 {
		return "", nil
	}
	u := p.str()
	return u, p.err
}

// packetReader reads MQTT fields; the first short read sets err.
type packetReader struct {
	b   []byte
	err error
}

func (p *packetReader) need(n int) bool {
	if p.err == nil && n > len(p.b) {
		p.err = errors.New("hub: truncated CONNECT")
	}
	return p.err == nil
}

func (p *packetReader) byte() byte {
	if !p.need(1) {
		return 0
	}
	v := p.b[0]
	p.b = p.b[1:]
	return v
}

func (p *packetReader) skip(n int) {
	if p.need(n) {
		p.b = p.b[n:]
	}
}

func (p *packetReader) str() string {
	if !p.need(2) {
		return ""
	}
	n := int(binary.BigEndian.Uint16(p.b))
	p.b = p.b[2:]
	if !p.need(n) {
		return ""
	}
	s := string(p.b[:n])
	p.b = p.b[n:]
	return s
}

func (p *packetReader) properties() {
	if p.err != nil {
		return
	}
	n, err := readVarint(bytes.NewReader(p.b))
	if err != nil {
		p.err = err
		return
	}
	// the varint took 1..4 bytes
	size := 1
	for x := n; x >= 128; x >>= 7 {
		size++
	}
	p.skip(size + n)
}

// replayConn hands on a connection whose first bytes were already read.
type replayConn struct {
	net.Conn
	r io.Reader
}

func newReplayConn(c net.Conn, first []byte) *replayConn {
	return &replayConn{Conn: c, r: io.MultiReader(bytes.NewReader(first), c)}
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ConnectionState keeps the TLS state reachable for X.509 authentication.
func (c *replayConn) ConnectionState() tls.ConnectionState {
	if ts, ok := c.Conn.(tlsStater); ok {
		return ts.ConnectionState()
	}
	return tls.ConnectionState{}
}

// RequestURI keeps the WebSocket request reachable (hub/wsconn).
func (c *replayConn) RequestURI() string {
	if ru, ok := c.Conn.(requestURIer); ok {
		return ru.RequestURI()
	}
	return ""
}

// routeByUsername reads the CONNECT of a connection whose SNI named no
// service and serves it with DPS when the user name is DPS's, otherwise
// with the hub; the reason records the choice for DPS.
func routeByUsername(c net.Conn, timeout time.Duration, rec *recorder, clk func() time.Time, listener string,
	toDPS, toHub func(net.Conn) error) error {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	raw, user, err := peekConnect(c)
	_ = c.SetReadDeadline(time.Time{})
	rc := newReplayConn(c, raw)
	if err == nil && dps.IsUsername(user) {
		rec.reason(Reason{Time: clk(), Service: serviceName, Check: CheckRoutedByUsername,
			Detail: "no service name in the TLS SNI (none, or an IP address): the CONNECT user name is a DPS one, so DPS serves this connection",
			Values: map[string]string{"remote": c.RemoteAddr().String(), "listener": listener, "username": user,
				"sni": rc.ConnectionState().ServerName, "connectBytes": strconv.Itoa(len(raw))}})
		return toDPS(rc)
	}
	return toHub(rc)
}
