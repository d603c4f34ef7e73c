//go:build unix

package safetensors

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
)

// A FIFO named like a checkpoint's files, with no writer: a plain open for reading would wait
// for a writer forever. Open, ReadIndex and OpenDir must refuse it at once.
func TestFIFORefused(t *testing.T) {
	single, indexed := t.TempDir(), t.TempDir()
	for _, path := range []string{filepath.Join(single, SingleFileName), filepath.Join(indexed, IndexFileName)} {
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	openDir := func(dir string) error {
		s, err := OpenDir(dir, nil)
		if s != nil {
			s.Close()
		}
		return err
	}
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"Open", func() error { _, err := Open(filepath.Join(single, SingleFileName)); return err }},
		{"OpenDir, single file", func() error { return openDir(single) }},
		{"OpenDir, index", func() error { return openDir(indexed) }},
	} {
		done := make(chan error, 1)
		go func() { done <- c.call() }()
		select {
		case err := <-done:
			if !errors.Is(err, fsutil.ErrNotRegular) || !strings.Contains(err.Error(), "FIFO") {
				t.Errorf("%s: %v, want an error wrapping fsutil.ErrNotRegular saying FIFO", c.name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s on a FIFO still blocked after 10 s", c.name)
		}
	}
}
