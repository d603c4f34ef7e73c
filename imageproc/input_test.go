package imageproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// countingReader serves data followed by pad zero bytes and counts the bytes and the Read calls
// it served; cancel, when set, is called at the cancelAt-th Read.
type countingReader struct {
	data     []byte
	pad      int64
	off      int64
	n        int64 // bytes served
	reads    int   // Read calls
	cancel   func()
	cancelAt int
	chunk    int // bytes per Read at most (0: no limit)
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	if c.cancel != nil && c.reads == c.cancelAt {
		c.cancel()
	}
	if c.chunk > 0 && len(p) > c.chunk {
		p = p[:c.chunk]
	}
	total := int64(len(c.data)) + c.pad
	if c.off >= total {
		return 0, io.EOF
	}
	k := 0
	if c.off < int64(len(c.data)) {
		k = copy(p, c.data[c.off:])
	}
	for k < len(p) && c.off+int64(k) < total {
		p[k] = 0
		k++
	}
	c.off += int64(k)
	c.n += int64(k)
	return k, nil
}

// countingReaderAt is random access to data followed by pad zero bytes, counting the bytes read.
type countingReaderAt struct {
	data []byte
	pad  int64
	n    int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	total := int64(len(c.data)) + c.pad
	if off >= total {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && off+int64(k) < total {
		if i := off + int64(k); i < int64(len(c.data)) {
			p[k] = c.data[i]
		} else {
			p[k] = 0
		}
		k++
	}
	c.n += int64(k)
	if k < len(p) {
		return k, io.EOF
	}
	return k, nil
}

// readAhead is what Decode may read beyond the decoder's needs (its buffer, internal/jpeg's).
const readAhead = 64 << 10

// TestDecodeTrailingBytes decodes images followed by 256 MiB of trailing zeros: only about the
// image's own bytes are read, and the result is the image's.
func TestDecodeTrailingBytes(t *testing.T) {
	const trailing = 256 << 20
	for _, name := range []string{"tiny_1x1.png", "png_orient6.png", "jpeg_orient6.jpg", "jprog_203x157.jpg", "gif_trns_70x50.gif",
		"bmp_75x50.bmp", "webp_orient6.webp", "webp_lossless_90x60.webp"} {
		data := readInput(t, name)
		want, err := decodeData(data, DefaultOptions())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := &countingReader{data: data, pad: trailing}
		got, err := Decode(context.Background(), r, name, DefaultOptions())
		if err != nil {
			t.Errorf("%s with trailing bytes: %v", name, err)
			continue
		}
		if r.n > int64(len(data))+readAhead {
			t.Errorf("%s (%d bytes) with %d trailing bytes: %d bytes read", name, len(data), trailing, r.n)
		}
		if got.Width != want.Width || got.Height != want.Height || !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%s with trailing bytes decodes differently", name)
		}
	}
	// A TIFF is read by random access: only the parts it refers to.
	for _, name := range []string{"tiff_75x50.tif", "tiff_orient6.tif"} {
		data := readInput(t, name)
		want, err := Decode(context.Background(), &countingReader{data: data}, name, DefaultOptions()) // read whole
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ra := &countingReaderAt{data: data, pad: trailing}
		got, err := Decode(context.Background(), io.NewSectionReader(ra, 0, int64(len(data))+trailing), name, DefaultOptions())
		if err != nil {
			t.Errorf("%s with trailing bytes: %v", name, err)
			continue
		}
		if ra.n > 4*int64(len(data))+readAhead {
			t.Errorf("%s (%d bytes) with %d trailing bytes: %d bytes read", name, len(data), trailing, ra.n)
		}
		if got.Width != want.Width || got.Height != want.Height || !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%s by random access decodes differently from a stream", name)
		}
	}
}

// TestDecodeByteLimit: an input of which more than MaxFileBytes would be read is refused with an
// error naming the input and the limit, after reading at most about the limit.
func TestDecodeByteLimit(t *testing.T) {
	data := readInput(t, "photo_250x190.png")
	n := int64(len(data))
	o := DefaultOptions()
	o.MaxFileBytes = n - 1
	_, err := decodeData(data, o)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "img.bin") || !strings.Contains(err.Error(), fmt.Sprint(n-1)) {
		t.Errorf("limit %d for %d bytes: %v", n-1, n, err)
	}
	o.MaxFileBytes = n
	if _, err := decodeData(data, o); err != nil {
		t.Errorf("limit %d for %d bytes: %v", n, n, err)
	}

	// A PNG whose second chunk (one the decoder skips) claims 2 GiB, followed by endless bytes.
	endless := append(pngWithIHDR(10, 10), 0x7f, 0xff, 0xff, 0xff, 'z', 'z', 'Z', 'z')
	r := &countingReader{data: endless, pad: 256 << 20}
	o.MaxFileBytes = 1 << 20
	if _, err := Decode(context.Background(), r, "endless.png", o); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1048576") {
		t.Errorf("endless PNG: %v", err)
	}
	if r.n > o.MaxFileBytes+1 {
		t.Errorf("endless PNG: %d bytes read with a limit of %d", r.n, o.MaxFileBytes)
	}

	// The same through the file and video entry points, and a TIFF by random access.
	dir := t.TempDir()
	path := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	o.MaxFileBytes = n - 1
	if _, err := PreprocessFile(context.Background(), path, o); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprint(n-1)) {
		t.Errorf("file over the limit: %v", err)
	}
	tiffData := readInput(t, "tiff_75x50.tif")
	o.MaxFileBytes = int64(len(tiffData)) / 2
	if _, err := decodeData(tiffData, o); !errors.Is(err, ErrTooLarge) {
		t.Errorf("TIFF over the limit: %v", err)
	}
	gifPath := filepath.Join(dir, "anim.gif")
	gifData := readInput(t, "gif_trns_70x50.gif")
	if err := os.WriteFile(gifPath, gifData, 0o644); err != nil {
		t.Fatal(err)
	}
	vo := DefaultVideoOptions()
	vo.MaxFileBytes = int64(len(gifData)) - 1
	if _, err := LoadVideo(context.Background(), gifPath, vo); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), gifPath) {
		t.Errorf("GIF video over the limit: %v", err)
	}
}

