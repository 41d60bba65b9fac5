package ptyport

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Unix98 pty slaves use majors 136–143 [S Linux Documentation/admin-guide/devices.txt].
const (
	ptySlaveMajorFirst = 136
	ptySlaveMajorLast  = 143
)

func isPtySlave(rdev uint64) bool {
	m := unix.Major(rdev)
	return m >= ptySlaveMajorFirst && m <= ptySlaveMajorLast
}

// replaceLink points path at target, replacing a stale symlink atomically. The caller
// holds the name's lock, so a symlink there was left by an owner that is gone.
func replaceLink(path, target string, log *slog.Logger) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("ptyport: link %s: %w", path, err)
	case fi.Mode()&fs.ModeSymlink == 0:
		return fmt.Errorf("ptyport: link %s is a %s: %w", path, fi.Mode().Type(), ErrLinkExists)
	default:
		old, _ := os.Readlink(path)
		if !staleLinkTarget(path) {
			return fmt.Errorf("ptyport: link %s points to %s: %w", path, old, ErrLinkExists)
		}
		log.Warn("replacing stale link", "link", path, "old", old, "new", target)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp"+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("ptyport: link %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("ptyport: link %s: %w", path, err)
	}
	return nil
}

// removeLink removes path if it still points to target (another run may own it now).
func removeLink(path, target string) error {
	old, err := os.Readlink(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ptyport: remove link %s: %w", path, err)
	}
	if old != target {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ptyport: remove link %s: %w", path, err)
	}
	return nil
}

type deviceNode struct {
	path    string
	mounted bool
}

// createNode exposes slave at path by method and checks that a client can open it.
func createNode(path, slave string, rdev uint64, method NodeMethod, log *slog.Logger) (*deviceNode, error) {
	fail := func(m NodeMethod, err error) error { return &DeviceNodeError{Path: path, Method: m, Err: err} }
	if os.Geteuid() != 0 {
		return nil, fail(method, ErrNotRoot)
	}
	if err := clearStaleNode(path, log); err != nil {
		return nil, fail(method, err)
	}
	var errs []error
	if method == NodeAuto || method == NodeBindMount {
		n, err := bindNode(path, slave)
		if err == nil {
			return n, nil
		}
		if method == NodeBindMount {
			return nil, fail(method, err)
		}
		errs = append(errs, err)
	}
	n, err := mknodNode(path, rdev)
	if err == nil {
		return n, nil
	}
	return nil, fail(method, errors.Join(append(errs, err)...))
}

func bindNode(path, slave string) (*deviceNode, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o660)
	if err != nil {
		return nil, fmt.Errorf("create mount point: %w", err)
	}
	_ = f.Close()
	n := &deviceNode{path: path}
	if err := unix.Mount(slave, path, "", unix.MS_BIND, ""); err != nil {
		_ = os.Remove(path)
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			err = fmt.Errorf("%w: %w", ErrMountNotPermitted, err)
		}
		return nil, fmt.Errorf("bind mount %s: %w", slave, err)
	}
	n.mounted = true
	if err := checkOpens(path); err != nil {
		_ = n.remove()
		return nil, err
	}
	return n, nil
}

func mknodNode(path string, rdev uint64) (*deviceNode, error) {
	if err := unix.Mknod(path, unix.S_IFCHR|0o660, int(rdev)); err != nil {
		return nil, fmt.Errorf("mknod: %w", err)
	}
	n := &deviceNode{path: path}
	if err := checkOpens(path); err != nil {
		_ = n.remove()
		return nil, err
	}
	return n, nil
}

// checkOpens opens and closes the node as a client would. It runs before client
// tracking starts, so it is not counted.
func checkOpens(path string) error {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%w: open %s: %w", ErrNodeUnusable, path, err)
	}
	return unix.Close(fd)
}

// clearStaleNode removes what a previous run that died left at path: a pty device
// node, or a bind mount of a pty that is still mounted there, or an empty file. The
// caller holds the name's lock, so whoever made it is gone.
func clearStaleNode(path string, log *slog.Logger) error {
	var st unix.Stat_t
	err := unix.Lstat(path, &st)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	isChr := st.Mode&unix.S_IFMT == unix.S_IFCHR && isPtySlave(st.Rdev)
	isEmpty := st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == 0
	if !isChr && !isEmpty {
		return fmt.Errorf("%s: %w", path, ErrNodeExists)
	}
	log.Warn("removing stale device node", "path", path)
	// Mounts can stack; EINVAL means nothing (more) is mounted there.
	for range 8 {
		if unix.Unmount(path, unix.MNT_DETACH) != nil {
			break
		}
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale node: %w", err)
	}
	return nil
}

// remove unmounts (if mounted) and removes the node.
func (n *deviceNode) remove() error {
	var errs []error
	if n.mounted {
		// MNT_DETACH: a client that still has the node open would make a plain
		// unmount fail with EBUSY.
		if err := unix.Unmount(n.path, unix.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("ptyport: unmount %s: %w", n.path, err))
		} else {
			n.mounted = false
		}
	}
	if err := os.Remove(n.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("ptyport: remove %s: %w", n.path, err))
	}
	return errors.Join(errs...)
}

// nameLock is the flock a port holds on .<name>.lock beside its link or device node,
// so that a second process (or port) cannot take a name whose owner is alive, while
// a name left by a process that died (kill -9) is free again: the kernel drops the
// flock with the process.
type nameLock struct {
	path string
	fd   int
}

// lockPathFor returns the lock file of a link or node path.
func lockPathFor(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".lock")
}

