package serialmodem

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/netstack/errmap"
)

// socket is one modem socket (sm_at_socket.c struct sm_socket): TCP or
// TLS 1.2 client; UDP, DTLS and servers are not simulated.
type socket struct {
	fd         int
	family     int
	secTag     int64 // -1: plain TCP
	peerVerify int
	hostname   string
	hostSet    bool // TLS_HOSTNAME set (an empty name is "NULL")
	conn       net.Conn
	tls        *tls.Conn
}

func (f *Firmware) socketAt(cmd atparser.Command, i int) (*socket, bool) {
	fd, good := cmd.IntParam(i)
	if !good || fd < 0 || fd >= maxSockets {
		return nil, false
	}
	f.sockMu.Lock()
	defer f.sockMu.Unlock()
	s := f.socks[fd]
	return s, s != nil
}

// open takes the lowest free handle, as the modem numbers its sockets [I].
func (f *Firmware) open(s *socket) bool {
	f.sockMu.Lock()
	defer f.sockMu.Unlock()
	for i := range f.socks {
		if f.socks[i] == nil {
			s.fd = i
			f.socks[i] = s
			return true
		}
	}
	return false
}

func openParams(cmd atparser.Command) (family, typ, role int64, ok bool) {
	family, ok1 := cmd.IntParam(0)
	typ, ok2 := cmd.IntParam(1)
	role, ok3 := cmd.IntParam(2)
	return family, typ, role, ok1 && ok2 && ok3
}

// socketOpen is AT#XSOCKET=<family>,<type>,<role>[,<cid>].
func (f *Firmware) socketOpen(_ context.Context, cmd atparser.Command) reply {
	if cmd.Kind != atparser.KindSet {
		return fail(errInval)
	}
	family, typ, role, good := openParams(cmd)
	if !good {
		return fail(errInval)
	}
	if (family != familyIPv4 && family != familyIPv6) || typ != sockStream || role != roleClient {
		f.log.Warn("#XSOCKET: only TCP clients are simulated", "family", family, "type", typ, "role", role)
		return fail(errNotSup)
	}
	s := &socket{family: int(family), secTag: -1}
	if !f.open(s) {
		return fail(errInval)
	}
	return ok(fmt.Sprintf(fmtSocket, s.fd, typ, protoTCP))
}

// secureSocketOpen is AT#XSSOCKET=<family>,<type>,<role>,<sec_tag>[,<peer_verify>[,<cid>]].
func (f *Firmware) secureSocketOpen(_ context.Context, cmd atparser.Command) reply {
	if cmd.Kind != atparser.KindSet {
		return fail(errInval)
	}
	family, typ, role, good := openParams(cmd)
	tag, good2 := intParam(cmd, 3, 0, 1<<32-1)
	if !good || !good2 {
		return fail(errInval)
	}
	verify := int64(peerVerifyRequired)
	if cmd.ParamCount() > 4 {
		if verify, good = intParam(cmd, 4, 0, 2); !good {
			return fail(errInval)
		}
	}
	if (family != familyIPv4 && family != familyIPv6) || typ != sockStream || role != roleClient {
		f.log.Warn("#XSSOCKET: only TLS clients are simulated", "family", family, "type", typ, "role", role)
		return fail(errNotSup)
	}
	s := &socket{family: int(family), secTag: tag, peerVerify: int(verify)}
	if !f.open(s) {
		return fail(errInval)
	}
	return ok(fmt.Sprintf(fmtSecureSocket, s.fd, typ, protoTLS12))
}

