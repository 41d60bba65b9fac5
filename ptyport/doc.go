// Package ptyport serves one simulated serial port on a Linux pseudo-terminal.
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
//   - board output the old client never read is flushed when the last client closes,
//     and output written while no client has the port open is discarded.
//
// The kernel keeps a pty's unread output across a close and a reopen (a USB
// CDC-ACM port drops it on the last close), and Linux tells a process about a
// close only afterwards. So the flush follows the close by the time inotify
// takes to report it, about a millisecond: a client that reopens and reads
// within that window can still see the previous client's unread answer. Host
// tools take far longer to reopen, and most flush their input on open anyway.
//
// Only Linux is supported: client tracking uses inotify on devpts and /proc, and the
// device node uses a bind mount. On other systems [Open] returns [ErrUnsupported].
package ptyport
