//go:build !unix

package safetensors

import (
	"fmt"
	"os"
)

// mapFile reads the first size bytes of f into memory; on this system the
// data section is not memory-mapped. release drops the buffer.
func mapFile(f *os.File, size int) (data []byte, release func() error, err error) {
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	return b, func() error { return nil }, nil
}
