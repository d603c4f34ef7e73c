package jpeg

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func readFixture(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// patchSize rewrites the frame size of a baseline (SOF0) or arithmetic
// sequential (SOF9) fixture.
func patchSize(t *testing.T, jpg []byte, w, h int) []byte {
	b := append([]byte{}, jpg...)
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		i = bytes.Index(b, []byte{0xFF, 0xC9})
	}
	if i < 0 {
		t.Fatal("no SOF0 or SOF9")
	}
	b[i+5], b[i+6] = byte(h>>8), byte(h)
	b[i+7], b[i+8] = byte(w>>8), byte(w)
	return b
}

// TestHostileHeader checks that a header promising a huge image, backed by
// a few bytes of data, fails without allocating the promised memory.
func TestHostileHeader(t *testing.T) {
	// Huffman and arithmetic-coded: the arithmetic decoder supplies zero
	// bytes after a marker, but the end of input stops it at once.
	for _, name := range []string{"cj_q75_1x1.jpg", "cj_arith_q75_1x1.jpg"} {
		base := readFixture(t, name)
		sos := bytes.Index(base, []byte{0xFF, 0xDA})
		huge := patchSize(t, base[:sos+200], 30000, 30000) // 900 Mpixel, under MaxPixels
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Decode(bytes.NewReader(huge))
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("%s: err = %v, want ErrTruncated", name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 32<<20 {
			t.Fatalf("%s: allocated %d bytes for a truncated 30000x30000 header", name, got)
		}
	}
	base := readFixture(t, "cj_q75_1x1.jpg")

	// Over MaxPixels: DecodeConfig reports the size (the caller's limit
	// speaks), Decode refuses it.
	tooBig := patchSize(t, base, 65500, 65500)
	var ue UnsupportedError
	if cfg, err := DecodeConfig(bytes.NewReader(tooBig)); err != nil || cfg.Width != 65500 || cfg.Height != 65500 {
		t.Fatalf("DecodeConfig of 65500x65500: %+v, %v", cfg, err)
	}
	if _, err := Decode(bytes.NewReader(tooBig)); !errors.As(err, &ue) {
		t.Fatalf("Decode of 65500x65500: %v, want UnsupportedError", err)
	}
	// Over libjpeg's JPEG_MAX_DIMENSION: both refuse it.
	tooWide := patchSize(t, base, 65501, 8)
	if _, err := DecodeConfig(bytes.NewReader(tooWide)); !errors.As(err, &ue) {
		t.Fatalf("DecodeConfig of 65501x8: %v, want UnsupportedError", err)
	}
	if _, err := Decode(bytes.NewReader(tooWide)); !errors.As(err, &ue) {
		t.Fatalf("Decode of 65501x8: %v, want UnsupportedError", err)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestDecodeConfigReadsHeaderOnly checks that DecodeConfig stops at the
// frame header: followed by 4 MiB of data, it reads at most one input chunk.
func TestDecodeConfigReadsHeaderOnly(t *testing.T) {
	for _, name := range []string{"cj_q75_2x2.jpg", "cj_sample_3x1.jpg"} {
		b := append(readFixture(t, name), make([]byte, 4<<20)...)
		cr := &countingReader{r: bytes.NewReader(b)}
		cfg, err := DecodeConfig(cr)
		if err != nil || cfg.Width != 48 || cfg.Height != 40 {
			t.Fatalf("%s: DecodeConfig = %+v, %v", name, cfg, err)
		}
		if cr.n > sourceChunk {
			t.Fatalf("%s: DecodeConfig read %d bytes, more than one %d-byte chunk", name, cr.n, sourceChunk)
		}
	}
}

// TestTruncationsAndCorruptions decodes every prefix of small Huffman and
// arithmetic-coded fixtures and every single-byte corruption of three: no panic, and every proper prefix
// that cuts into the image data is an error.
func TestTruncationsAndCorruptions(t *testing.T) {
	for _, name := range []string{"cj_size_17x9_2x2.jpg", "cj_size_17x9_prog_2x1.jpg", "cj_arith_size_17x9_2x2.jpg", "cj_arith_size_17x9_prog_2x1.jpg"} {
		b := readFixture(t, name)
		sos := bytes.LastIndex(b, []byte{0xFF, 0xDA})
		for n := 0; n < len(b)-2; n++ {
			_, err := Decode(bytes.NewReader(b[:n]))
			if err == nil && n < sos {
				t.Fatalf("%s: prefix of %d bytes decoded without error", name, n)
			}
		}
	}
	for _, name := range []string{"cj_size_17x9_prog_2x1.jpg", "cj_arith_size_17x9_prog_2x1.jpg", "cj_arith_restart1_2x2.jpg"} {
		b := readFixture(t, name)
		for i := range b {
			for _, v := range []byte{0x00, 0xFF, b[i] ^ 0x10} {
				c := append([]byte{}, b...)
				c[i] = v
				Decode(bytes.NewReader(c))
			}
		}
	}
}

// TestDecodeConfigColorModels checks the reported colour models.
func TestDecodeConfigColorModels(t *testing.T) {
	for name, want := range map[string]int{"cj_gray_q75.jpg": 1, "cj_q75_2x2.jpg": 3, "lj_cmyk.jpg": 4} {
		cfg, err := DecodeConfig(bytes.NewReader(readFixture(t, name)))
		if err != nil {
			t.Fatal(err)
		}
		img, err := Decode(bytes.NewReader(readFixture(t, name)))
		if err != nil {
			t.Fatal(err)
		}
		_, _, ch, _ := samples(img)
		if ch != want || cfg.ColorModel != img.ColorModel() {
			t.Fatalf("%s: %d channels, config model %v vs image model %v", name, ch, cfg.ColorModel, img.ColorModel())
		}
	}
}
