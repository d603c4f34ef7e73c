//go:build !(linux || darwin)

package hub

// freeSpace returns -1: the free space is not known on this system, and a full disk is
// reported when a write fails.
func freeSpace(dir string) int64 { return -1 }