// TestDecodeCancel: a cancelled ctx stops the reading at the next read.
func TestDecodeCancel(t *testing.T) {
	data := readInput(t, "photo_250x190.png")
	for _, cancelAt := range []int{1, 2, 5} {
		ctx, cancel := context.WithCancel(context.Background())
		r := &countingReader{data: data, chunk: 512, cancel: cancel, cancelAt: cancelAt}
		_, err := Decode(ctx, r, "photo.png", DefaultOptions())
		cancel()
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "photo.png") {
			t.Errorf("cancelled at read %d: %v", cancelAt, err)
		}
		if r.reads != cancelAt {
			t.Errorf("cancelled at read %d: %d reads", cancelAt, r.reads)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(testdataDir, "inputs", "photo_250x190.png")
	if _, err := PreprocessFile(ctx, path, DefaultOptions()); !errors.Is(err, context.Canceled) {
		t.Errorf("PreprocessFile: %v", err)
	}
	if _, err := decodeDataCtx(ctx, readInput(t, "tiff_75x50.tif")); !errors.Is(err, context.Canceled) {
		t.Errorf("TIFF by random access: %v", err)
	}
}

func decodeDataCtx(ctx context.Context, b []byte) (*RGB, error) {
	return Decode(ctx, bytes.NewReader(b), "img.bin", DefaultOptions())
}

// countingSource serves a memorySource and cancels a context when frame cancelAt is asked for.
type countingSource struct {
	memorySource
	asked    int
	cancel   func()
	cancelAt int
}

func (c *countingSource) frame(i int) (*RGB, error) {
	c.asked++
	if c.asked == c.cancelAt {
		c.cancel()
	}
	return c.memorySource.frame(i)
}

// TestVideoCancel: a cancelled ctx stops a video between frames, and every video entry point
// honours it.
func TestVideoCancel(t *testing.T) {
	frames := make([]*RGB, 8)
	for i := range frames {
		frames[i] = NewRGB(64, 48)
	}
	ctx, cancel := context.WithCancel(context.Background())
	src := &countingSource{memorySource: memorySource{frames: frames}, cancel: cancel, cancelAt: 3}
	_, err := preprocessFrames(ctx, src, []int{0, 1, 2, 3, 4, 5, 6, 7}, DefaultVideoOptions())
	cancel()
	if !errors.Is(err, context.Canceled) || src.asked != 3 {
		t.Errorf("cancelled at frame 3: %v after %d frames", err, src.asked)
	}

	dir := t.TempDir()
	png := readInput(t, "tiny_31x17.png")
	for i := range 4 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.png", i)), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gifPath := filepath.Join(t.TempDir(), "a.gif")
	if err := os.WriteFile(gifPath, readInput(t, "gif_trns_70x50.gif"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	vo := DefaultVideoOptions()
	vo.FramesFPS = 2
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"LoadFrames", func() error { _, err := LoadFrames(ctx, dir, 2, vo); return err }},
		{"LoadVideo folder", func() error { _, err := LoadVideo(ctx, dir, vo); return err }},
		{"PreprocessVideoFile folder", func() error { _, err := PreprocessVideoFile(ctx, dir, vo); return err }},
		{"LoadVideo GIF", func() error { _, err := LoadVideo(ctx, gifPath, vo); return err }},
	} {
		if err := c.run(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", c.name, err)
		}
	}
}

// TestDecodeStreamAndRandomAccessAgree: the stream path (any io.Reader) and the random-access
// path (*bytes.Reader) give the same image for every fixture.
func TestDecodeStreamAndRandomAccessAgree(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(testdataDir, "inputs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data := readInput(t, e.Name())
		a, errA := decodeData(data, DefaultOptions())
		b, errB := Decode(context.Background(), &countingReader{data: data, chunk: 1000}, "img.bin", DefaultOptions())
		if (errA == nil) != (errB == nil) || errA == nil && (a.Width != b.Width || a.Height != b.Height || !slices.Equal(a.Pix, b.Pix)) {
			t.Errorf("%s: random access %v, stream %v, or the pixels differ", e.Name(), errA, errB)
		}
	}
}
