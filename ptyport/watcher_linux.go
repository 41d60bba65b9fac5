package ptyport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Client tracking, and what it trades.
//
// inotify reports IN_OPEN and IN_CLOSE_* for devpts nodes (measured on Linux 6.18),
// queued before open(2) returns and before close(2) returns to the closing process.
// The hot path decides "a client has it open" from the count of those events alone:
// no /proc scan per hang-up. But inotify merges an event into an identical one still
// unread at the tail of its queue, so two opens (or two closes) of one port in quick
// succession can arrive as one and the count goes wrong. The watcher therefore
// reconciles the count with ONE scan of /proc/*/fd for all ports that saw a close
// (and for every port after IN_Q_OVERFLOW), in the background, at least
// reconcileGap apart. The cost of a wrong count lasts until that scan:
//   - merged closes: the port believes a client is still there; output goes to a pty
//     nobody reads, and the flush and the new session come with the scan;
//   - merged opens: the first of two clients to close ends the session, so the second
//     loses output until the scan restores its session (as a new one).
//
// Both need two clients of one port within the watcher's reaction time, which a host
// tool using a serial port does not do. Processes whose descriptors we may not read
// are skipped by the scan; when /proc cannot be read at all the count alone decides.
const (
	// reconcileDelay lets a burst of closes gather into one scan.
	reconcileDelay = 10 * time.Millisecond
	// reconcileGap bounds the scan rate (each costs a stat per descriptor of every
	// process: a few ms with 1,000 ports in this process).
	reconcileGap = 100 * time.Millisecond
)

// Watcher follows client opens and closes of many ports with one inotify instance and
// one goroutine. That goroutine waits in Go's netpoller on an epoll instance holding
// the inotify descriptor, an eventfd and a timerfd, so no OS thread is parked. A
// Watcher costs 4 descriptors and 1 goroutine; a port adds none of either.
type Watcher struct {
	log     *slog.Logger
	ep      *os.File // epoll instance, pollable: the goroutine waits on it
	epConn  syscall.RawConn
	inFd    int // inotify, non-blocking
	wakeFd  int // eventfd: a port method applied events; deliver them
	timerFd int // timerfd: time for a reconcile scan
	done    chan struct{}

	// fdMu guards the raw descriptors against Close for the methods that run without
	// mu (queued, wake). Code under mu checks closed instead: Close sets it under mu
	// before it releases the descriptors.
	fdMu sync.RWMutex

	mu        sync.Mutex  // serialises reading and applying inotify events
	draining  atomic.Bool // events read from inotify are being applied (under mu)
	closed    bool
	ports     map[*Port]struct{}
	byWd      map[int32]*Port
	pending   []portEvent    // applied, not yet delivered
	batch     []inotifyEvent // drainLocked's buffer
	scanArmed bool
	lastScan  time.Time

	// deliverMu is held while a handler runs, so Port.Close can wait for it.
	deliverMu sync.Mutex
	closeOnce sync.Once
	closeErr  error
}

type portEvent struct {
	p  *Port
	ev Event
}

// NewWatcher starts a watcher. Close it after the ports registered with it.
func NewWatcher(opts ...WatcherOption) (_ *Watcher, err error) {
	o := buildWatcherOptions(opts)
	w := &Watcher{log: o.logger, inFd: -1, wakeFd: -1, timerFd: -1, done: make(chan struct{}),
		ports: map[*Port]struct{}{}, byWd: map[int32]*Port{}}
	epFd := -1
	defer func() {
		if err != nil {
			if epFd >= 0 {
				_ = unix.Close(epFd)
			}
			w.closeFds()
		}
	}()
	if w.inFd, err = unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC); err != nil {
		return nil, fmt.Errorf("ptyport: inotify: %w", err)
	}
	if w.wakeFd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return nil, fmt.Errorf("ptyport: eventfd: %w", err)
	}
	if w.timerFd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		return nil, fmt.Errorf("ptyport: timerfd: %w", err)
	}
	if epFd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("ptyport: epoll: %w", err)
	}
	for _, fd := range []int{w.inFd, w.wakeFd, w.timerFd} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(epFd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return nil, fmt.Errorf("ptyport: epoll add: %w", err)
		}
	}
	// A non-blocking descriptor makes os.NewFile register it with the netpoller.
	if err := unix.SetNonblock(epFd, true); err != nil {
		return nil, fmt.Errorf("ptyport: epoll non-blocking: %w", err)
	}
	w.ep = os.NewFile(uintptr(epFd), "ptyport-watcher")
	epFd = -1 // owned by w.ep now
	if w.epConn, err = w.ep.SyscallConn(); err != nil {
		_ = w.ep.Close()
		return nil, fmt.Errorf("ptyport: watcher: %w", err)
	}
	go w.run()
	return w, nil
}

