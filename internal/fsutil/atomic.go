// Package fsutil writes files atomically, with one durability policy for the whole module.
//
// The policy, for WriteFile and File:
//
//   - The data goes to a new temporary file in the destination's folder, named
//     ".<base>.tmp-<random>", created with mode 0644 minus the umask (as os.WriteFile
//     creates files).
//   - On success the temporary file is flushed, synced to stable storage (fsync), closed and
//     renamed over the destination, and then the folder is synced, so that after a crash
//     the destination holds either its previous contents or the complete new ones, never
//     a mix or a truncated file. (Syncing a folder is not supported everywhere; where it
//     fails, the rename is as durable as the system makes it.)
//   - On any failure, including the caller's, the temporary file is removed and the
//     destination is left untouched: absent, or with its previous contents.
//   - A destination that is a folder is refused before anything is written. A symbolic
//     link at the destination is replaced by the file, not followed.
//
// Errors are *fs.PathError values naming the destination (never the temporary file) and
// the step that failed: "write /out/x.safetensors: no space left on device".
package fsutil

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// bufferSize is the size of File's write buffer.
const bufferSize = 1 << 20

// WriteFile writes path atomically with the data write writes to w (buffered), following
// the package's policy. An error returned by write is returned wrapped in an *fs.PathError
// with Op "write" (errors.Is and errors.As see through it).
func WriteFile(path string, write func(w io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return f.fail("write", err)
	}
	return f.Commit()
}

// File is a file being written atomically: Create it, Write to it, then Commit (to put it
// in place) or Abort (to throw it away). Abort after Commit does nothing, so
//
//	f, err := fsutil.Create(path)
//	if err != nil { ... }
//	defer f.Abort()
//	... f.Write ...
//	return f.Commit()
//
// is the usual shape. A File is not safe for concurrent use.
type File struct {
	path string // the destination
	tmp  *os.File
	w    *bufio.Writer
	done bool // committed or aborted
}

// Create starts writing path atomically: it creates the temporary file next to path. It
// fails if path is an existing folder or its folder does not exist.
func Create(path string) (*File, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, &fs.PathError{Op: "write", Path: path, Err: errors.New("is a folder")}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	for range 10000 {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(uint64(rand.Uint32()), 36))
		tmp, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, &fs.PathError{Op: "create temporary file for", Path: path, Err: err}
		}
		return &File{path: path, tmp: tmp, w: bufio.NewWriterSize(tmp, bufferSize)}, nil
	}
	return nil, &fs.PathError{Op: "create temporary file for", Path: path, Err: errors.New("too many attempts")}
}

// Write writes b to the temporary file (buffered).
func (f *File) Write(b []byte) (int, error) {
	if f.done {
		return 0, f.fail("write", os.ErrClosed)
	}
	n, err := f.w.Write(b)
	if err != nil {
		return n, f.fail("write", err)
	}
	return n, nil
}

// Commit puts the written data in place: flush, fsync, close, rename over the destination,
// fsync of the folder. On failure the temporary file is removed and the destination is
// untouched. Commit after Commit or Abort fails.
func (f *File) Commit() error {
	if f.done {
		return f.fail("commit", os.ErrClosed)
	}
	f.done = true
	err := f.commit()
	if err != nil {
		f.tmp.Close() // may already be closed; the error is irrelevant then
		os.Remove(f.tmp.Name())
	}
	return err
}

func (f *File) commit() error {
	if err := f.w.Flush(); err != nil {
		return f.fail("write", err)
	}
	if err := f.tmp.Sync(); err != nil {
		return f.fail("sync", err)
	}
	if err := f.tmp.Close(); err != nil {
		return f.fail("close", err)
	}
	if err := os.Rename(f.tmp.Name(), f.path); err != nil {
		return f.fail("rename into place", err)
	}
	SyncDir(filepath.Dir(f.path))
	return nil
}

// Abort throws the written data away: the temporary file is closed and removed, the
// destination untouched. It does nothing after Commit or Abort.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// fail wraps err as an *fs.PathError on the destination. An error already naming the
// destination is returned as is; an *fs.PathError naming the temporary file, or the
// *os.LinkError of the rename, is unwrapped first, so that the message names the
// destination once and the temporary file never.
func (f *File) fail(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && err == error(pe) {
		switch pe.Path {
		case f.path:
			return err
		case f.tmp.Name():
			err = pe.Err
		}
	}
	var le *os.LinkError
	if errors.As(err, &le) && err == error(le) && le.Old == f.tmp.Name() {
		err = le.Err
	}
	return &fs.PathError{Op: op, Path: f.path, Err: err}
}

// SyncDir makes the creations, removals and renames in dir durable, where the system
// supports syncing a folder; failures are ignored, because the files themselves are
// complete and synced (the package's policy). Use it after renaming something into dir
// by other means than WriteFile or File.
func SyncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