// secureSocketOpt is AT#XSSOCKETOPT=<handle>,<op 0 get|1 set>,<name>[,<value>].
func (f *Firmware) secureSocketOpt(_ context.Context, cmd atparser.Command) reply {
	if cmd.Kind == atparser.KindTest {
		return ok(secSockoptTest)
	}
	s, found := f.socketAt(cmd, 0)
	if cmd.Kind != atparser.KindSet || !found || s.secTag < 0 {
		return fail(errInval)
	}
	op, good := intParam(cmd, 1, 0, 1)
	name, good2 := cmd.IntParam(2)
	if !good || !good2 {
		return fail(errInval)
	}
	if op == 1 {
		return f.setSecOpt(s, name, cmd)
	}
	switch name {
	case secOptHostname:
		return ok(fmt.Sprintf(fmtSecSockoptStr, s.fd, s.hostname))
	case secOptPeerVerify:
		return ok(fmt.Sprintf(fmtSecSockoptInt, s.fd, s.peerVerify))
	case secOptCipherUsed:
		if s.tls == nil {
			return fail(errNotConn)
		}
		return ok(fmt.Sprintf(fmtSecSockoptHex, s.fd, s.tls.ConnectionState().CipherSuite))
	}
	return fail(errNotSup)
}

func (f *Firmware) setSecOpt(s *socket, name int64, cmd atparser.Command) reply {
	switch name {
	case secOptHostname:
		v, good := stringParam(cmd, 3, maxURLLen)
		if !good {
			return fail(errInval)
		}
		s.hostname, s.hostSet = v, true
		if strings.EqualFold(v, hostnameNull) {
			s.hostname = ""
		}
		return ok()
	case secOptPeerVerify:
		v, good := intParam(cmd, 3, 0, 2)
		if !good {
			return fail(errInval)
		}
		s.peerVerify = int(v)
		return ok()
	case secOptSessionCache:
		if _, good := intParam(cmd, 3, 0, 1); !good {
			return fail(errInval)
		}
		return ok() // accepted; Go's client has no session cache here [I]
	}
	return fail(errNotSup)
}

// socketConnect is AT#XCONNECT=<handle>,"<url>",<port>.
func (f *Firmware) socketConnect(ctx context.Context, cmd atparser.Command) reply {
	s, found := f.socketAt(cmd, 0)
	url, good := stringParam(cmd, 1, maxURLLen)
	port, good2 := intParam(cmd, 2, 0, 65535)
	if cmd.Kind != atparser.KindSet || !found || !good || !good2 {
		return fail(errInval)
	}
	if s.conn != nil {
		return fail(errIsConn)
	}
	if !f.online() {
		return fail(errAgain) // util_resolve_host fails → -EAGAIN [S]
	}
	if s.secTag < 0 {
		c, err := f.deps.Stack.DialTCP(ctx, url, int(port))
		if err != nil {
			return f.socketFailed(err)
		}
		s.conn = c
		return ok(fmt.Sprintf(fmtConnect, s.fd))
	}
	verify, _ := netstack.PeerVerifyFromSockopt(s.peerVerify)
	cfg := netstack.TLSConfig{SecTags: []uint32{uint32(s.secTag)}, PeerVerify: verify}
	if s.hostSet {
		// Zephyr's offloaded socket: with no TLS_HOSTNAME the modem checks
		// no name; netstack checks the dialled host then [I].
		cfg.HostName = s.hostname
	}
	c, err := f.deps.Stack.DialTLS(ctx, url, int(port), cfg)
	if err != nil {
		return f.socketFailed(err)
	}
	s.conn, s.tls = c, c.Conn
	return ok(fmt.Sprintf(fmtConnect, s.fd))
}

func (f *Firmware) socketFailed(err error) reply {
	r := errmap.For(errmap.NRF91Modem, err)
	code := r.Errno
	if r.EAI != 0 {
		code = int(errAgain)
	}
	f.log.Info(fmt.Sprintf("zsock_connect() error: %d", code), "err", err)
	return fail(errno(code))
}

