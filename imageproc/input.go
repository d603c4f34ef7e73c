package imageproc

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
)

// Reading inputs. Every file this package reads (images, frames of a folder, animated GIFs,
// configs) must be a regular file: a FIFO, a device such as /dev/zero, a socket or a folder
// given as a file is refused before anything is read (reading a pipe would block without end or
// never end, and cannot be rewound for a second look at the header). Reads are bounded by
// Options.MaxFileBytes, check their context.Context before every read from the source, and stop
// where the decoder stops: bytes after the end of an image (trailing data) are not read.

// DefaultMaxFileBytes is the default for Options.MaxFileBytes, 1 GiB: the size of an
// uncompressed 16-bit RGB image (6 bytes a pixel, e.g. a TIFF) of DefaultMaxDecodePixels pixels
// (Pillow defines its limit as 1 GiB / 4 / 3 · 2 pixels). Every 8-bit image up to the pixel
// limit fits, even uncompressed with alpha (4 bytes a pixel: 716 MB); the compressed formats
// (JPEG, PNG, WebP) are far smaller.
const DefaultMaxFileBytes = 1 << 30

// maxConfigBytes bounds a JSON config file (the released ones are under 1 KiB).
const maxConfigBytes = 16 << 20

// ErrNotRegular is returned (wrapped) for an input path that is not a regular file: a FIFO, a
// device, a socket or a folder where a file is wanted (internal/fsutil's error).
var ErrNotRegular = fsutil.ErrNotRegular

// openRegular opens path for reading if it is a regular file and returns it with its size,
// checked before and after opening without blocking (fsutil.OpenRegular); errors say
// "imageproc".
func openRegular(path string) (*os.File, int64, error) {
	f, size, err := fsutil.OpenRegular(path)
	if err != nil {
		return nil, 0, fmt.Errorf("imageproc: %w", err)
	}
	return f, size, nil
}

// readConfig reads a JSON config file of at most maxConfigBytes (fsutil.ReadFile: a regular
// file only, bounded); errors say "imageproc".
func readConfig(path string) ([]byte, error) {
	data, err := fsutil.ReadFile(path, maxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("imageproc: %w", err)
	}
	return data, nil
}

// boundedReader reads from r until limit bytes have been read, then fails with an error
// wrapping ErrTooLarge if more are there; it checks ctx before each read and counts the bytes.
// Errors are sticky.
type boundedReader struct {
	ctx   context.Context
	r     io.Reader
	limit int64
	n     int64 // bytes read from r
	eof   bool  // r reported io.EOF
	err   error // the limit or the context's error
}

func newBoundedReader(ctx context.Context, r io.Reader, limit int64) *boundedReader {
	return &boundedReader{ctx: ctx, r: r, limit: limit}
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if err := b.ctx.Err(); err != nil {
		b.err = err
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// One byte past the limit tells a file of exactly limit bytes from a longer one.
	if room := b.limit + 1 - b.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err == io.EOF {
		b.eof = true
	}
	if b.n > b.limit {
		b.err = fmt.Errorf("%w: reading it takes more than the limit of %d bytes (MaxFileBytes)", ErrTooLarge, b.limit)
		return n - int(b.n-b.limit), b.err
	}
	return n, err
}

// sizedReaderAt is random access to an input of known size (*bytes.Reader, *io.SectionReader).
type sizedReaderAt interface {
	io.ReaderAt
	Size() int64
}

// boundedReaderAt gives random access to the first limit bytes of ra, checking ctx before each
// read; a read past the limit fails with an error wrapping ErrTooLarge.
type boundedReaderAt struct {
	ctx   context.Context
	ra    io.ReaderAt
	size  int64
	limit int64
	err   error // the first limit or context error
}

func (b *boundedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := b.ctx.Err(); err != nil {
		b.err = cmp.Or(b.err, err)
		return 0, err
	}
	if end := off + int64(len(p)); b.size > b.limit && end > b.limit {
		err := fmt.Errorf("%w: its data reaches byte %d, past the limit of %d bytes (MaxFileBytes)", ErrTooLarge, end, b.limit)
		b.err = cmp.Or(b.err, err)
		return 0, err
	}
	return b.ra.ReadAt(p, off)
}

// stream is an encoded image being read sequentially from a boundedReader. It records the
// bytes it reads, so that a header can be decoded and then the image from the start again
// (rewind), and so that the metadata parsers (EXIF orientation, GIF palette) see the bytes the
// decoder consumed; the bytes after the decoder's end are neither read nor kept.
type stream struct {
	src    *boundedReader
	rec    []byte
	br     *bufio.Reader
	noKeep bool // after rewind(false): stop recording
}

const streamBuffer = 32 << 10

func newStream(src *boundedReader) *stream {
	s := &stream{src: src}
	s.br = bufio.NewReaderSize((*recording)(s), streamBuffer)
	return s
}

// recording reads from the source and keeps what it read.
type recording stream

func (r *recording) Read(p []byte) (int, error) {
	n, err := r.src.Read(p)
	if !r.noKeep {
		r.rec = append(r.rec, p[:n]...)
	}
	return n, err
}

// rewind makes the stream start again from its first byte; with keep false
// the bytes read from now on are no longer recorded.
func (s *stream) rewind(keep bool) {
	seen := s.rec[:len(s.rec):len(s.rec)]
	s.noKeep = !keep
	s.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(seen), (*recording)(s)), streamBuffer)
}

// consumed returns the bytes read from the source so far.
func (s *stream) consumed() []byte { return s.rec }
