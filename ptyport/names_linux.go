package ptyport

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

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

// replaceLink points path at target, replacing a stale symlink atomically.
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
		var st unix.Stat_t
		err := unix.Stat(path, &st)
		stale := errors.Is(err, unix.ENOENT) ||
			(err == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && isPtySlave(st.Rdev))
		if !stale {
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
// node, or a bind mount of a pty that is still mounted there, or an empty file.
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
