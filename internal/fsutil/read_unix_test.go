//go:build unix

package fsutil

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO without a writer: opening it for reading the usual way waits for a writer forever.
// ReadFile must refuse it at once, naming it.
func TestReadFileFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile(fifo, 1<<20); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "tokenizer.json") || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("ReadFile(FIFO): %v, want ErrNotRegular naming the file and saying FIFO", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadFile(FIFO) still blocked after 10 s")
	}
	if _, _, err := OpenRegular("/dev/null"); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "character device") {
		t.Errorf("OpenRegular(/dev/null): %v", err)
	}
}
