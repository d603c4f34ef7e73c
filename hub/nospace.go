//go:build !plan9

package hub

import "syscall"

// errNoSpace is the error a write fails with when the disk is full.
var errNoSpace error = syscall.ENOSPC
