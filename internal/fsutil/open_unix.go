//go:build unix

package fsutil

import "syscall"

// openFlags makes opening a FIFO return at once instead of waiting for a writer (OpenRegular
// then refuses it); it does nothing to a regular file.
const openFlags = syscall.O_NONBLOCK
