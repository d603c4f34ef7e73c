package imageproc

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"testing"
)

// FuzzGIFVideo feeds arbitrary bytes to the animated-GIF reader: no panic, and every frame it
// returns has the logical screen's size.
func FuzzGIFVideo(f *testing.F) {
	pal := color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{}, color.RGBA{200, 100, 0, 255}}
	g := &gif.GIF{Config: image.Config{ColorModel: pal, Width: 6, Height: 5}, BackgroundIndex: 2}
	for k := range 3 {
		m := image.NewPaletted(image.Rect(k, 0, 4+k%2, 3+k), pal)
		for i := range m.Pix {
			m.Pix[i] = uint8((i + k) % 3)
		}
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, k)
		g.Disposal = append(g.Disposal, byte(k+1))
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	opts := DefaultVideoOptions()
	opts.MaxDecodePixels = 1 << 16
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := openGIFData(b, "fuzz.gif", opts)
		if err != nil {
			return
		}
		defer s.close()
		in := s.info()
		if in.total <= 0 || !(in.fps > 0) {
			t.Fatalf("info %+v", in)
		}
		for i := range min(in.total, 64) {
			fr, err := s.frame(i)
			if err != nil {
				return
			}
			if fr.Width != s.w || fr.Height != s.h || len(fr.Pix) != 3*s.w*s.h {
				t.Fatalf("frame %d is %dx%d", i, fr.Width, fr.Height)
			}
		}
	})
}
