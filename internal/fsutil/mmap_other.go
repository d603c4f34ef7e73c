//go:build !unix

package fsutil

import (
	"fmt"
	"os"
)

// MapFile reads the first size bytes of f into memory; on this system the file
// is not memory-mapped. release drops the buffer.
func MapFile(f *os.File, size int) (data []byte, release func() error, err error) {
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	return b, func() error { return nil }, nil
}
