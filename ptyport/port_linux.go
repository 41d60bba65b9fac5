package ptyport

import (
	"github.com/creack/pty"

	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// writeChunk bounds one master write so that the last-close handler, which flushes the
// slave's input queue, always frees enough room for an in-flight chunk to complete
// (the n_tty read buffer alone is 4 KiB).
const writeChunk = 1024

// Port is one simulated serial port. Read and Write may be called from different
// goroutines; concurrent Writes are serialised.
type Port struct {
	log    *slog.Logger
	master *os.File // pollable, so Close unblocks Read and Write
	// slaveFd is our own descriptor of the slave: it keeps the master from seeing EIO
	// when clients close, and is what we flush and restore termios through.
	slaveFd int
	path    string
	rdev    uint64
	raw     unix.Termios

	link string // created symlink, "" if none
	node *deviceNode

	cl *clientTracker

	writeMu sync.Mutex
	// gate: each chunk written to the master holds it shared; the last-close handler
	// takes it exclusively so that no chunk lands after its final flush.
	gate sync.RWMutex

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Open creates a pty, puts the slave in raw mode and starts tracking clients.
func Open(opts ...Option) (_ *Port, err error) {
	o := buildOptions(opts)
	p := &Port{log: o.logger, slaveFd: -1}
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

	// The node is made (and test-opened) before any watch exists, so our own
	// open does not count as a client.
	watch := []string{p.path}
	if o.node != "" {
		if p.node, err = createNode(o.node, p.path, p.rdev, o.nodeMethod, p.log); err != nil {
			return nil, err
		}
		watch = append(watch, o.node)
	}
	if p.cl, err = newClientTracker(p, watch, o.eventBuf); err != nil {
		return nil, err
	}
	if o.link != "" {
		if err := replaceLink(o.link, p.path, p.log); err != nil {
			return nil, err
		}
		p.link = o.link
	}
	p.cl.start()
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
	n, err := p.master.Read(b)
	if err != nil {
		if p.closed.Load() || errors.Is(err, os.ErrClosed) {
			return n, ErrClosed
		}
		return n, fmt.Errorf("ptyport: read %s: %w", p.path, err)
	}
	return n, nil
}

// Write sends bytes to the host tool. While no client has the port open the bytes are
// discarded, like a UART with nobody listening, and Write reports success.
func (p *Port) Write(b []byte) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	for off := 0; off < len(b); {
		// Everything a client did before this call (open, close) is queued in the
		// inotify descriptor by now; account for it before deciding where bytes go.
		p.cl.sync()
		end := min(off+writeChunk, len(b))
		p.gate.RLock()
		if !p.cl.isOpen() {
			p.gate.RUnlock()
			return len(b), nil
		}
		n, err := p.master.Write(b[off:end])
		p.gate.RUnlock()
		off += n
		if err != nil {
			if p.closed.Load() || errors.Is(err, os.ErrClosed) {
				return off, ErrClosed
			}
			return off, fmt.Errorf("ptyport: write %s: %w", p.path, err)
		}
	}
	return len(b), nil
}

// SetReadDeadline sets the deadline for pending and future Reads.
func (p *Port) SetReadDeadline(t time.Time) error { return p.master.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline for pending and future Writes (a client that
// has the port open but does not read eventually blocks Write).
func (p *Port) SetWriteDeadline(t time.Time) error { return p.master.SetWriteDeadline(t) }

// Events reports clients opening and closing the port. It is closed by Close.
func (p *Port) Events() <-chan Event { return p.cl.events }

// ClientOpen reports whether a client has the port open.
func (p *Port) ClientOpen() bool {
	if p.closed.Load() {
		return false
	}
	p.cl.sync()
	return p.cl.isOpen()
}

// lastClientClosed runs (under the tracker lock) when the last client has closed: it
// discards board output the client never read and restores raw mode.
func (p *Port) lastClientClosed() {
	for !p.closed.Load() {
		// Flushing first unblocks a Write stuck on a full queue; its chunk then
		// lands, so flush again once no chunk is in flight.
		p.flushInput()
		if p.gate.TryLock() {
			p.flushInput()
			p.gate.Unlock()
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	// A client such as screen may have left the line cooked.
	if err := unix.IoctlSetTermios(p.slaveFd, unix.TCSETS, &p.raw); err != nil {
		p.log.Warn("restore raw mode", "path", p.path, "err", err)
	}
}

func (p *Port) flushInput() {
	// TCIFLUSH on the slave discards what the master wrote and no client read.
	if err := unix.IoctlSetInt(p.slaveFd, unix.TCFLSH, unix.TCIFLUSH); err != nil {
		p.log.Warn("flush slave input", "path", p.path, "err", err)
	}
}

// Close stops the port: it removes the link and the device node, unblocks Read and
// Write, and closes Events. Every cleanup step runs even if an earlier one fails; the
// errors are joined. Calling Close again returns the first result.
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
	if p.cl != nil {
		p.cl.stop()
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
	if p.cl != nil {
		p.cl.closeEvents()
	}
	return errors.Join(errs...)
}
