package fsutil

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listDir returns the names in dir, sorted (nil if empty).
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

var errWriter = errors.New("the writer failed")

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := WriteFile(path, func(w io.Writer) error {
		_, err := w.Write([]byte("first"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "second, longer")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "second, longer" {
		t.Errorf("contents %q", got)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"out.bin"}) {
		t.Errorf("folder holds %q", got)
	}
}

// TestWriteFileFailures: every failure leaves no temporary file and the destination as it
// was, and the error names the destination once and the temporary file never.
func TestWriteFileFailures(t *testing.T) {
	old := []byte("previous contents")
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, dir string) string // returns the destination
		write   func(w io.Writer) error
		is      error    // the error must match this
		msg     []string // and contain these
		entries []string // the folder afterwards
		keep    []byte   // the destination afterwards (nil: absent or a folder)
	}{
		{
			name:  "writer fails, no destination",
			setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "out") },
			write: func(w io.Writer) error { w.Write(make([]byte, 3<<20)); return errWriter },
			is:    errWriter, msg: []string{"write ", "the writer failed"},
		},
		{
			name: "writer fails, destination kept",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "out")
				os.WriteFile(p, old, 0o644)
				return p
			},
			write: func(w io.Writer) error { w.Write([]byte("partial")); return errWriter },
			is:    errWriter, entries: []string{"out"}, keep: old,
		},
		{
			name: "destination is a folder",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "out")
				os.MkdirAll(filepath.Join(p, "inside"), 0o755)
				return p
			},
			write:   func(w io.Writer) error { t.Error("written to a folder destination"); return nil },
			msg:     []string{"is a folder"},
			entries: []string{"out"},
		},
		{
			name:  "folder does not exist",
			setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "nope", "out") },
			write: func(w io.Writer) error { t.Error("written without a folder"); return nil },
			is:    fs.ErrNotExist, msg: []string{"create temporary file for"},
		},
		{
			name: "writer returns the error of a write",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "out")
				os.WriteFile(p, old, 0o644)
				return p
			},
			write: func(w io.Writer) error {
				// Close the temporary file underneath, so that writing to it fails.
				w.(*File).tmp.Close()
				_, err := w.Write(make([]byte, 2*bufferSize))
				return err
			},
			is: os.ErrClosed, entries: []string{"out"}, keep: old,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tc.setup(t, dir)
			err := WriteFile(path, tc.write)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not match %v", err, tc.is)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != path {
				t.Errorf("error %#v is not an *fs.PathError on %s", err, path)
			}
			if n := strings.Count(err.Error(), path); n != 1 {
				t.Errorf("error %q names the destination %d times", err, n)
			}
			if strings.Contains(err.Error(), ".tmp-") {
				t.Errorf("error %q names the temporary file", err)
			}
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
			if got := listDir(t, dir); !slices.Equal(got, tc.entries) {
				t.Errorf("folder holds %q, want %q", got, tc.entries)
			}
			if tc.keep != nil {
				if got, _ := os.ReadFile(path); !bytes.Equal(got, tc.keep) {
					t.Errorf("destination holds %q, want %q", got, tc.keep)
				}
			}
		})
	}
}

// TestFileAbort: Abort removes the temporary file and leaves the destination; Abort after
// Commit keeps the committed file; Write and Commit after the end fail.
func TestFileAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("never"))
	f.Abort()
	f.Abort()
	if got := listDir(t, dir); got != nil {
		t.Fatalf("after Abort the folder holds %q", got)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Abort: %v", err)
	}
	if err := f.Commit(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Commit after Abort: %v", err)
	}

	f, err = Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("kept"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if got, _ := os.ReadFile(path); string(got) != "kept" {
		t.Errorf("after Commit and Abort: %q", got)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"out"}) {
		t.Errorf("folder holds %q", got)
	}
}

// TestWriteFileReplacesSymlink: a symbolic link at the destination is replaced, and its
// target left alone.
func TestWriteFileReplacesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("target"), 0o644)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if err := WriteFile(link, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "target" {
		t.Errorf("the link's target was written: %q", got)
	}
	if fi, _ := os.Lstat(link); !fi.Mode().IsRegular() {
		t.Errorf("the link is still %v", fi.Mode())
	}
}