// socketSend is AT#XSEND=<handle>,<mode>,<flags>,<data>.
func (f *Firmware) socketSend(_ context.Context, cmd atparser.Command) reply {
	s, found := f.socketAt(cmd, 0)
	mode, good := cmd.IntParam(1)
	_, good2 := cmd.IntParam(2)
	if cmd.Kind != atparser.KindSet || !found || !good || !good2 {
		return fail(errInval)
	}
	if mode != modeString && mode != modeHex {
		f.log.Warn("#XSEND data mode is not simulated")
		return fail(errInval)
	}
	data, good := cmd.StringParam(3)
	if !good {
		return fail(errInval)
	}
	payload := []byte(data)
	if mode == modeHex {
		b, err := hex.DecodeString(data)
		if err != nil || len(b) == 0 {
			return fail(errInval)
		}
		payload = b
	}
	if s.conn == nil {
		return fail(errNotConn)
	}
	n, err := s.conn.Write(payload)
	if err != nil {
		f.log.Info("send failed", "err", err)
		return fail(errno(lostErrno(err)))
	}
	return ok(fmt.Sprintf(fmtSend, s.fd, sendResultPlain, n))
}

// socketRecv is AT#XRECV=<handle>,<mode>,<flags>,<timeout>[,<data_len>].
func (f *Firmware) socketRecv(_ context.Context, cmd atparser.Command) reply {
	s, found := f.socketAt(cmd, 0)
	mode, good := cmd.IntParam(1)
	_, good2 := cmd.IntParam(2)
	timeout, good3 := intParam(cmd, 3, 0, 1<<31-1)
	if cmd.Kind != atparser.KindSet || !found || !good || !good2 || !good3 || (mode != modeString && mode != modeHex) {
		return fail(errInval)
	}
	want := int64(maxRecvLen)
	if cmd.ParamCount() > 4 {
		if want, good = intParam(cmd, 4, 0, 1<<31-1); !good {
			return fail(errInval)
		}
		if want > maxRecvLen {
			return fail(errNoBufs)
		}
	}
	if s.conn == nil {
		return fail(errNotConn)
	}
	// SO_RCVTIMEO 0 blocks forever in Zephyr; the simulation bounds it [I].
	wait := time.Duration(timeout) * time.Second
	if timeout == 0 {
		wait = time.Hour
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, want)
	n, err := s.conn.Read(buf)
	_ = s.conn.SetReadDeadline(time.Time{})
	if n == 0 {
		switch {
		case err == nil, errors.Is(err, io.EOF):
			return ok() // orderly shutdown: recv returns 0 [S do_recv]
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fail(errAgain)
		}
		return fail(errno(lostErrno(err)))
	}
	data := buf[:n]
	out := []byte(fmt.Sprintf(crlf+fmtRecv+crlf, s.fd, mode, n))
	if mode == modeHex {
		out = append(out, strings.ToUpper(hex.EncodeToString(data))...)
	} else {
		out = append(out, data...)
	}
	return reply{info: out}
}

// socketClose is AT#XCLOSE[=<handle>]: "#XCLOSE: <handle>,<result>" for
// each socket closed.
func (f *Firmware) socketClose(_ context.Context, cmd atparser.Command) reply {
	var targets []*socket
	switch {
	case cmd.Kind == atparser.KindSet && cmd.ParamCount() > 0:
		s, found := f.socketAt(cmd, 0)
		if !found {
			return fail(errInval)
		}
		targets = append(targets, s)
	case cmd.Kind == atparser.KindExec || cmd.Kind == atparser.KindSet:
		f.sockMu.Lock()
		for _, s := range f.socks {
			if s != nil {
				targets = append(targets, s)
			}
		}
		f.sockMu.Unlock()
	default:
		return fail(errInval)
	}
	var lines []string
	for _, s := range targets {
		if s.conn != nil {
			_ = s.conn.Close()
		}
		f.sockMu.Lock()
		f.socks[s.fd] = nil
		f.sockMu.Unlock()
		lines = append(lines, fmt.Sprintf(fmtClose, s.fd))
	}
	return ok(lines...)
}
