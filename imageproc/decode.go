package imageproc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// ErrTooLarge is returned (wrapped) by Decode when an image's header
// declares more pixels than Options.MaxDecodePixels.
var ErrTooLarge = errors.New("image too large")

// ErrUnsupportedFormat is returned (wrapped) by Decode for data that is not
// a JPEG, PNG, GIF, WebP, BMP or TIFF file.
var ErrUnsupportedFormat = errors.New("unsupported image format (not JPEG, PNG, GIF, WebP, BMP or TIFF)")

// sniff returns the format of an encoded image from its magic bytes.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "gif"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp"
	case bytes.HasPrefix(b, []byte("BM")):
		return "bmp"
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return "tiff"
	}
	return ""
}

// Decode reads an encoded image and returns it as 8-bit RGB, upright, the
// way the reference loads a file path (see the package documentation for
// each format's rules). name is used in error messages only. The format is
// taken from the content, not the name. The header is read first, and an
// image larger than opts.MaxDecodePixels, or with an empty side, is refused
// before its pixels are allocated.
//
// Reading stops where the decoder stops (a few KiB of read-ahead aside):
// bytes after the end of the image are not read. More than
// opts.MaxFileBytes bytes are refused with an error wrapping ErrTooLarge,
// and ctx is checked before every read from r (a Read that blocks is the
// caller's to interrupt). A WebP file is read whole (up to its RIFF size:
// its EXIF chunk follows the pixels); a TIFF file, whose parts may lie at
// any offset, is read by random access when r is a *bytes.Reader or an
// *io.SectionReader at its start (as DecodeFile gives it), else whole.
func Decode(ctx context.Context, r io.Reader, name string, opts Options) (*RGB, error) {
	var ra sizedReaderAt
	if x, ok := r.(sizedReaderAt); ok {
		if sk, ok := r.(io.Seeker); ok {
			if pos, err := sk.Seek(0, io.SeekCurrent); err == nil && pos == 0 {
				ra = x
			}
		}
	}
	img, err := decode(ctx, r, ra, opts)
	if err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", name, err)
	}
	return img, nil
}

// DecodeFile decodes the image file at path as Decode does. path must name
// a regular file: a FIFO, a device or a socket is refused (ErrNotRegular)
// without being read.
func DecodeFile(ctx context.Context, path string, opts Options) (*RGB, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(ctx, io.NewSectionReader(f, 0, size), path, opts)
}

func decode(ctx context.Context, r io.Reader, ra sizedReaderAt, opts Options) (*RGB, error) {
	maxPixels, limit := opts.MaxDecodePixels, opts.MaxFileBytes
	if maxPixels <= 0 {
		maxPixels = DefaultMaxDecodePixels
	}
	if limit <= 0 {
		limit = DefaultMaxFileBytes
	}
	src := newBoundedReader(ctx, r, limit)
	s := newStream(src)
	head, _ := s.br.Peek(12)
	if src.err != nil {
		return nil, src.err
	}
	if len(head) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrUnsupportedFormat)
	}
	format := sniff(head)
	decodeConfig := configDecoder(format)
	if decodeConfig == nil {
		return nil, ErrUnsupportedFormat
	}
	// in is the input from its first byte; again rewinds it; data returns the bytes the
	// metadata parsers look at; ended reports that the input ended (for the error wording).
	var (
		in          io.Reader = s.br
		again                 = func() { s.rewind(true); in = s.br }
		data                  = s.consumed
		ended                 = func() bool { return src.eof }
		orientation           = func() int { return fileOrientation(format, data()) }
		rat         *boundedReaderAt
	)
	switch {
	case format == "tiff" && ra != nil:
		rat = &boundedReaderAt{ctx: ctx, ra: ra, size: ra.Size(), limit: limit}
		in = io.NewSectionReader(rat, 0, rat.size)
		again = func() { in = io.NewSectionReader(rat, 0, rat.size) }
		ended = func() bool { return false }
		orientation = func() int { return tiffOrientationAt(rat) }
	case format == "tiff" || format == "webp":
		var all io.Reader = s.br
		want := int64(-1)
		if format == "webp" {
			want = 8 + int64(binary.LittleEndian.Uint32(head[4:]))
			all = io.LimitReader(s.br, want)
		}
		b, err := io.ReadAll(all)
		if src.err != nil {
			return nil, src.err
		}
		if err != nil {
			return nil, err
		}
		in = bytes.NewReader(b)
		again = func() { in = bytes.NewReader(b) }
		data = func() []byte { return b }
		ended = func() bool { return src.eof && (want < 0 || int64(len(b)) < want) }
	}
	// fail prefers the reason reading stopped (the byte limit, a cancelled ctx) to the
	// decoder's account of it.
	fail := func(err error) error {
		if src.err != nil {
			return src.err
		}
		if rat != nil && rat.err != nil {
			return rat.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	cfg, err := decodeConfig(in)
	if err != nil {
		return nil, fail(fmt.Errorf("%s header: %w", format, err))
	}
	if err := checkSize(format, cfg, maxPixels); err != nil {
		return nil, err
	}
	again()
	img, err := decodeImage(format, in, data)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || ended() && truncated(format, data()) {
			return nil, fail(fmt.Errorf("truncated %s data (the file ends early): %w", format, err))
		}
		return nil, fail(fmt.Errorf("corrupt %s data: %w", format, err))
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("%s image has an empty size %dx%d", format, b.Dx(), b.Dy())
	}
	rgb := toRGB(img)
	return orient(rgb, orientation()), nil
}

