//go:build unix && !linux

package kernels

// adviseHugePages does nothing on this OS (see offheap_linux.go).
func adviseHugePages([]byte) {}