// run is the watcher's goroutine: it applies inotify events, runs reconcile scans and
// calls the event handlers, until Close.
func (w *Watcher) run() {
	defer close(w.done)
	var evs [3]unix.EpollEvent
	err := w.epConn.Read(func(fd uintptr) bool {
		for {
			n, err := unix.EpollWait(int(fd), evs[:], 0)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				w.log.Error("epoll wait", "err", err)
				return true
			}
			if n == 0 {
				return false // park in the netpoller until a source is ready
			}
			w.mu.Lock()
			closing := w.closed
			w.mu.Unlock()
			if closing {
				return true // Close: the sources stay ready, nobody drains them now
			}
			for _, ev := range evs[:n] {
				switch int(ev.Fd) {
				case w.inFd:
					w.mu.Lock()
					w.drainLocked()
					w.mu.Unlock()
				case w.wakeFd:
					readCounter(w.wakeFd)
				case w.timerFd:
					readCounter(w.timerFd)
					w.reconcile()
				}
			}
			w.deliver()
		}
	})
	w.mu.Lock()
	closing := w.closed
	w.mu.Unlock()
	if !closing {
		w.log.Error("watcher stopped", "err", err)
	}
}

// readCounter resets an eventfd or timerfd.
func readCounter(fd int) {
	var b [8]byte
	_, _ = unix.Read(fd, b[:])
}

// deliver calls the handlers of applied events, in order, outside mu so that a handler
// may call the port's methods.
func (w *Watcher) deliver() {
	for {
		w.mu.Lock()
		evs := w.pending
		w.pending = nil
		w.mu.Unlock()
		if len(evs) == 0 {
			return
		}
		for _, e := range evs {
			w.deliverMu.Lock()
			if !e.p.closed.Load() {
				e.p.onEvent(e.ev)
			}
			w.deliverMu.Unlock()
		}
	}
}

// behind reports whether clients did something the ports do not know yet: events
// queued in inotify, or read and being applied. One ioctl, no lock shared between
// ports.
func (w *Watcher) behind() bool { return w.draining.Load() || w.queued() }

func (w *Watcher) queued() bool {
	w.fdMu.RLock()
	defer w.fdMu.RUnlock()
	if w.inFd < 0 {
		return false
	}
	// FIONREAD, which x/sys names TIOCINQ (the same request on Linux).
	n, err := unix.IoctlGetInt(w.inFd, unix.TIOCINQ)
	return err == nil && n > 0
}

// sync applies every event queued so far; Port methods call it before deciding where
// bytes go. The handlers run later, in the watcher goroutine.
func (w *Watcher) sync() {
	if !w.behind() {
		return
	}
	w.mu.Lock()
	before := len(w.pending)
	w.drainLocked()
	added := len(w.pending) > before
	w.mu.Unlock()
	if added {
		w.wake()
	}
}

