package imageproc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// PillowView is how Pillow (13, as vLLM 0.34.0 loads images) opens an image file, read from
// its header: the mode Image.open gives ("RGB", "RGBA", "L", "P", "1", "LA", "I;16",
// "CMYK", …) and whether it carries transparency as vLLM's convert_image_mode tests it
// (vllm/multimodal/image.py _has_transparency: mode RGBA, LA or PA, or a "transparency"
// entry, which a PNG tRNS chunk and a GIF transparent index make). vLLM loads every image
// that is not RGB without transparency through a conversion, which it hashes as such
// (internal/mmhash.Image.Converted).
type PillowView struct {
	Format       string // as sniffed: "png", "jpeg", "gif", "webp", "bmp", "tiff"
	Mode         string
	Transparency bool
}

// PlainRGB reports that vLLM keeps the image as Pillow opened it (no conversion).
func (v PillowView) PlainRGB() bool { return v.Mode == "RGB" && !v.Transparency }

// ErrPillowMode is wrapped by Pillow for a file whose Pillow mode is not worked out here.
var ErrPillowMode = errors.New("Pillow's mode for it is not known here")

// Pillow reads data's header as Pillow would open it. name is for errors.
func Pillow(name string, data []byte) (PillowView, error) {
	v := PillowView{Format: sniff(data)}
	var err error
	switch v.Format {
	case "png":
		err = pillowPNG(data, &v)
	case "jpeg":
		err = pillowJPEG(data, &v)
	case "gif":
		err = pillowGIF(data, &v)
	case "webp":
		err = pillowWebP(data, &v)
	case "bmp":
		err = pillowBMP(data, &v)
	case "tiff":
		err = pillowTIFF(data, &v)
	default:
		return v, fmt.Errorf("imageproc: %s: %w", name, ErrUnsupportedFormat)
	}
	if err != nil {
		return v, fmt.Errorf("imageproc: %s: %s header: %w", name, v.Format, err)
	}
	switch v.Mode {
	case "RGBA", "LA", "PA":
		v.Transparency = true
	}
	return v, nil
}

var errShort = errors.New("truncated")

// pillowPNG: the IHDR's colour type and depth (PngImagePlugin's _MODES), and a tRNS chunk
// before the first IDAT.
func pillowPNG(b []byte, v *PillowView) error {
	if len(b) < 33 || string(b[12:16]) != "IHDR" {
		return errShort
	}
	depth, ct := b[24], b[25]
	switch {
	case ct == 0 && depth == 1:
		v.Mode = "1"
	case ct == 0 && depth <= 8:
		v.Mode = "L"
	case ct == 0 && depth == 16:
		v.Mode = "I;16"
	case ct == 2:
		v.Mode = "RGB" // 16-bit too (rawmode RGB;16B)
	case ct == 3:
		v.Mode = "P"
	case ct == 4 && depth == 8:
		v.Mode = "LA"
	case ct == 4 && depth == 16, ct == 6:
		v.Mode = "RGBA"
	default:
		return fmt.Errorf("colour type %d, depth %d", ct, depth)
	}
	for p := 8; p+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if typ == "IDAT" || typ == "IEND" {
			break
		}
		if typ == "tRNS" && ct != 4 && ct != 6 {
			v.Transparency = true
		}
		if n < 0 || n > len(b) {
			return errShort
		}
		p += 12 + n
	}
	return nil
}

// pillowJPEG: the frame header's component count (JpegImagePlugin: 1 L, 3 RGB, 4 CMYK).
func pillowJPEG(b []byte, v *PillowView) error {
	for p := 2; p+4 <= len(b); {
		if b[p] != 0xff {
			return errors.New("no frame header")
		}
		m := b[p+1]
		if m == 0xff {
			p++
			continue
		}
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		isSOF := m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc
		if isSOF {
			if p+10 > len(b) {
				return errShort
			}
			switch b[p+9] {
			case 1:
				v.Mode = "L"
			case 3:
				v.Mode = "RGB"
			case 4:
				v.Mode = "CMYK"
			default:
				return fmt.Errorf("%d components", b[p+9])
			}
			return nil
		}
		p += 2 + n
	}
	return errShort
}

// pillowGIF: the first frame is "P" (or "L" for a gray palette: either way converted), with
// transparency when a graphic control extension before the first image sets its flag.
func pillowGIF(b []byte, v *PillowView) error {
	v.Mode = "P"
	if len(b) < 13 {
		return errShort
	}
	p := 13
	if b[10]&0x80 != 0 {
		p += 3 << (b[10]&7 + 1)
	}
	for p < len(b) {
		switch b[p] {
		case 0x2c, 0x3b: // image descriptor, trailer
			return nil
		case 0x21:
			if p+2 > len(b) {
				return errShort
			}
			if b[p+1] == 0xf9 && p+4 <= len(b) && b[p+3]&1 != 0 {
				v.Transparency = true
			}
			p += 2
			for p < len(b) && b[p] != 0 {
				p += 1 + int(b[p])
			}
			p++
		default:
			return fmt.Errorf("unexpected block 0x%02x", b[p])
		}
	}
	return errShort
}

