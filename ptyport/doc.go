// Package ptyport serves simulated serial ports on Linux pseudo-terminals.
//
// The board side reads what the host tool wrote with [Port.Read] and answers with
// [Port.Write]; the host tool opens the slave (/dev/pts/N, a stable symlink from
// [WithLink], or a pyserial-listable device node from [WithDeviceNode]) exactly as it
// would open a board's serial port.
//
// The port behaves like a UART that stays powered while host tools come and go:
//   - the slave is kept in raw mode (no echo, no CR/LF translation, no signals, 8-bit
//     clean) and is put back into raw mode whenever the last client closes it;
//   - the port keeps its own slave descriptor open, so the master never sees EIO when
//     clients close it;
//   - output written while no client has the port open is discarded.
//
// Sessions. A port counts its clients' sessions: the number starts at 0 and
// increments at every last close. At that moment the port discards what is still
// queued in both directions (board output the client never read, bytes the client
// wrote that the board has not read), atomically with respect to [Port.ReadSession]
// and [Port.WriteSession], so a new client neither inherits the old client's
// half-written command nor receives answers meant for it: bytes ReadSession returns
// with session s come from the client of session s, and WriteSession(s, …) writes
// only while s is current. An engine that buffers input resets its framer when the
// session changes.
//
// Linux tells a process about a close only afterwards (inotify), so the flush
// follows the close by the watcher's reaction time, well under a millisecond on an
// idle machine. Every Port method applies the events queued so far before it reads,
// writes or answers, so the window is only the time between the close and the
// board's next call, and it matters only to a client that reopens within it: its
// bytes cannot be told apart from the old client's unread ones in the kernel's
// queue, and the port keeps that queue rather than lose the new client's first
// command (the old client left bytes there only if the board was not reading).
//
// Fleets. A [Watcher] follows the clients of many ports with one inotify instance and
// one goroutine (waiting in the netpoller, no OS thread); pass it with [WithWatcher].
// A port then costs two descriptors (master and slave) and no goroutine. Without it
// each port gets a private watcher, and a process stops at ~126 ports
// (/proc/sys/fs/inotify/max_user_instances).
//
// Names. [WithLink] and [WithDeviceNode] own their name through an flock on a lock
// file beside it, so a second process cannot take over a live board's name, and
// [RemoveStale] clears what a process that was killed left behind.
//
// Only Linux is supported: client tracking uses inotify on devpts and /proc, and the
// device node uses a bind mount. On other systems [Open] returns [ErrUnsupported].
package ptyport