// lockName takes the name path for a port serving pty; what says "link" or "device
// node" for the error. A live owner gives an *InUseError.
func lockName(path, what, pty string) (*nameLock, error) {
	lp := lockPathFor(path)
	// A releasing owner unlinks the file before it unlocks; whoever locked the old
	// inode meanwhile must start over with the new file.
	const attempts = 5
	for range attempts {
		fd, err := unix.Open(lp, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
		if err != nil {
			return nil, fmt.Errorf("ptyport: %s %s: lock file: %w", what, path, err)
		}
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			inUse := &InUseError{What: what, Path: path}
			if errors.Is(err, unix.EWOULDBLOCK) {
				inUse.PID, inUse.Serving = readOwner(fd)
			}
			_ = unix.Close(fd)
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, inUse
			}
			return nil, fmt.Errorf("ptyport: %s %s: lock: %w", what, path, err)
		}
		if !sameInode(fd, lp) {
			unlockClose(fd)
			continue
		}
		owner := fmt.Sprintf("%d\n%s\n", os.Getpid(), pty)
		if err := unix.Ftruncate(fd, 0); err != nil {
			unlockClose(fd)
			return nil, fmt.Errorf("ptyport: %s %s: lock file: %w", what, path, err)
		}
		if _, err := unix.Pwrite(fd, []byte(owner), 0); err != nil {
			unlockClose(fd)
			return nil, fmt.Errorf("ptyport: %s %s: lock file: %w", what, path, err)
		}
		return &nameLock{path: lp, fd: fd}, nil
	}
	return nil, fmt.Errorf("ptyport: %s %s: lock file %s keeps being replaced", what, path, lp)
}

func sameInode(fd int, path string) bool {
	var a, b unix.Stat_t
	return unix.Fstat(fd, &a) == nil && unix.Stat(path, &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino
}

// readOwner reads the pid and pty a lock file's owner wrote (zero values if it has not
// yet, or the file is not ours).
func readOwner(fd int) (pid int, pty string) {
	var buf [256]byte
	n, err := unix.Pread(fd, buf[:], 0)
	if err != nil || n <= 0 {
		return 0, ""
	}
	return parseOwner(buf[:n])
}

// parseOwner reads "<pid>\n<pty>\n", what lockName writes; anything else gives zero
// values (another program's file, or one cut short).
func parseOwner(b []byte) (pid int, pty string) {
	lines := strings.SplitN(string(b), "\n", 3)
	if pid, _ = strconv.Atoi(lines[0]); pid < 0 {
		pid = 0
	}
	if len(lines) > 1 && strings.HasPrefix(lines[1], "/dev/") {
		pty = lines[1]
	}
	return pid, pty
}

// unlockClose drops the flock before closing: a child between fork and exec (os/exec
// anywhere in this process) holds a copy of fd, and a plain close would leave the
// lock held until that child execs.
func unlockClose(fd int) {
	_ = unix.Flock(fd, unix.LOCK_UN)
	_ = unix.Close(fd)
}

// release gives the name up: the file goes first, then the lock.
func (l *nameLock) release() error {
	var err error
	if rmErr := os.Remove(l.path); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
		err = fmt.Errorf("ptyport: remove lock file: %w", rmErr)
	}
	unlockClose(l.fd)
	return err
}

// RemoveStale removes the link or device node at path that a port left behind when
// its process died (a symlink to a pty or a dangling one; a pty device node; a bind
// mount of a pty, unmounted first; an empty mount point), and its lock file. It
// returns (false, nil) when nothing is there, an *InUseError naming the pid when the
// owner is alive, and ErrLinkExists or ErrNodeExists for a file ptyport did not make.
// Unmounting a bind-mounted node needs root.
func RemoveStale(path string) (removed bool, err error) {
	lp := lockPathFor(path)
	_, pathErr := os.Lstat(path)
	_, lockErr := os.Lstat(lp)
	if errors.Is(pathErr, fs.ErrNotExist) && errors.Is(lockErr, fs.ErrNotExist) {
		return false, nil
	}
	what := "device node"
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		what = "link"
	}
	l, err := lockName(path, what, "")
	if err != nil {
		return false, err
	}
	defer func() {
		if relErr := l.release(); relErr != nil && err == nil {
			err = relErr
		}
	}()
	return removeStaleLocked(path)
}

// removeStaleLocked removes what a dead owner left at path; the caller holds its lock.
func removeStaleLocked(path string) (bool, error) {
	var st unix.Stat_t
	err := unix.Lstat(path, &st)
	switch {
	case errors.Is(err, unix.ENOENT):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("ptyport: %s: %w", path, err)
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		if !staleLinkTarget(path) {
			old, _ := os.Readlink(path)
			return false, fmt.Errorf("ptyport: link %s points to %s: %w", path, old, ErrLinkExists)
		}
		if err := os.Remove(path); err != nil {
			return false, fmt.Errorf("ptyport: remove link %s: %w", path, err)
		}
		return true, nil
	default:
		if err := clearStaleNode(path, slog.New(slog.DiscardHandler)); err != nil {
			return false, fmt.Errorf("ptyport: %w", err)
		}
		return true, nil
	}
}

// staleLinkTarget reports whether the symlink at path dangles or points to a pty
// slave: what a port that died leaves.
func staleLinkTarget(path string) bool {
	var st unix.Stat_t
	err := unix.Stat(path, &st)
	return errors.Is(err, unix.ENOENT) || (err == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && isPtySlave(st.Rdev))
}