// configDecoder returns the header reader of a format sniff names, nil for none.
func configDecoder(format string) func(io.Reader) (image.Config, error) {
	switch format {
	case "jpeg":
		return decodeJPEGConfig
	case "png":
		return png.DecodeConfig
	case "gif":
		return gif.DecodeConfig
	case "webp":
		return webp.DecodeConfig
	case "bmp":
		return bmp.DecodeConfig
	case "tiff":
		return tiff.DecodeConfig
	}
	return nil
}

// checkSize refuses a header's empty size or one over maxPixels.
func checkSize(format string, cfg image.Config, maxPixels int64) error {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("%s image has an empty size %dx%d", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return fmt.Errorf("%w: %s image is %dx%d = %d pixels, over the limit of %d", ErrTooLarge, format, cfg.Width, cfg.Height, px, maxPixels)
	}
	return nil
}

// decodeImage runs the format's decoder on r, positioned at the file's
// first byte; consumed returns the bytes read so far (GIF reads its global
// palette from them). A panic inside a third-party decoder on hostile input
// becomes an error.
func decodeImage(format string, r io.Reader, consumed func() []byte) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("decoder failed: %v", r)
		}
	}()
	switch format {
	case "jpeg":
		img, err = decodeJPEG(r)
	case "png":
		img, err = png.Decode(r)
	case "gif":
		img, err = decodeGIF(r, consumed)
	case "webp":
		img, err = webp.Decode(r)
		if m, ok := img.(*image.YCbCr); ok && err == nil {
			img = ycbcrToRGBLibwebp(m)
		} else if m, ok := img.(*image.NYCbCrA); ok && err == nil {
			img = ycbcrToRGBLibwebp(&m.YCbCr) // alpha is dropped
		}
	case "bmp":
		img, err = bmp.Decode(r)
	case "tiff":
		img, err = tiff.Decode(r)
	}
	return img, err
}

// truncated reports whether an encoded file visibly ends early: no PNG
// IEND chunk, no JPEG EOI marker, no GIF trailer, or a RIFF / BMP size
// field larger than the data. Used only to word an error.
func truncated(format string, b []byte) bool {
	switch format {
	case "png":
		return !bytes.Contains(b, []byte("IEND"))
	case "jpeg":
		return !bytes.HasSuffix(bytes.TrimRight(b, "\x00"), []byte{0xff, 0xd9})
	case "gif":
		return len(b) == 0 || b[len(b)-1] != 0x3b
	case "webp":
		return len(b) < 8 || uint64(binary.LittleEndian.Uint32(b[4:]))+8 > uint64(len(b))
	case "bmp":
		return len(b) >= 6 && uint64(binary.LittleEndian.Uint32(b[2:])) > uint64(len(b))
	}
	return false
}

// toRGB converts a decoded image to 8-bit RGB as the reference's file
// loaders do: alpha (including PNG tRNS and GIF transparency) is dropped,
// keeping the stored colour; gray is replicated; 16-bit samples keep their
// high byte.
func toRGB(img image.Image) *RGB {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if m, ok := img.(*RGB); ok {
		return m
	}
	out := NewRGB(w, h)
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := out.Pix[3*y*w:]
			for x := range w {
				d[3*x], d[3*x+1], d[3*x+2] = s[x], s[x], s[x]
			}
		}
	case *image.Gray16:
		for y := range h {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := out.Pix[3*y*w:]
			for x := range w {
				v := s[2*x]
				d[3*x], d[3*x+1], d[3*x+2] = v, v, v
			}
		}
	case *image.NRGBA:
		copy4to3(out, m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), 4)
	case *image.RGBA:
		if isOpaque(m) {
			copy4to3(out, m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), 4)
		} else {
			generic(out, img)
		}
	case *image.NRGBA64:
		copy4to3(out, m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), 8)
	case *image.RGBA64:
		if isOpaque(m) {
			copy4to3(out, m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), 8)
		} else {
			generic(out, img)
		}
	case *image.Paletted:
		var pal [256][3]uint8
		for i, c := range m.Palette {
			if i >= 256 {
				break
			}
			pal[i] = paletteRGB(c)
		}
		for y := range h {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := out.Pix[3*y*w:]
			for x := range w {
				p := pal[s[x]]
				d[3*x], d[3*x+1], d[3*x+2] = p[0], p[1], p[2]
			}
		}
	default:
		generic(out, img)
	}
	return out
}

// copy4to3 copies the first three samples of every pixel; with 8 bytes per
// pixel (16-bit big-endian samples) it keeps each sample's high byte.
func copy4to3(out *RGB, pix []uint8, stride, off, bpp int) {
	w, h := out.Width, out.Height
	step := bpp / 4
	for y := range h {
		s := pix[off+y*stride:]
		d := out.Pix[3*y*w:]
		for x := range w {
			d[3*x] = s[bpp*x]
			d[3*x+1] = s[bpp*x+step]
			d[3*x+2] = s[bpp*x+2*step]
		}
	}
}

func isOpaque(m interface{ Opaque() bool }) bool { return m.Opaque() }

// paletteRGB returns a palette entry's stored (non-premultiplied) colour.
func paletteRGB(c color.Color) [3]uint8 {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]uint8{c.R, c.G, c.B}
	case color.RGBA:
		if c.A == 0xff || c.A == 0 {
			return [3]uint8{c.R, c.G, c.B}
		}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [3]uint8{n.R, n.G, n.B}
}

// generic converts through color.NRGBA64 (un-premultiplying) and keeps
// the high byte.
func generic(out *RGB, img image.Image) {
	b := img.Bounds()
	for y := range out.Height {
		d := out.Pix[3*y*out.Width:]
		for x := range out.Width {
			c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			d[3*x], d[3*x+1], d[3*x+2] = uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8)
		}
	}
}
