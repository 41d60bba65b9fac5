package ptyport

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"
)

// EventKind says what a client did to the slave.
type EventKind int

const (
	// ClientOpened: the first client opened the port (none had it open before).
	ClientOpened EventKind = iota
	// ClientClosed: the last client closed the port.
	ClientClosed
)

func (k EventKind) String() string {
	switch k {
	case ClientOpened:
		return "client opened"
	case ClientClosed:
		return "client closed"
	default:
		return fmt.Sprintf("EventKind(%d)", int(k))
	}
}

// Event is a change of the port's client state.
type Event struct {
	Kind EventKind
	At   time.Time
	// Session is the port's session number after the event: ClientOpened carries
	// the session the new client talks in, ClientClosed the next one (see
	// [Port.Session]).
	Session uint64
}

// NodeMethod selects how [WithDeviceNode] exposes the slave under another name.
type NodeMethod int

const (
	// NodeAuto tries a bind mount, then mknod.
	NodeAuto NodeMethod = iota
	// NodeBindMount bind-mounts the slave onto an empty regular file (needs CAP_SYS_ADMIN).
	NodeBindMount
	// NodeMknod creates a character device with the slave's device number (needs
	// CAP_MKNOD). Since Linux 4.7 a pty slave opens only through its own devpts
	// mount, so such a node fails with EIO on open; Open detects that and reports
	// [ErrNodeUnusable] instead of leaving a node that cannot be used.
	NodeMknod
)

func (m NodeMethod) String() string {
	switch m {
	case NodeAuto:
		return "auto"
	case NodeBindMount:
		return "bind mount"
	case NodeMknod:
		return "mknod"
	default:
		return fmt.Sprintf("NodeMethod(%d)", int(m))
	}
}

type options struct {
	link       string
	node       string
	nodeMethod NodeMethod
	logger     *slog.Logger
	watcher    *Watcher
	onEvent    func(Event)
}

// Option configures [Open].
type Option func(*options)

// WithLink creates a symlink at path pointing to the slave (/dev/pts/N). The port owns
// the name through an flock on a lock file beside it (.<name>.lock, holding the
// owner's pid and pty), which the kernel drops when the owner dies. While a live
// owner holds it, Open fails with an [*InUseError] naming the pid. Once the owner is
// gone, an existing symlink that dangles or points to a pty slave is replaced; any
// other existing file, including a symlink to something that is not a pty, is refused
// with [ErrLinkExists]. Close removes the link if it still points to this port's
// slave, and the lock file.
func WithLink(path string) Option { return func(o *options) { o.link = path } }

// WithDeviceNode exposes the slave at path, e.g. /dev/ttyACM99, a name pyserial's
// comports() lists, as nrfcredstore 2.x requires (/work/shared/protocols/nrf91.md §5.3
// [S]: realpath(port) must equal a listed glob path, so a symlink is rejected). Needs
// root; see [NodeMethod]. The name is owned through a lock file as for [WithLink]
// (/dev/.ttyACM99.lock): a node whose owner is alive is never replaced. Close
// unmounts and removes it.
func WithDeviceNode(path string) Option { return func(o *options) { o.node = path } }

// WithDeviceNodeMethod selects how WithDeviceNode creates the node (default [NodeAuto]).
func WithDeviceNodeMethod(m NodeMethod) Option { return func(o *options) { o.nodeMethod = m } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithWatcher makes Open register the port with w, which follows the clients of
// many ports with one inotify instance and one goroutine. Without it, Open creates a
// private Watcher that Close closes (fine for a single board; a process can hold
// only ~126 inotify instances, see /proc/sys/fs/inotify/max_user_instances).
func WithWatcher(w *Watcher) Option { return func(o *options) { o.watcher = w } }

// WithEventHandler sets fn to be called for each [ClientOpened] and [ClientClosed],
// in order, from the watcher's goroutine and never after Close returns. fn must not
// block and must not call Close or [Watcher.Close]; it may call the port's other
// methods. nil means no handler.
func WithEventHandler(fn func(Event)) Option { return func(o *options) { o.onEvent = fn } }

func buildOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o
}

