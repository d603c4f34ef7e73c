//go:build unix

package fsutil

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFileMode: the file is created as os.WriteFile creates it, 0644 minus the umask.
func TestWriteFileMode(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	for _, name := range []string{"atomic", "plain"} {
		path := filepath.Join(dir, name)
		var err error
		if name == "plain" {
			err = os.WriteFile(path, []byte("x"), 0o644)
		} else {
			err = WriteFile(path, func(w io.Writer) error { _, err := w.Write([]byte("x")); return err })
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.Stat(filepath.Join(dir, "atomic"))
	p, _ := os.Stat(filepath.Join(dir, "plain"))
	if a.Mode() != p.Mode() || a.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, os.WriteFile's %v, want 0640 under umask 027", a.Mode(), p.Mode())
	}
}
