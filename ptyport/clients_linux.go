package ptyport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// clientTracker follows clients opening and closing the slave.
//
// inotify reports IN_OPEN and IN_CLOSE_* for devpts nodes (measured on Linux 6.18),
// but it merges an event into an identical one still unread at the tail of its
// queue, so two opens (or two closes) in quick succession can arrive as one. The
// tracker therefore counts events and, after any close, checks the count against a
// scan of /proc/*/fd for descriptors of this tty. Processes whose descriptors we may
// not read are skipped; when /proc cannot be read at all the count alone decides.
type clientTracker struct {
	p      *Port
	inFd   int // inotify, non-blocking
	wakeFd int // eventfd that stops the watcher goroutine
	done   chan struct{}

	mu      sync.Mutex // serialises reading and handling inotify events
	stopped bool
	count   int // clients by event count (under mu)
	open    atomic.Bool
	running atomic.Bool

	events       chan Event
	eventsClosed bool // under mu
}

func newClientTracker(p *Port, paths []string, eventBuf int) (*clientTracker, error) {
	c := &clientTracker{p: p, inFd: -1, wakeFd: -1, events: make(chan Event, eventBuf), done: make(chan struct{})}
	var err error
	if c.inFd, err = unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC); err != nil {
		return c, fmt.Errorf("ptyport: inotify: %w", err)
	}
	for _, path := range paths {
		// A bind-mounted node is the slave's own inode and yields the same watch.
		if _, err := unix.InotifyAddWatch(c.inFd, path, unix.IN_OPEN|unix.IN_CLOSE); err != nil {
			c.closeFds()
			return c, fmt.Errorf("ptyport: watch %s: %w", path, err)
		}
	}
	if c.wakeFd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		c.closeFds()
		return c, fmt.Errorf("ptyport: eventfd: %w", err)
	}
	return c, nil
}

func (c *clientTracker) start() {
	c.running.Store(true)
	go c.watch()
}

func (c *clientTracker) watch() {
	defer close(c.done)
	fds := []unix.PollFd{{Fd: int32(c.inFd), Events: unix.POLLIN}, {Fd: int32(c.wakeFd), Events: unix.POLLIN}}
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			c.p.log.Error("poll inotify", "err", err)
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		c.sync()
	}
}

// sync handles every event queued so far.
func (c *clientTracker) sync() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	if _, sawClose := c.drain(); sawClose {
		c.reconcile()
	}
}

func (c *clientTracker) isOpen() bool { return c.open.Load() }

// drain reads and applies queued events until the queue is empty.
func (c *clientTracker) drain() (n int, sawClose bool) {
	var buf [4096]byte
	for {
		k, err := unix.Read(c.inFd, buf[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || k <= 0 {
			if err != nil && !errors.Is(err, unix.EAGAIN) {
				c.p.log.Error("read inotify", "err", err)
			}
			return n, sawClose
		}
		for off := 0; off+unix.SizeofInotifyEvent <= k; {
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := binary.NativeEndian.Uint32(buf[off+12:])
			off += unix.SizeofInotifyEvent + int(nameLen)
			n++
			switch {
			case mask&unix.IN_Q_OVERFLOW != 0:
				sawClose = true // the count is lost; let the scan decide
			case mask&unix.IN_OPEN != 0:
				c.count++
				if c.count == 1 {
					c.setOpen()
				}
			case mask&unix.IN_CLOSE != 0:
				sawClose = true
				if c.count > 0 {
					c.count--
					if c.count == 0 {
						c.setClosed()
					}
				}
			}
		}
	}
}

// reconcile corrects the event count with a /proc scan after a close.
func (c *clientTracker) reconcile() {
	const attempts = 3
	for range attempts {
		holders, ok := c.countHolders()
		if !ok {
			return
		}
		// A client that opened before the scan saw it has its IN_OPEN queued already
		// (fsnotify runs before the descriptor is installed); apply such events and
		// scan again, or the scan would be misread.
		if n, _ := c.drain(); n > 0 {
			continue
		}
		switch {
		case holders == 0 && c.count > 0: // closes were merged
			c.count = 0
			c.setClosed()
		case holders > 0 && c.count == 0: // opens were merged
			c.count = 1
			c.setOpen()
		}
		return
	}
}

func (c *clientTracker) setOpen() {
	c.open.Store(true)
	c.p.log.Debug("client opened", "path", c.p.path)
	c.emit(ClientOpened)
}

func (c *clientTracker) setClosed() {
	c.open.Store(false)
	c.p.lastClientClosed()
	c.p.log.Debug("client closed", "path", c.p.path)
	c.emit(ClientClosed)
}

func (c *clientTracker) emit(k EventKind) {
	if c.eventsClosed {
		return
	}
	select {
	case c.events <- Event{Kind: k, At: time.Now()}:
	default:
		c.p.log.Warn("event dropped: Events channel full", "event", k)
	}
}

// countHolders counts descriptors of this tty in all processes except our own slave
// descriptor. ok is false when /proc cannot be read.
func (c *clientTracker) countHolders() (n int, ok bool) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	self := os.Getpid()
	for _, pe := range procs {
		pid, err := strconv.Atoi(pe.Name())
		if err != nil {
			continue
		}
		dir := "/proc/" + pe.Name() + "/fd/"
		fds, err := os.ReadDir(dir)
		if err != nil {
			// Exited, or another user's process we may not inspect. [I] A client of
			// a simulated port runs as the simulator's user (or the simulator runs
			// as root), so such processes are taken not to hold the port.
			continue
		}
		for _, fe := range fds {
			fd, err := strconv.Atoi(fe.Name())
			if err != nil || (pid == self && fd == c.p.slaveFd) {
				continue
			}
			var st unix.Stat_t
			if unix.Stat(dir+fe.Name(), &st) != nil {
				continue
			}
			if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == c.p.rdev {
				n++
			}
		}
	}
	return n, true
}

// stop ends the watcher; no event is handled afterwards.
func (c *clientTracker) stop() {
	if c.wakeFd >= 0 {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		_, _ = unix.Write(c.wakeFd, one[:])
		if c.running.Load() { // not started when Open failed
			<-c.done
		}
	}
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.closeFds()
}

func (c *clientTracker) closeFds() {
	if c.inFd >= 0 {
		_ = unix.Close(c.inFd)
		c.inFd = -1
	}
	if c.wakeFd >= 0 {
		_ = unix.Close(c.wakeFd)
		c.wakeFd = -1
	}
}

func (c *clientTracker) closeEvents() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.eventsClosed {
		c.eventsClosed = true
		close(c.events)
	}
}
