package fsutil

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge is wrapped by [ReadFile] for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads a regular file of at most limit bytes: the one bounded read of the small
// files a checkpoint carries (tokenizer.json, chat templates, configs). A folder, device or
// pipe is refused (reading one could block or never end), and a file over the limit is
// refused by its size before it is read and again while reading (it may grow). Errors name
// the path; os.Open's error is returned as it is, so errors.Is(err, fs.ErrNotExist) works.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes: %w (limit %d bytes)", path, st.Size(), ErrTooLarge, limit)
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
