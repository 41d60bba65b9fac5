package ptyport

import (
	"github.com/creack/pty"

	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxSyncs bounds how often one read or write applies client events before its
// syscall, so a flood of events elsewhere cannot starve it.
const maxSyncs = 8

// Port is one simulated serial port. Read and Write may be called from different
// goroutines; concurrent Writes are serialised.
//
// Sessions: a port's session number starts at 0 and increments at every last close
// (from "a client has it open" to "no client"). At that moment, atomically with
// respect to ReadSession and WriteSession, the port discards what is still queued in
// both directions, so bytes ReadSession returns with session s were written by the
// client of session s, and WriteSession(s, …) never reaches the next client.
type Port struct {
	log    *slog.Logger
	master *os.File // pollable, so Close unblocks Read and Write
	conn   syscall.RawConn
	// slaveFd is our own descriptor of the slave: it keeps the master from seeing EIO
	// when clients close, and is what we flush and restore termios through.
	slaveFd int
	path    string
	rdev    uint64
	raw     unix.Termios

	link     string // created symlink, "" if none
	linkLock *nameLock
	node     *deviceNode
	nodeLock *nameLock

	w          *Watcher
	ownWatcher bool // created by Open, closed by Close
	onEvent    func(Event)
	// Under w.mu.
	wds      []int32
	count    int    // clients by event count
	seq      uint64 // events applied, so a reconcile scan can tell it raced one
	needScan bool

	open    atomic.Bool
	session atomic.Uint64
	// gate: every read and write syscall on the master holds it shared, together
	// with the session it attributes the bytes to; the last-close handler holds it
	// exclusively while it flushes and increments the session.
	gate sync.RWMutex

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Open creates a pty, puts the slave in raw mode and starts following its clients.
func Open(opts ...Option) (_ *Port, err error) {
	o := buildOptions(opts)
	p := &Port{log: o.logger, slaveFd: -1, onEvent: o.onEvent}
	defer func() {
		if err != nil {
			_ = p.release()
		}
	}()

	if err := p.openPair(); err != nil {
		return nil, err
	}
	if p.raw, err = makeRaw(p.slaveFd); err != nil {
		return nil, fmt.Errorf("ptyport: raw mode on %s: %w", p.path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(p.slaveFd, &st); err != nil {
		return nil, fmt.Errorf("ptyport: stat %s: %w", p.path, err)
	}
	p.rdev = st.Rdev

	// Names first: a live owner is reported before anything is touched.
	if o.link != "" {
		if p.linkLock, err = lockName(o.link, "link", p.path); err != nil {
			return nil, err
		}
	}
	if o.node != "" {
		if p.nodeLock, err = lockName(o.node, "device node", p.path); err != nil {
			return nil, err
		}
	}
	// The node is made (and test-opened) before any watch exists, so our own
	// open does not count as a client.
	watch := []string{p.path}
	if o.node != "" {
		if p.node, err = createNode(o.node, p.path, p.rdev, o.nodeMethod, p.log); err != nil {
			return nil, err
		}
		watch = append(watch, o.node)
	}
	w := o.watcher
	if w == nil {
		if w, err = NewWatcher(WithWatcherLogger(o.logger)); err != nil {
			return nil, err
		}
		p.ownWatcher = true
		p.w = w // closed by release even if register fails
	}
	if err := w.register(p, watch); err != nil {
		return nil, err
	}
	if o.link != "" {
		if err := replaceLink(o.link, p.path, p.log); err != nil {
			return nil, err
		}
		p.link = o.link
	}
	p.log.Info("pty open", "path", p.path, "link", p.link, "node", o.node)
	return p, nil
}

// openPair allocates the pty with creack/pty and keeps our own slave
// descriptor. creack/pty's Open calls (*os.File).Fd(), which switches the
// master to blocking mode, so Close could not unblock a pending Read; the
// master is therefore re-wrapped in non-blocking mode, which os.NewFile
// turns into a pollable file again.
func (p *Port) openPair() error {
	master, tty, err := pty.Open()
	if err != nil {
		return fmt.Errorf("ptyport: allocate pty: %w", err)
	}
	defer master.Close()
	defer tty.Close()
	mfd, err := unix.Dup(int(master.Fd()))
	if err != nil {
		return fmt.Errorf("ptyport: dup master: %w", err)
	}
	unix.CloseOnExec(mfd)
	if err := unix.SetNonblock(mfd, true); err != nil {
		unix.Close(mfd)
		return fmt.Errorf("ptyport: master non-blocking: %w", err)
	}
	p.master = os.NewFile(uintptr(mfd), "/dev/ptmx")
	if p.conn, err = p.master.SyscallConn(); err != nil {
		return fmt.Errorf("ptyport: master: %w", err)
	}
	p.path = tty.Name()
	if p.slaveFd, err = unix.Dup(int(tty.Fd())); err != nil {
		return fmt.Errorf("ptyport: dup %s: %w", p.path, err)
	}
	unix.CloseOnExec(p.slaveFd)
	return nil
}

// Path returns the slave path, /dev/pts/N.
func (p *Port) Path() string { return p.path }

// Read returns bytes the host tool wrote. It blocks until data arrives, a read deadline
// passes, or the port is closed (then the error is ErrClosed).
func (p *Port) Read(b []byte) (int, error) {
	n, _, err := p.ReadSession(b)
	return n, err
}

// ReadSession is Read that also says which session the bytes belong to: the session
// current at the read syscall, after applying every client event queued before it.
// They were written by that session's client (or arrived while no client had the
// port open).
func (p *Port) ReadSession(b []byte) (n int, session uint64, err error) {
	if p.closed.Load() {
		return 0, 0, ErrClosed
	}
	var readErr error
	err = p.conn.Read(func(fd uintptr) bool {
		for syncs := 0; ; {
			p.gate.RLock()
			if syncs < maxSyncs && p.w.behind() {
				p.gate.RUnlock()
				p.w.sync()
				syncs++
				continue
			}
			n, readErr = unix.Read(int(fd), b)
			session = p.session.Load()
			p.gate.RUnlock()
			switch {
			case errors.Is(readErr, unix.EINTR):
				continue
			case errors.Is(readErr, unix.EAGAIN):
				return false // wait in the netpoller, gate released
			case readErr == nil && n == 0 && len(b) > 0:
				readErr = io.EOF
			}
			return true
		}
	})
	if n < 0 {
		n = 0
	}
	if err == nil {
		err = readErr
	}
	if err != nil {
		if p.closed.Load() {
			return n, session, ErrClosed
		}
		return n, session, fmt.Errorf("ptyport: read %s: %w", p.path, err)
	}
	return n, session, nil
}

// Write sends bytes to the host tool: WriteSession with the current session.
func (p *Port) Write(b []byte) (int, error) { return p.write(b, 0, true) }

// WriteSession sends b to the client of session. While that session is current
// (after applying every client event queued so far) and a client has the port open,
// the bytes go to the pty; otherwise the rest of b is discarded, like a UART with
// nobody listening, and WriteSession reports success. A client that has the port
// open but does not read eventually blocks it until the write deadline, its close,
// or Close.
func (p *Port) WriteSession(session uint64, b []byte) (int, error) {
	return p.write(b, session, false)
}

// write is WriteSession; with current it takes the session current at the first
// syscall (one check of the event queue fewer than Session then WriteSession).
func (p *Port) write(b []byte, session uint64, current bool) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	off := 0
	var writeErr error
	err := p.conn.Write(func(fd uintptr) bool {
		for syncs := 0; off < len(b); {
			p.gate.RLock()
			if syncs < maxSyncs && p.w.behind() {
				p.gate.RUnlock()
				p.w.sync()
				syncs++
				continue
			}
			if current {
				session, current = p.session.Load(), false
			}
			if !p.open.Load() || p.session.Load() != session {
				p.gate.RUnlock()
				off = len(b) // to nobody: discarded
				return true
			}
			n, err := unix.Write(int(fd), b[off:])
			p.gate.RUnlock()
			if n > 0 {
				off += n
			}
			switch {
			case errors.Is(err, unix.EINTR):
			case errors.Is(err, unix.EAGAIN):
				return false // the client is not reading: wait for room
			case err != nil:
				writeErr = err
				return true
			}
		}
		return true
	})
	if err == nil {
		err = writeErr
	}
	if err != nil {
		if p.closed.Load() {
			return off, ErrClosed
		}
		return off, fmt.Errorf("ptyport: write %s: %w", p.path, err)
	}
	return len(b), nil
}

// SetReadDeadline sets the deadline for pending and future Reads.
func (p *Port) SetReadDeadline(t time.Time) error { return p.master.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline for pending and future Writes (a client that
// has the port open but does not read eventually blocks Write).
func (p *Port) SetWriteDeadline(t time.Time) error { return p.master.SetWriteDeadline(t) }

// Session returns the port's session number after applying every client event queued
// so far. It starts at 0 and increments at every last close.
func (p *Port) Session() uint64 {
	if !p.closed.Load() {
		p.w.sync()
	}
	return p.session.Load()
}

// ClientOpen reports whether a client has the port open.
func (p *Port) ClientOpen() bool {
	if p.closed.Load() {
		return false
	}
	p.w.sync()
	return p.open.Load()
}

// firstClientOpenedLocked runs under w.mu when the client count leaves zero.
func (p *Port) firstClientOpenedLocked() {
	p.open.Store(true)
	p.w.emitLocked(p, ClientOpened, p.session.Load())
}

// lastClientClosedLocked runs under w.mu when the last client has closed: it discards
// what is queued in both directions, starts the next session and restores raw mode.
// The gate waits only for read and write syscalls in flight, which never block.
//
// The one thing it cannot sort out: when the watcher learns of the close only after
// a new client has reopened the port (reopened reports an open queued behind the
// close), the client-to-board queue may hold the old client's unread bytes and the
// new client's first command, possibly being written at this very moment, with
// nothing to tell them apart (measured: flushing there loses a new client's command
// that follows its open at once, because its open wakes the watcher just then). The
// port then keeps that queue: losing a new client's first command is
// worse, and the old client left bytes unread only if the board was not reading.
// The watcher reacts within a millisecond on an idle machine, and a host tool takes
// longer than that to start and open a port.
//
// reopened is asked once the gate is held, just before the flush.
func (p *Port) lastClientClosedLocked(reopened func() bool) {
	p.gate.Lock()
	// TCIFLUSH on the slave discards board output the client never read (the
	// slave's flip buffers and line discipline).
	if err := unix.IoctlSetInt(p.slaveFd, unix.TCFLSH, unix.TCIFLUSH); err != nil {
		p.log.Warn("flush board output", "path", p.path, "err", err)
	}
	// TCIFLUSH on the master discards what the client wrote and the board has not
	// read. (TCOFLUSH on the slave would not do: it drops only the master's flip
	// buffers, not what already reached its line discipline [S Linux
	// drivers/tty/pty.c pty_flush_buffer; measured].)
	if reopened() {
		p.log.Debug("a client reopened before the close was seen: client input kept", "path", p.path)
	} else {
		var ioErr error
		if err := p.conn.Control(func(fd uintptr) { ioErr = unix.IoctlSetInt(int(fd), unix.TCFLSH, unix.TCIFLUSH) }); err != nil {
			ioErr = err
		}
		if ioErr != nil {
			p.log.Warn("flush client input", "path", p.path, "err", ioErr)
		}
	}
	p.open.Store(false)
	session := p.session.Add(1)
	p.gate.Unlock()
	// A client such as screen may have left the line cooked.
	if err := unix.IoctlSetTermios(p.slaveFd, unix.TCSETS, &p.raw); err != nil {
		p.log.Warn("restore raw mode", "path", p.path, "err", err)
	}
	p.w.emitLocked(p, ClientClosed, session)
}

// correctCountLocked sets the client count to what a /proc scan found.
func (p *Port) correctCountLocked(holders int) {
	if holders == p.count {
		return
	}
	p.log.Debug("client count corrected by /proc scan", "path", p.path, "events", p.count, "holders", holders)
	was := p.count
	p.count = holders
	switch {
	case was > 0 && holders == 0:
		p.lastClientClosedLocked(func() bool { return false })
	case was == 0 && holders > 0:
		p.firstClientOpenedLocked()
	}
}

// Close stops the port: it removes the link and the device node and their lock files,
// and unblocks Read and Write. No event handler runs after Close returns. Every
// cleanup step runs even if an earlier one fails; the errors are joined. Calling
// Close again returns the first result.
func (p *Port) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		p.closeErr = p.release()
		p.log.Info("pty closed", "path", p.path, "err", p.closeErr)
	})
	return p.closeErr
}

// release undoes everything Open did; it is safe on a partly opened Port.
func (p *Port) release() error {
	p.closed.Store(true)
	var errs []error
	if p.w != nil {
		p.w.unregister(p)
	}
	if p.link != "" {
		if err := removeLink(p.link, p.path); err != nil {
			errs = append(errs, err)
		}
	}
	if p.node != nil {
		if err := p.node.remove(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range []*nameLock{p.linkLock, p.nodeLock} {
		if l != nil {
			if err := l.release(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if p.master != nil {
		if err := p.master.Close(); err != nil {
			errs = append(errs, fmt.Errorf("ptyport: close master: %w", err))
		}
	}
	if p.slaveFd >= 0 {
		if err := unix.Close(p.slaveFd); err != nil {
			errs = append(errs, fmt.Errorf("ptyport: close slave: %w", err))
		}
		p.slaveFd = -1
	}
	if p.ownWatcher && p.w != nil {
		if err := p.w.Close(); err != nil {
			errs = append(errs, fmt.Errorf("ptyport: close watcher: %w", err))
		}
	}
	return errors.Join(errs...)
}
