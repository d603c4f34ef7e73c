//go:build unix

package fsutil

import (
	"fmt"
	"os"
	"syscall"
)

// MapFile maps the first size bytes of f read-only: the one mapping of checkpoint files
// (safetensors, GGUF). The returned release function unmaps them; the mapping stays valid
// after f is closed.
func MapFile(f *os.File, size int) (data []byte, release func() error, err error) {
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap: %w", err)
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
