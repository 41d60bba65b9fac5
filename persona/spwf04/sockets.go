package spwf04

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/netstack"
)

// maxSockets is how many client sockets the module has [C spwf04.md §6: mbed, 8].
const maxSockets = 8

// SOCKON kinds [C spwf04.md §6]; any other text is a TLS server common
// name to check ([G]).
const (
	sockTCP = "t"
	sockTLS = "s"
	sockUDP = "u"
)

// socket is one client socket: what arrived and was not read yet.
type socket struct {
	id   int
	conn net.Conn

	mu      sync.Mutex
	pending []byte
	closed  bool
}

// AT+S.SOCKON=<host>,<port>,<localPort|NULL>,<t|u|s|TLS-CN> →
// `AT-S.On:<ip>:<id>` [C spwf04.md §6]. TLS sockets use the module's
// trust rules and print the handshake lines first.
func (m *Module) cmdSOCKON(ctx context.Context, r request) atengine.Reply {
	host, portText, kind := r.arg(0), r.arg(1), r.arg(3)
	if host == "" || portText == "" || kind == "" {
		return fail(ErrMissingArgs)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return fail(ErrInvalidArgs)
	}
	if kind == sockUDP {
		m.log.Info("SOCKON: UDP sockets are not simulated", "host", host)
		return fail(ErrOpenSocket)
	}
	m.mu.Lock()
	radio, up, n := m.radio, m.up, len(m.sockets)
	m.mu.Unlock()
	switch {
	case !radio:
		return fail(ErrRadioNotRunning)
	case !up:
		return fail(ErrIPNotReady)
	case n >= maxSockets:
		return fail(ErrTooManySockets)
	case m.hw.Network == nil:
		return fail(ErrOpenSocket)
	}
	trust, src, err := m.loadTrust()
	if err != nil {
		return fail(ErrFailedReadFlash)
	}
	stack, err := m.hw.Network(src, m.Now)
	if err != nil {
		return fail(ErrOpenSocket)
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.MQTTTimeout.Duration)
	defer cancel()
	var conn net.Conn
	h := &handshake{}
	if kind == sockTCP {
		conn, err = stack.DialTCP(cctx, host, port)
	} else {
		name := host
		if kind != sockTLS {
			name = kind
		}
		if len(trust.anchors()) == 0 {
			h.lines, h.certErr = []string{lineSkipCA}, m.cfg.CertUnknownCA
			return fail(ErrOpenSocket, h.out()...)
		}
		var tc *netstack.TLSConn
		tc, err = stack.DialTLS(cctx, host, port, netstack.TLSConfig{SecTags: []uint32{tlsSlot}, HostName: name,
			VerifyConnection: m.verifier(trust, h)})
		if err != nil {
			m.failedHandshake(trust, h, err)
		} else {
			conn = tc
		}
	}
	if err != nil {
		m.log.Info("SOCKON failed", "host", host, "port", port, "class", netstack.Classify(err), "err", err)
		return fail(ErrOpenSocket, h.out()...)
	}
	s := &socket{conn: conn}
	m.mu.Lock()
	if m.sockets == nil {
		m.sockets = map[int]*socket{}
	}
	for m.sockets[s.id] != nil {
		s.id++
	}
	m.sockets[s.id] = s
	m.mu.Unlock()
	go m.receive(s)
	ip := host
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		ip = a.IP.String()
	}
	return ok(append(h.out(), "AT-S.On:"+ip+":"+strconv.Itoa(s.id))...)
}

// receive keeps what the peer sends and raises `+WIND:55:Pending Data::
// <id>:<received>:<pending>` (server field empty for a client socket
// [C B]); the peer's close is `+WIND:58:Socket Closed:<id>:<reason>`,
// reason [U] 0.
func (m *Module) receive(s *socket) {
	buf := make([]byte, 4096)
	for {
		n, err := s.conn.Read(buf)
		if n > 0 {
			s.mu.Lock()
			s.pending = append(s.pending, buf[:n]...)
			total := len(s.pending)
			s.mu.Unlock()
			m.wind(WindPendingData, windText[WindPendingData], "", strconv.Itoa(s.id), strconv.Itoa(n), strconv.Itoa(total))
		}
		if err != nil {
			s.mu.Lock()
			s.closed = true
			s.mu.Unlock()
			m.mu.Lock()
			live := m.sockets[s.id] == s
			m.mu.Unlock()
			if live && !errors.Is(err, net.ErrClosed) {
				m.wind(WindSocketClosed, windText[WindSocketClosed], strconv.Itoa(s.id), "0")
			}
			return
		}
	}
}

func (m *Module) socket(idText string) (*socket, Code) {
	if idText == "" {
		return nil, ErrMissingArgs
	}
	id, err := strconv.Atoi(idText)
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.sockets[id]; err == nil && s != nil {
		return s, 0
	}
	return nil, ErrIllegalSocketID
}

// AT+S.SOCKW=<id>,<len><CR><data> [C spwf04.md §6].
func (m *Module) cmdSOCKW(_ context.Context, r request) atengine.Reply {
	n, err := m.parseLen(r.arg(1))
	if err != nil {
		return failErr(err)
	}
	return m.payload(n, func(_ context.Context, data []byte) atengine.Reply {
		s, code := m.socket(r.arg(0))
		if code != 0 {
			return fail(code)
		}
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return fail(ErrClosedSocket)
		}
		if _, err := s.conn.Write(data); err != nil {
			return fail(ErrWriteFailed)
		}
		return ok()
	})
}

// AT+S.SOCKQ=<id> → `AT-S.Query:<pending>` [C spwf04.md §6].
func (m *Module) cmdSOCKQ(_ context.Context, r request) atengine.Reply {
	s, code := m.socket(r.arg(0))
	if code != 0 {
		return fail(code)
	}
	s.mu.Lock()
	n := len(s.pending)
	s.mu.Unlock()
	return ok("AT-S.Query:" + strconv.Itoa(n))
}

// AT+S.SOCKR=<id>[,<n>] → `AT-S.Reading:<n>:<pending>`, n raw bytes,
// AT-S.OK; an empty n reads all [C spwf04.md §6, B].
func (m *Module) cmdSOCKR(_ context.Context, r request) atengine.Reply {
	s, code := m.socket(r.arg(0))
	if code != 0 {
		return fail(code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.pending)
	if t := r.arg(1); t != "" {
		want, err := strconv.Atoi(t)
		if err != nil || want < 0 {
			return fail(ErrInvalidArgs)
		}
		n = min(n, want)
	}
	out := []byte("AT-S.Reading:" + strconv.Itoa(n) + ":" + strconv.Itoa(len(s.pending)) + "\r\n")
	out = append(out, s.pending[:n]...)
	s.pending = append(s.pending[:0], s.pending[n:]...)
	return atengine.Answer(append(out, "AT-S.OK\r\n"...))
}

// AT+S.SOCKC=<id>: refused while data is pending [C spwf04.md §6].
func (m *Module) cmdSOCKC(_ context.Context, r request) atengine.Reply {
	s, code := m.socket(r.arg(0))
	if code != 0 {
		return fail(code)
	}
	s.mu.Lock()
	pending := len(s.pending)
	s.mu.Unlock()
	if pending > 0 {
		return fail(ErrPendingData)
	}
	m.mu.Lock()
	delete(m.sockets, s.id)
	m.mu.Unlock()
	s.conn.Close()
	return ok()
}
