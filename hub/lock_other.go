//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package hub

import (
	"errors"
	"io/fs"
	"os"
)

// staleLockHint is added to the message of a process waiting for the lock: a lock file
// can outlive a process that crashed.
const staleLockHint = "; if no other process is running, remove it"

// tryLock takes an exclusive lock by creating the file at path, which must not exist; busy
// is true if it does. Unlocking removes it. A process that dies while holding the lock
// leaves the file behind: the waiting message names it so it can be removed.
func tryLock(path string) (unlock func(), busy bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, true, nil
		}
		return nil, false, err
	}
	f.Close()
	return func() { os.Remove(path) }, false, nil
}
