package hub

import "errors"

// errNoSpace stands for a full disk; Plan 9 has no ENOSPC, so a full disk is reported as
// the write error it is.
var errNoSpace = errors.New("no space left on device")
