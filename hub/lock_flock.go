//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package hub

import (
	"errors"
	"os"
	"syscall"
)

// staleLockHint is added to the message of a process waiting for the lock: a flock lock
// cannot outlive its process.
const staleLockHint = ""

// tryLock takes an exclusive advisory lock (flock) on the file at path, creating it if
// needed. busy is true if another process holds it. The lock dies with the process, so a
// crash never leaves a stale lock. (flock is advisory and, on some network file systems,
// not enforced; the final rename-if-absent still keeps a complete folder from being
// overwritten.)
func tryLock(path string) (unlock func(), busy bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, err
	}
	return func() { f.Close() }, false, nil
}
