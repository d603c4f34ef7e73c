//go:build unix

package imageproc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSpecialFilesRefused: a device that never ends (/dev/zero) and a FIFO nobody writes to are
// refused by every file entry point, naming the file, without reading them.
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.png")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// Release anything blocked opening or reading the FIFO when the test ends (a writer that
	// closes at once), so that a failing test does not hang the process.
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_RDWR, 0); err == nil {
			f.Close()
		}
	})
	frames := filepath.Join(dir, "frames")
	if err := os.Mkdir(frames, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(frames, "f0.png"), readInput(t, "tiny_31x17.png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(frames, "f1.png"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(filepath.Join(frames, "f1.png"), os.O_RDWR, 0); err == nil {
			f.Close()
		}
	})
	ctx := context.Background()
	vo := DefaultVideoOptions()
	vo.DoSampleFrames = false
	for _, c := range []struct {
		name, path string
		run        func(path string) error
	}{
		{"PreprocessFile", "/dev/zero", func(p string) error { _, err := PreprocessFile(ctx, p, DefaultOptions()); return err }},
		{"PreprocessFile", fifo, func(p string) error { _, err := PreprocessFile(ctx, p, DefaultOptions()); return err }},
		{"DecodeFile", fifo, func(p string) error { _, err := DecodeFile(ctx, p, DefaultOptions()); return err }},
		{"LoadVideo", "/dev/zero", func(p string) error { _, err := LoadVideo(ctx, p, vo); return err }},
		{"PreprocessVideoFile", fifo, func(p string) error { _, err := PreprocessVideoFile(ctx, p, vo); return err }},
		{"LoadFrames", filepath.Join(frames, "f1.png"), func(string) error { _, err := LoadFrames(ctx, frames, 2, vo); return err }},
		{"ReadPreprocessorConfig", fifo, func(p string) error { _, err := ReadPreprocessorConfig(p); return err }},
		{"ReadVideoPreprocessorConfig", "/dev/zero", func(p string) error { _, err := ReadVideoPreprocessorConfig(p); return err }},
	} {
		if c.path == "/dev/zero" {
			if st, err := os.Stat(c.path); err != nil || st.Mode()&os.ModeCharDevice == 0 {
				continue
			}
		}
		done := make(chan error, 1)
		go func() { done <- c.run(c.path) }()
		var err error
		select {
		case err = <-done:
		case <-time.After(time.Minute): // a guard against a hang, not a measurement
			t.Fatalf("%s(%s) did not return", c.name, c.path)
		}
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s(%s): %v, want an error naming the file and saying %q", c.name, c.path, err, ErrNotRegular)
		}
	}
}
