package imageproc

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io"
)

// GIF timing and composition follow FFmpeg (5.1), which the reference's
// video decoder (torchcodec) uses:
//
//   - libavformat/gifdec.c: a delay below 2 hundredths of a second (0 and
//     1 included, or no Graphic Control Extension) counts as 10;
//   - libavcodec/gifdec.c: the canvas (the logical screen) starts as the
//     background colour (global palette[background index]) when the first
//     frame has no transparent colour and the file has a global palette,
//     else as transparent white; transparent pixels leave the canvas
//     alone; after a frame with disposal 2 its rectangle is filled with
//     transparent white if that frame had a transparent colour, else with
//     the background colour (black without a global palette); after a
//     frame with disposal 3 its rectangle is restored. The RGBA canvas is
//     turned into RGB by dropping alpha, so "transparent white" is white.
const (
	gifMinDelay     = 2
	gifDefaultDelay = 10
)

type gifSource struct {
	name   string
	g      *gif.GIF
	w, h   int
	canvas []uint8 // RGB, w×h
	saved  []uint8 // the region saved for disposal 3
	bg     [3]uint8
	hasBG  bool
	next   int // index of the next frame to compose
	// disposal pending from the last composed frame
	pendDisposal int
	pendRect     image.Rectangle
	pendColor    [3]uint8
	cur          *RGB
	curIdx       int
	total        int
	durationCS   int
}

// openGIF decodes the animated GIF at path, a regular file, as Decode reads
// a file: bounded by MaxFileBytes, up to the GIF's trailer, cancelled by ctx.
func openGIF(ctx context.Context, path string, opts VideoOptions) (*gifSource, error) {
	f, _, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return openGIFReader(ctx, f, path, opts)
}

func openGIFData(data []byte, path string, opts VideoOptions) (*gifSource, error) {
	return openGIFReader(context.Background(), bytes.NewReader(data), path, opts)
}

