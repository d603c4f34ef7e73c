package imageproc

import (
	"context"
	"fmt"
	"io"
)

// Header is what an image file's header declares.
type Header struct {
	// Format is "jpeg", "png", "gif", "webp", "bmp" or "tiff".
	Format string
	// Width and Height are the stored size, before the EXIF orientation (which may swap them).
	Width, Height int
}

// DecodeHeaderFile reads only the header of the image file at path and checks what Decode
// checks before it decodes pixels: a regular file of a known format, a non-empty size of at
// most opts.MaxDecodePixels pixels, and an aspect ratio SmartResize accepts (at most 200).
// It reads a few KiB, so a shell can vet many inputs before it loads a model. A file that
// passes may still fail to decode (corrupt or truncated pixel data).
func DecodeHeaderFile(ctx context.Context, path string, opts Options) (Header, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return Header{}, err
	}
	defer f.Close()
	maxPixels, limit := opts.MaxDecodePixels, opts.MaxFileBytes
	if maxPixels <= 0 {
		maxPixels = DefaultMaxDecodePixels
	}
	if limit <= 0 {
		limit = DefaultMaxFileBytes
	}
	src := newBoundedReader(ctx, io.NewSectionReader(f, 0, size), limit)
	s := newStream(src)
	head, _ := s.br.Peek(12)
	if src.err != nil {
		return Header{}, fmt.Errorf("imageproc: %s: %w", path, src.err)
	}
	if len(head) == 0 {
		return Header{}, fmt.Errorf("imageproc: %s: %w: the file is empty", path, ErrUnsupportedFormat)
	}
	h := Header{Format: sniff(head)}
	decodeConfig := configDecoder(h.Format)
	if decodeConfig == nil {
		return Header{}, fmt.Errorf("imageproc: %s: %w", path, ErrUnsupportedFormat)
	}
	cfg, err := decodeConfig(s.br)
	if err != nil {
		if src.err != nil {
			err = src.err
		}
		return Header{}, fmt.Errorf("imageproc: %s: %s header: %w", path, h.Format, err)
	}
	if err := checkSize(h.Format, cfg, maxPixels); err != nil {
		return Header{}, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	h.Width, h.Height = cfg.Width, cfg.Height
	if r := float64(max(h.Width, h.Height)) / float64(min(h.Width, h.Height)); r > 200 {
		return Header{}, fmt.Errorf("imageproc: %s: image %dx%d (width x height): %w, got %v", path, h.Width, h.Height, ErrAspectRatio, r)
	}
	return h, nil
}
