package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrTooLarge is wrapped by [ReadFile] for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// ErrNotRegular is wrapped by [OpenRegular] and [ReadFile] for a path that is not a regular
// file: a FIFO, a device, a socket or a folder where a file is wanted.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading if it is a regular file and returns it with its size. The
// check is made before opening (opening a FIFO would wait for a writer) and again on the opened
// file (the path may have been replaced in between; on Unix the open does not block then,
// being non-blocking, see openFlags). os.Stat's and os.OpenFile's errors are returned as they
// are, so errors.Is(err, fs.ErrNotExist) works; a file that is not regular is refused with an
// *fs.PathError too (op "open"), wrapping ErrNotRegular.
func OpenRegular(path string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, notRegular(path, st.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, 0, err
	}
	st, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, notRegular(path, st.Mode())
	}
	return f, st.Size(), nil
}

func notRegular(path string, m os.FileMode) error {
	kind := "special file"
	switch {
	case m.IsDir():
		kind = "folder"
	case m&os.ModeNamedPipe != 0:
		kind = "FIFO"
	case m&os.ModeSocket != 0:
		kind = "socket"
	case m&os.ModeCharDevice != 0:
		kind = "character device"
	case m&os.ModeDevice != 0:
		kind = "device"
	}
	return &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (it is a %s); give a regular file", ErrNotRegular, kind)}
}

// ReadFile reads a regular file of at most limit bytes: the one bounded read of the small
// files a checkpoint carries (tokenizer.json, chat templates, configs). A folder, device or
// pipe is refused before it is opened or read (opening or reading one could block or never
// end; see OpenRegular), and a file over the limit is refused by its size before it is read
// and again while reading (it may grow). Errors name the path; os.Open's error is returned as
// it is, so errors.Is(err, fs.ErrNotExist) works.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, size, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > limit {
		return nil, fmt.Errorf("%s: %d bytes: %w (limit %d bytes)", path, size, ErrTooLarge, limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w (limit %d bytes)", path, ErrTooLarge, limit)
	}
	return data, nil
}
