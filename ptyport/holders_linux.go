package ptyport

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// kcmpFile is KCMP_FILE [S kcmp(2)]: compare the open file descriptions behind two
// descriptors of two processes.
const kcmpFile = 0

// scanHolders counts, for each tty device number in ours, the descriptors open on it
// in all processes, leaving out the port's own slave descriptor (ours maps the device
// number to that descriptor): in this process, and its copies in a child between
// fork and exec (os/exec anywhere in the process makes those). ok is false when
// /proc cannot be read.
func scanHolders(ours map[uint64]int) (holders map[uint64]int, ok bool) {
	procDir, err := os.Open("/proc")
	if err != nil {
		return nil, false
	}
	names, err := procDir.Readdirnames(-1)
	_ = procDir.Close()
	if err != nil {
		return nil, false
	}
	self := os.Getpid()
	holders = make(map[uint64]int, len(ours))
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		dir := "/proc/" + name + "/fd/"
		fdDir, err := os.Open(dir)
		if err != nil {
			// Exited, or another user's process we may not inspect. [I] A client of
			// a simulated port runs as the simulator's user (or the simulator runs
			// as root), so such processes are taken not to hold the port.
			continue
		}
		fds, _ := fdDir.Readdirnames(-1)
		_ = fdDir.Close()
		for _, fdName := range fds {
			fd, err := strconv.Atoi(fdName)
			if err != nil {
				continue
			}
			var st unix.Stat_t
			// Our own descriptors (two per port) are most of them: fstat skips
			// the path walk through /proc.
			if pid == self {
				err = unix.Fstat(fd, &st)
			} else {
				err = unix.Stat(dir+fdName, &st)
			}
			if err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
				continue
			}
			slaveFd, watched := ours[st.Rdev]
			if !watched {
				continue
			}
			if pid == self && fd == slaveFd {
				continue
			}
			if pid != self && sameFile(self, slaveFd, pid, fd) {
				continue
			}
			holders[st.Rdev]++
		}
	}
	return holders, true
}

// sameFile reports whether fd1 of pid1 and fd2 of pid2 are one open file description.
// When kcmp is not available (kernel without CONFIG_KCMP, or not permitted) it says
// no, so the descriptor counts as a client.
func sameFile(pid1, fd1, pid2, fd2 int) bool {
	r, _, errno := unix.Syscall6(unix.SYS_KCMP, uintptr(pid1), uintptr(pid2), kcmpFile, uintptr(fd1), uintptr(fd2), 0)
	return errno == 0 && r == 0
}