func openGIFReader(ctx context.Context, r io.Reader, path string, opts VideoOptions) (*gifSource, error) {
	limit := opts.MaxFileBytes
	if limit <= 0 {
		limit = DefaultMaxFileBytes
	}
	in := newBoundedReader(ctx, r, limit)
	st := newStream(in)
	fail := func(err error) error {
		if in.err != nil {
			err = in.err
		}
		return fmt.Errorf("imageproc: %s: %w", path, err)
	}
	cfg, err := gif.DecodeConfig(st.br)
	if err != nil {
		return nil, fail(fmt.Errorf("GIF header: %w", err))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("imageproc: %s: GIF has an empty size %dx%d", path, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > opts.MaxDecodePixels {
		return nil, fmt.Errorf("imageproc: %s: %w: GIF is %dx%d = %d pixels, over the limit of %d", path, ErrTooLarge, cfg.Width, cfg.Height, px, opts.MaxDecodePixels)
	}
	st.rewind(false)
	g, err := gif.DecodeAll(st.br)
	if err != nil {
		return nil, fail(fmt.Errorf("corrupt GIF: %w", err))
	}
	if len(g.Image) == 0 {
		return nil, fmt.Errorf("imageproc: %s: %w", path, ErrNoFrames)
	}
	s := &gifSource{name: path, g: g, w: g.Config.Width, h: g.Config.Height, curIdx: -1, total: len(g.Image)}
	if global, ok := g.Config.ColorModel.(color.Palette); ok && len(global) > 0 {
		s.hasBG = true
		if int(g.BackgroundIndex) < len(global) {
			s.bg = rgbOf(global[g.BackgroundIndex])
		}
	}
	for i := range g.Image {
		s.durationCS += gifDelay(g, i)
	}
	return s, nil
}

// gifDelay is frame i's display time in hundredths of a second.
func gifDelay(g *gif.GIF, i int) int {
	d := 0
	if i < len(g.Delay) {
		d = g.Delay[i]
	}
	if d < gifMinDelay {
		d = gifDefaultDelay
	}
	return d
}

func rgbOf(c color.Color) [3]uint8 {
	r, g, b, _ := c.RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

// transparentIndex returns the palette index image/gif blanked (alpha 0)
// for the frame's transparent colour, or -1.
func transparentIndex(m *image.Paletted) int {
	for i, c := range m.Palette {
		if _, _, _, a := c.RGBA(); a == 0 {
			return i
		}
	}
	return -1
}

func (s *gifSource) info() sourceInfo {
	// As torchcodec's exact mode: frames / (end of the last frame − start).
	return sourceInfo{
		total:    s.total,
		fps:      float64(s.total) / (float64(s.durationCS) / 100),
		duration: float64(s.durationCS) / 100,
	}
}

func (s *gifSource) prepare([]int) error { return nil }

func (s *gifSource) close() error {
	s.g, s.canvas, s.saved = nil, nil, nil
	return nil
}

func (s *gifSource) frame(i int) (*RGB, error) {
	if s.g == nil {
		return nil, errSourceClosed
	}
	if i == s.curIdx && s.cur != nil {
		return s.cur, nil
	}
	if i < s.next-1 || i >= s.total {
		return nil, fmt.Errorf("frame %d of %d (frames are read in order)", i, s.total)
	}
	for s.next <= i {
		if err := s.compose(s.next); err != nil {
			return nil, fmt.Errorf("frame %d: %w", s.next, err)
		}
		s.next++
	}
	out := NewRGB(s.w, s.h)
	copy(out.Pix, s.canvas)
	s.cur, s.curIdx = out, i
	return out, nil
}

func (s *gifSource) fillRect(r image.Rectangle, c [3]uint8) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := s.canvas[3*(y*s.w+r.Min.X) : 3*(y*s.w+r.Max.X)]
		for x := 0; x < len(row); x += 3 {
			row[x], row[x+1], row[x+2] = c[0], c[1], c[2]
		}
	}
}

func (s *gifSource) compose(i int) error {
	m := s.g.Image[i]
	screen := image.Rect(0, 0, s.w, s.h)
	r := m.Rect.Intersect(screen)
	trans := transparentIndex(m)
	white := [3]uint8{255, 255, 255}
	if i == 0 {
		s.canvas = make([]uint8, 3*s.w*s.h)
		if trans < 0 && s.hasBG {
			s.fillRect(screen, s.bg)
		} else {
			s.fillRect(screen, white)
		}
	}
	// The previous frame's disposal.
	switch s.pendDisposal {
	case gif.DisposalBackground:
		s.fillRect(s.pendRect, s.pendColor)
	case gif.DisposalPrevious:
		pr := s.pendRect
		k := 0
		for y := pr.Min.Y; y < pr.Max.Y; y++ {
			k += copy(s.canvas[3*(y*s.w+pr.Min.X):3*(y*s.w+pr.Max.X)], s.saved[k:])
		}
	}
	disposal := 0
	if i < len(s.g.Disposal) {
		disposal = int(s.g.Disposal[i])
	}
	s.pendDisposal, s.pendRect = 0, r
	switch disposal {
	case gif.DisposalBackground:
		s.pendDisposal = disposal
		s.pendColor = s.bg
		if !s.hasBG {
			s.pendColor = [3]uint8{}
		}
		if trans >= 0 {
			s.pendColor = white
		}
	case gif.DisposalPrevious:
		s.pendDisposal = disposal
		s.saved = s.saved[:0]
		for y := r.Min.Y; y < r.Max.Y; y++ {
			s.saved = append(s.saved, s.canvas[3*(y*s.w+r.Min.X):3*(y*s.w+r.Max.X)]...)
		}
	}
	// Draw.
	pal := make([][3]uint8, len(m.Palette))
	for k, c := range m.Palette {
		pal[k] = rgbOf(c)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		src := m.Pix[m.PixOffset(r.Min.X, y):][:r.Dx()]
		dst := s.canvas[3*(y*s.w+r.Min.X):]
		for x, p := range src {
			if int(p) == trans {
				continue
			}
			if int(p) >= len(pal) {
				return fmt.Errorf("pixel index %d outside the %d-colour palette", p, len(pal))
			}
			c := pal[p]
			dst[3*x], dst[3*x+1], dst[3*x+2] = c[0], c[1], c[2]
		}
	}
	return nil
}