type watcherOptions struct {
	logger *slog.Logger
}

// WatcherOption configures [NewWatcher].
type WatcherOption func(*watcherOptions)

// WithWatcherLogger sets the watcher's logger (default: discard).
func WithWatcherLogger(l *slog.Logger) WatcherOption {
	return func(o *watcherOptions) { o.logger = l }
}

func buildWatcherOptions(opts []WatcherOption) watcherOptions {
	var o watcherOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// closedError matches both os.ErrClosed and net.ErrClosed so callers written against
// either convention can test for it.
type closedError struct{}

func (closedError) Error() string { return "ptyport: port closed" }

func (closedError) Is(target error) bool { return target == os.ErrClosed || target == net.ErrClosed }

var (
	// ErrClosed is returned by Read and Write after Close; errors.Is(err, os.ErrClosed)
	// and errors.Is(err, net.ErrClosed) both hold.
	ErrClosed error = closedError{}
	// ErrUnsupported: the platform is not Linux.
	ErrUnsupported = fmt.Errorf("ptyport: only Linux is supported: %w", errors.ErrUnsupported)
	// ErrLinkExists: the WithLink path exists and is not a replaceable (stale pty) symlink.
	ErrLinkExists = errors.New("ptyport: link path exists and is not a stale pty symlink")
	// ErrInUse: a live process owns the link or device node name; the error is an
	// [*InUseError] that says who.
	ErrInUse = errors.New("ptyport: name in use")
	// ErrWatcherClosed: Open was given a Watcher that is closed.
	ErrWatcherClosed = errors.New("ptyport: watcher closed")
	// ErrNodeExists: the WithDeviceNode path exists and is not a leftover of a previous run.
	ErrNodeExists = errors.New("ptyport: device node path exists")
	// ErrNotRoot: WithDeviceNode needs root.
	ErrNotRoot = errors.New("ptyport: device node needs root")
	// ErrMountNotPermitted: the bind mount was refused (no CAP_SYS_ADMIN, e.g. in an
	// unprivileged container).
	ErrMountNotPermitted = errors.New("ptyport: bind mount not permitted")
	// ErrNodeUnusable: the node was created but opening it fails (mknod of a pty slave
	// on Linux >= 4.7 gives EIO).
	ErrNodeUnusable = errors.New("ptyport: device node cannot be opened")
)

// nodeHint tells the user what to do when no device node can be made (nrf91.md §5.3 [S]).
const nodeHint = "run as root with CAP_SYS_ADMIN (e.g. docker --cap-add SYS_ADMIN), " +
	"or give the host tool the /dev/pts path with a tool that does not filter ports " +
	"(nrfcredstore 1.1.1), or patch serial.tools.list_ports.comports to list it"

// InUseError says that a live process owns a link or device node name. errors.Is(err,
// ErrInUse) holds.
type InUseError struct {
	What    string // "link" or "device node"
	Path    string
	PID     int    // the owner's pid, 0 if it could not be read
	Serving string // the pty the owner serves, "" if it could not be read
}

func (e *InUseError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = fmt.Sprintf("pid %d", e.PID)
	}
	msg := fmt.Sprintf("ptyport: %s %s is in use by %s", e.What, e.Path, who)
	if e.Serving != "" {
		msg += " (serving " + e.Serving + ")"
	}
	return msg
}

func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// DeviceNodeError explains why WithDeviceNode failed.
type DeviceNodeError struct {
	Path   string
	Method NodeMethod
	Err    error
}

func (e *DeviceNodeError) Error() string {
	return fmt.Sprintf("ptyport: device node %s (%s): %v; %s", e.Path, e.Method, e.Err, nodeHint)
}

func (e *DeviceNodeError) Unwrap() error { return e.Err }