func (w *Watcher) wake() {
	w.fdMu.RLock()
	defer w.fdMu.RUnlock()
	if w.wakeFd < 0 {
		return
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(w.wakeFd, one[:])
}

// inotifyEvent is the part of a struct inotify_event the watcher uses.
type inotifyEvent struct {
	wd   int32
	mask uint32
}

const watchMask = unix.IN_OPEN | unix.IN_CLOSE

// drainBatches bounds one drain so that a flood of events cannot hold mu forever.
const drainBatches = 64

// drainLocked reads the queued events, then applies them in order, so that the
// handler of a last close can see what followed it. It returns how many it applied.
func (w *Watcher) drainLocked() int {
	if w.closed {
		return 0
	}
	w.draining.Store(true)
	defer w.draining.Store(false)
	w.batch = w.batch[:0]
	w.readEventsLocked()
	// applyLocked may append to w.batch (readEventsLocked), hence the index loop.
	for i := 0; i < len(w.batch); i++ {
		w.applyLocked(i)
	}
	return len(w.batch)
}

// readEventsLocked appends the events queued in inotify to w.batch.
func (w *Watcher) readEventsLocked() {
	var buf [4096]byte
	for range drainBatches {
		k, err := unix.Read(w.inFd, buf[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || k <= 0 {
			if err != nil && !errors.Is(err, unix.EAGAIN) {
				w.log.Error("read inotify", "err", err)
			}
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= k; {
			w.batch = append(w.batch, inotifyEvent{
				wd:   int32(binary.NativeEndian.Uint32(buf[off:])),
				mask: binary.NativeEndian.Uint32(buf[off+4:]),
			})
			off += unix.SizeofInotifyEvent + int(binary.NativeEndian.Uint32(buf[off+12:]))
		}
	}
}

// applyLocked applies w.batch[i].
func (w *Watcher) applyLocked(i int) {
	ev := w.batch[i]
	if ev.mask&unix.IN_Q_OVERFLOW != 0 {
		w.log.Warn("inotify queue overflowed: reconciling every port")
		for p := range w.ports {
			p.needScan = true
		}
		w.scheduleScanLocked()
		return
	}
	p := w.byWd[ev.wd]
	if p == nil {
		return // a watch removed by Close, or IN_IGNORED
	}
	switch {
	case ev.mask&unix.IN_OPEN != 0:
		p.seq++
		p.count++
		if p.count == 1 {
			p.firstClientOpenedLocked()
		}
	case ev.mask&unix.IN_CLOSE != 0:
		p.seq++
		p.needScan = true
		w.scheduleScanLocked()
		if p.count > 0 {
			p.count--
			if p.count == 0 {
				p.lastClientClosedLocked(func() bool {
					// Every open up to now is queued: read them, to see
					// whether a new client has the port already.
					w.readEventsLocked()
					return w.reopenedLocked(p, w.batch[i+1:])
				})
			}
		}
	}
}

// reopenedLocked reports whether later (events queued after a last close of p) shows
// a client opening p again.
func (w *Watcher) reopenedLocked(p *Port, later []inotifyEvent) bool {
	for _, ev := range later {
		if w.byWd[ev.wd] == p && ev.mask&unix.IN_OPEN != 0 {
			return true
		}
	}
	return false
}

func (w *Watcher) emitLocked(p *Port, k EventKind, session uint64) {
	p.log.Debug(k.String(), "path", p.path, "session", session)
	if p.onEvent != nil {
		w.pending = append(w.pending, portEvent{p, Event{Kind: k, At: time.Now(), Session: session}})
	}
}

func (w *Watcher) scheduleScanLocked() {
	if w.scanArmed || w.closed {
		return
	}
	delay := reconcileDelay
	if next := time.Until(w.lastScan.Add(reconcileGap)); next > delay {
		delay = next
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(delay.Nanoseconds())}
	if err := unix.TimerfdSettime(w.timerFd, 0, &spec, nil); err != nil {
		w.log.Error("arm reconcile timer", "err", err)
		return
	}
	w.scanArmed = true
}

// reconcile corrects the event counts of the ports that need it with one /proc scan.
// It runs in the watcher goroutine; ports keep applying events meanwhile.
func (w *Watcher) reconcile() {
	type target struct {
		p       *Port
		seq     uint64
		slaveFd int
	}
	w.mu.Lock()
	w.scanArmed = false
	w.drainLocked()
	targets := map[uint64]target{}
	for p := range w.ports {
		if p.needScan {
			p.needScan = false
			targets[p.rdev] = target{p, p.seq, p.slaveFd}
		}
	}
	w.mu.Unlock()
	if len(targets) == 0 {
		return
	}
	ours := make(map[uint64]int, len(targets))
	for rdev, t := range targets {
		ours[rdev] = t.slaveFd
	}
	holders, ok := scanHolders(ours)

	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastScan = time.Now()
	// A client that opened during the scan has its IN_OPEN queued already (it is
	// queued before the descriptor is installed): apply it, and leave that port for
	// the next scan rather than misread this one.
	w.drainLocked()
	if !ok {
		return
	}
	rescan := false
	for rdev, t := range targets {
		if _, live := w.ports[t.p]; !live {
			continue
		}
		if t.p.seq != t.seq {
			t.p.needScan = true
			rescan = true
			continue
		}
		t.p.correctCountLocked(holders[rdev])
	}
	if rescan {
		w.scheduleScanLocked()
	}
}

// register starts following clients of p through paths.
func (w *Watcher) register(p *Port, paths []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrWatcherClosed
	}
	for _, path := range paths {
		// A bind-mounted node is the slave's own inode and yields the same watch.
		wd, err := unix.InotifyAddWatch(w.inFd, path, watchMask)
		if err != nil {
			w.removeWatchesLocked(p)
			return fmt.Errorf("ptyport: watch %s: %w", path, err)
		}
		if w.byWd[int32(wd)] != p {
			w.byWd[int32(wd)] = p
			p.wds = append(p.wds, int32(wd))
		}
	}
	w.ports[p] = struct{}{}
	p.w = w
	return nil
}

// unregister stops following p: no event of p is applied or delivered afterwards, and
// a handler of p still running has returned.
func (w *Watcher) unregister(p *Port) {
	w.mu.Lock()
	if _, ok := w.ports[p]; ok {
		delete(w.ports, p)
		w.removeWatchesLocked(p)
		kept := w.pending[:0]
		for _, e := range w.pending {
			if e.p != p {
				kept = append(kept, e)
			}
		}
		w.pending = kept
	}
	w.mu.Unlock()
	// Wait for a handler that is running now.
	w.deliverMu.Lock()
	w.deliverMu.Unlock() //nolint:staticcheck // empty critical section on purpose
}

func (w *Watcher) removeWatchesLocked(p *Port) {
	for _, wd := range p.wds {
		delete(w.byWd, wd)
		if !w.closed {
			// EINVAL: the kernel dropped the watch already (the pty is gone).
			_, _ = unix.InotifyRmWatch(w.inFd, uint32(wd))
		}
	}
	p.wds = nil
}

// Close stops the watcher and releases its descriptors. Close the ports first: a port
// still registered stops following its clients and keeps the state it had (its
// session and ClientOpen no longer change, nothing is flushed on a hang-up); Close
// logs how many there were. Calling Close again returns the first result.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closed = true
		if n := len(w.ports); n > 0 {
			w.log.Warn("watcher closed with ports still registered: they no longer follow clients", "ports", n)
		}
		w.pending = nil
		w.mu.Unlock()
		// Closing the epoll file wakes the goroutine; its descriptor is released once
		// the goroutine's read returns.
		w.closeErr = w.ep.Close()
		<-w.done
		w.closeFds()
	})
	return w.closeErr
}

func (w *Watcher) closeFds() {
	w.fdMu.Lock()
	defer w.fdMu.Unlock()
	for _, fd := range []*int{&w.inFd, &w.wakeFd, &w.timerFd} {
		if *fd >= 0 {
			_ = unix.Close(*fd)
			*fd = -1
		}
	}
}