// pillowWebP: RGBA when the file has alpha (the VP8X flag, or VP8L's alpha_is_used bit, as
// libwebp's WebPGetFeatures reports it), else RGB.
func pillowWebP(b []byte, v *PillowView) error {
	if len(b) < 21 {
		return errShort
	}
	v.Mode = "RGB"
	switch string(b[12:16]) {
	case "VP8 ":
	case "VP8L":
		if len(b) < 25 || b[20] != 0x2f {
			return errShort
		}
		if binary.LittleEndian.Uint32(b[21:])>>28&1 != 0 {
			v.Mode = "RGBA"
		}
	case "VP8X":
		if b[20]&0x10 != 0 {
			v.Mode = "RGBA"
		}
	default:
		return fmt.Errorf("first chunk %q", b[12:16])
	}
	return nil
}

// pillowBMP: BmpImagePlugin's modes by bit depth; 32-bit with a non-zero alpha mask is RGBA.
func pillowBMP(b []byte, v *PillowView) error {
	if len(b) < 26 {
		return errShort
	}
	hdr := binary.LittleEndian.Uint32(b[14:])
	var bpp, comp uint32
	if hdr == 12 {
		bpp = uint32(binary.LittleEndian.Uint16(b[24:]))
	} else {
		if len(b) < 34 {
			return errShort
		}
		bpp, comp = uint32(binary.LittleEndian.Uint16(b[28:])), binary.LittleEndian.Uint32(b[30:])
	}
	switch bpp {
	case 1, 2, 4, 8:
		v.Mode = "P"
	case 16, 24:
		v.Mode = "RGB"
	case 32:
		v.Mode = "RGB"
		if (comp == 3 || comp == 6) && hdr >= 56 && len(b) >= 70 && binary.LittleEndian.Uint32(b[66:]) != 0 {
			v.Mode = "RGBA"
		}
	default:
		return fmt.Errorf("%d bits per pixel", bpp)
	}
	return nil
}

// pillowTIFF: IFD0's photometric interpretation, samples per pixel, bits per sample and
// extra samples; only the plain cases are told apart (RGB, RGBA, gray, palette, CMYK).
func pillowTIFF(b []byte, v *PillowView) error {
	if len(b) < 8 {
		return errShort
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if b[0] == 'M' {
		bo = binary.BigEndian
	}
	off := int(bo.Uint32(b[4:]))
	if off < 8 || off+2 > len(b) {
		return errShort
	}
	n := int(bo.Uint16(b[off:]))
	if off+2+12*n > len(b) {
		return errShort
	}
	photometric, spp, bits, extra := -1, 1, 1, 0
	for i := range n {
		e := b[off+2+12*i:]
		tag, typ, count := bo.Uint16(e), bo.Uint16(e[2:]), bo.Uint32(e[4:])
		first := func() int { // the first value, a SHORT or LONG, inline or at its offset
			val := e[8:12]
			size := 2
			if typ == 4 {
				size = 4
			}
			if uint64(count)*uint64(size) > 4 {
				o := int(bo.Uint32(e[8:]))
				if o < 0 || o+size > len(b) {
					return -1
				}
				val = b[o:]
			}
			if typ == 4 {
				return int(bo.Uint32(val))
			}
			return int(bo.Uint16(val))
		}
		switch tag {
		case 262:
			photometric = first()
		case 277:
			spp = first()
		case 258:
			bits = first()
		case 338:
			extra = first()
		}
	}
	switch {
	case photometric == 2 && spp == 3 && (bits == 8 || bits == 16):
		v.Mode = "RGB"
	case photometric == 2 && spp == 4 && (extra == 1 || extra == 2):
		v.Mode = "RGBA"
	case photometric == 2 && spp == 4:
		v.Mode = "RGBX"
	case (photometric == 0 || photometric == 1) && spp == 1 && bits == 1:
		v.Mode = "1"
	case (photometric == 0 || photometric == 1) && spp == 1 && bits == 8:
		v.Mode = "L"
	case (photometric == 0 || photometric == 1) && spp == 1 && bits == 16:
		v.Mode = "I;16"
	case photometric == 3:
		v.Mode = "P"
	case photometric == 5:
		v.Mode = "CMYK"
	default:
		return fmt.Errorf("%w (photometric %d, %d samples of %d bits)", ErrPillowMode, photometric, spp, bits)
	}
	return nil
}

// Translucent reports that data, decoded as the standard decoders decode it (alpha, tRNS
// keys and GIF transparency kept), has a pixel that is not fully opaque: one that vLLM
// composites on white (vllm/multimodal/image.py rgba_to_rgb) where Decode keeps the stored
// colour, as the Hugging Face processor does for files. The first GIF frame is looked at.
func Translucent(name string, data []byte) (translucent bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			translucent, err = false, fmt.Errorf("imageproc: %s: decoder failed: %v", name, r)
		}
	}()
	var img image.Image
	r := bytes.NewReader(data)
	switch f := sniff(data); f {
	case "png":
		img, err = png.Decode(r)
	case "gif":
		img, err = gif.Decode(r)
	case "webp":
		img, err = webp.Decode(r)
	case "bmp":
		img, err = bmp.Decode(r)
	case "tiff":
		img, err = tiff.Decode(r)
	case "jpeg":
		return false, nil
	default:
		return false, fmt.Errorf("imageproc: %s: %w", name, ErrUnsupportedFormat)
	}
	if err != nil {
		return false, fmt.Errorf("imageproc: %s: %w", name, err)
	}
	o, ok := img.(interface{ Opaque() bool })
	return ok && !o.Opaque(), nil
}
