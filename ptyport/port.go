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
	eventBuf   int
}

// Option configures [Open].
type Option func(*options)

// WithLink creates a symlink at path pointing to the slave (/dev/pts/N). An existing
// symlink that dangles or points to a pty slave (a previous run) is replaced; any other
// existing file, including a symlink to something that is not a pty, is refused with
// [ErrLinkExists]. Close removes the link if it still points to this port's slave.
func WithLink(path string) Option { return func(o *options) { o.link = path } }

// WithDeviceNode exposes the slave at path, e.g. /dev/ttyACM99, a name pyserial's
// comports() lists, as nrfcredstore 2.x requires (/work/shared/protocols/nrf91.md §5.3
// [S]: realpath(port) must equal a listed glob path, so a symlink is rejected). Needs
// root; see [NodeMethod]. Close unmounts and removes it.
func WithDeviceNode(path string) Option { return func(o *options) { o.node = path } }

// WithDeviceNodeMethod selects how WithDeviceNode creates the node (default [NodeAuto]).
func WithDeviceNodeMethod(m NodeMethod) Option { return func(o *options) { o.nodeMethod = m } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithEventBuffer sets the capacity of the Events channel (default 16). Events that do
// not fit because nobody reads the channel are dropped (and logged) rather than
// stalling client tracking.
func WithEventBuffer(n int) Option { return func(o *options) { o.eventBuf = n } }

func buildOptions(opts []Option) options {
	o := options{eventBuf: 16}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.eventBuf < 0 {
		o.eventBuf = 0
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
