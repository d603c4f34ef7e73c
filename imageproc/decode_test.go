package imageproc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readInput(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, "inputs", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeData(b []byte, opts Options) (*RGB, error) {
	return Decode(context.Background(), bytes.NewReader(b), "img.bin", opts)
}

// pngWithIHDR returns a PNG signature and an IHDR chunk (valid CRC) for a
// w×h 8-bit RGB image, and no image data.
func pngWithIHDR(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestDecodeBadInputs(t *testing.T) {
	jpg := readInput(t, "j420_203x157.jpg")
	pngData := readInput(t, "photo_250x190.png")
	gifData := readInput(t, "gif_trns_70x50.gif")
	webpData := readInput(t, "webp_lossy_91x61.webp")
	bmpData := readInput(t, "bmp_75x50.bmp")
	tiffData := readInput(t, "tiff_75x50.tif")

	// A JPEG whose SOF0 declares 60000x60000.
	bigJPEG := append([]byte(nil), jpg...)
	if i := bytes.Index(bigJPEG, []byte{0xff, 0xc0}); i > 0 {
		binary.BigEndian.PutUint16(bigJPEG[i+5:], 60000)
		binary.BigEndian.PutUint16(bigJPEG[i+7:], 60000)
	} else {
		t.Fatal("no SOF0")
	}
	bigGIF := append([]byte(nil), gifData...)
	binary.LittleEndian.PutUint16(bigGIF[6:], 65535)
	binary.LittleEndian.PutUint16(bigGIF[8:], 65535)
	bigBMP := append([]byte(nil), bmpData...)
	binary.LittleEndian.PutUint32(bigBMP[18:], 100000)
	binary.LittleEndian.PutUint32(bigBMP[22:], 100000)
	zeroGIF := append([]byte(nil), gifData...)
	binary.LittleEndian.PutUint16(zeroGIF[6:], 0)
	corruptPNG := append([]byte(nil), pngData...)
	corruptPNG[len(corruptPNG)/2] ^= 0xff // IDAT CRC mismatch
	corruptJPEG := append([]byte(nil), jpg...)
	if i := bytes.Index(corruptJPEG, []byte{0xff, 0xc4}); i > 0 { // break the first DHT
		corruptJPEG[i+4] = 0x7f
	}

	for _, c := range []struct {
		name, want string
		data       []byte
		is         error
	}{
		{"empty", "the file is empty", nil, ErrUnsupportedFormat},
		{"text", "unsupported image format", []byte("hello, world"), ErrUnsupportedFormat},
		{"heic-like", "unsupported image format", []byte("\x00\x00\x00\x18ftypheic"), ErrUnsupportedFormat},
		{"png signature only", "png header", []byte("\x89PNG\r\n\x1a\n"), nil},
		{"png zero width", "png header", pngWithIHDR(0, 10), nil},
		{"png huge", "image too large", pngWithIHDR(100000, 100000), ErrTooLarge},
		{"png truncated", "truncated png", pngData[:len(pngData)/2], nil},
		{"png corrupt", "corrupt png", corruptPNG, nil},
		{"png header only", "png", pngWithIHDR(10, 10), nil},
		{"jpeg truncated header", "jpeg header", jpg[:40], nil},
		{"jpeg truncated", "truncated jpeg", jpg[:len(jpg)/2], nil},
		{"jpeg corrupt", "jpeg", corruptJPEG, nil},
		{"jpeg huge", "image too large", bigJPEG, ErrTooLarge},
		{"gif truncated", "gif", gifData[:len(gifData)/2], nil},
		{"gif huge", "image too large", bigGIF, ErrTooLarge},
		{"gif zero size", "empty size", zeroGIF, nil},
		{"webp truncated", "webp", webpData[:len(webpData)/2], nil},
		{"bmp huge", "image too large", bigBMP, ErrTooLarge},
		{"bmp truncated", "bmp", bmpData[:len(bmpData)/2], nil},
		{"tiff truncated", "tiff", tiffData[:len(tiffData)/3], nil},
	} {
		img, err := decodeData(c.data, DefaultOptions())
		if err == nil {
			t.Errorf("%s: decoded a %dx%d image", c.name, img.Width, img.Height)
			continue
		}
		if !strings.Contains(err.Error(), "img.bin") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q should name the file and say %q", c.name, err, c.want)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: error %v is not %v", c.name, err, c.is)
		}
	}
}

func TestDecodeLimit(t *testing.T) {
	data := readInput(t, "grad_400x300.png")
	o := DefaultOptions()
	o.MaxDecodePixels = 400*300 - 1
	if _, err := decodeData(data, o); !errors.Is(err, ErrTooLarge) {
		t.Errorf("limit 119999: %v", err)
	}
	o.MaxDecodePixels = 400 * 300
	if _, err := decodeData(data, o); err != nil {
		t.Errorf("limit 120000: %v", err)
	}
	if _, err := PreprocessFile(context.Background(), filepath.Join(testdataDir, "inputs", "missing.png"), DefaultOptions()); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := PreprocessFile(context.Background(), filepath.Join(testdataDir, "inputs", "aspect_201x1.png"), DefaultOptions()); !errors.Is(err, ErrAspectRatio) || !strings.Contains(err.Error(), "aspect_201x1.png") {
		t.Errorf("201:1: %v", err)
	}
}

// TestDecodeGoEncoded decodes images written by Go's own encoders, covering
// colour models the fixtures do not (Gray16 with alpha, NRGBA64, Paletted
// GIF without transparency).
func TestDecodeGoEncoded(t *testing.T) {
	w, h := 9, 7
	nrgba64 := image.NewNRGBA64(image.Rect(0, 0, w, h))
	pal := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{200, 100, 50, 255}})
	gray := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint16((x*7919 + y*104729) % 65536)
			nrgba64.SetNRGBA64(x, y, color.NRGBA64{v, v ^ 0x5555, 65535 - v, uint16(x * 1000)})
			pal.SetColorIndex(x, y, uint8((x+y)%2))
			gray.SetGray(x, y, color.Gray{uint8(x * y)})
		}
	}
	var pngBuf, gifBuf, jpgBuf bytes.Buffer
	if err := png.Encode(&pngBuf, nrgba64); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gifBuf, pal, nil); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpgBuf, gray, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	got, err := decodeData(pngBuf.Bytes(), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for y := range h {
		for x := range w {
			c := nrgba64.NRGBA64At(x, y)
			i := 3 * (y*w + x)
			if got.Pix[i] != uint8(c.R>>8) || got.Pix[i+1] != uint8(c.G>>8) || got.Pix[i+2] != uint8(c.B>>8) {
				t.Fatalf("NRGBA64 (%d,%d): %v, want high bytes of %v", x, y, got.Pix[i:i+3], c)
			}
		}
	}
	got, err = decodeData(gifBuf.Bytes(), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got.Pix[0] != 1 || got.Pix[3] != 200 {
		t.Errorf("GIF: %v", got.Pix[:6])
	}
	got, err = decodeData(jpgBuf.Bytes(), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got.Width != w || got.Pix[0] != got.Pix[1] || got.Pix[1] != got.Pix[2] {
		t.Errorf("gray JPEG: %dx%d %v", got.Width, got.Height, got.Pix[:6])
	}
}
