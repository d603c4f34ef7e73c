package imageproc

import (
	"bytes"
	"encoding/binary"
)

// The reference's load_image calls PIL.ImageOps.exif_transpose, which reads
// the Orientation tag (0x0112) of IFD0 from the EXIF block Pillow exposes:
// the first JPEG APP1 segment that starts with "Exif\0\0", the PNG eXIf
// chunk, the WebP EXIF chunk, or, for a TIFF file, the file's own IFD0.
// Values 2..8 transpose the image; anything else (absent, 1, out of range,
// malformed data) leaves it alone. Every parser below is bounded by its
// input and never fails: malformed metadata means orientation 1.

const orientationTag = 0x0112

var exifPrefix = []byte("Exif\x00\x00")

// tiffByteOrder is the byte order a TIFF header starts with ("II" or "MM"), nil for neither.
func tiffByteOrder(b []byte) binary.ByteOrder {
	switch string(b[:2]) {
	case "II":
		return binary.LittleEndian
	case "MM":
		return binary.BigEndian
	}
	return nil
}

// exifOrientation parses a TIFF structure (the payload of an EXIF block
// after any "Exif\0\0" prefix) and returns the IFD0 Orientation value, or 1.
func exifOrientation(tiff []byte) int {
	tiff = bytes.TrimPrefix(tiff, exifPrefix)
	if len(tiff) < 8 {
		return 1
	}
	bo := tiffByteOrder(tiff)
	if bo == nil {
		return 1
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return 1
	}
	off := uint64(bo.Uint32(tiff[4:]))
	if off+2 > uint64(len(tiff)) {
		return 1
	}
	n := uint64(bo.Uint16(tiff[off:]))
	for i := range n {
		e := off + 2 + 12*i
		if e+12 > uint64(len(tiff)) {
			return 1
		}
		entry := tiff[e : e+12]
		if bo.Uint16(entry) != orientationTag {
			continue
		}
		typ, count := bo.Uint16(entry[2:]), bo.Uint32(entry[4:])
		if count != 1 { // Pillow reads a tuple then, which is no orientation
			return 1
		}
		var v uint32
		switch typ {
		case 1, 7: // BYTE, UNDEFINED
			v = uint32(entry[8])
		case 3: // SHORT
			v = uint32(bo.Uint16(entry[8:]))
		case 4: // LONG
			v = bo.Uint32(entry[8:])
		default:
			return 1
		}
		if v >= 1 && v <= 8 {
			return int(v)
		}
		return 1
	}
	return 1
}

// jpegExif returns the first APP1 "Exif\0\0" segment's payload, scanning the
// markers before the first SOS.
func jpegExif(b []byte) []byte {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return nil
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xff {
			return nil
		}
		marker := b[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7) {
			i += 2
			continue
		}
		if marker == 0xda || marker == 0xd9 {
			return nil
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, exifPrefix) {
			return seg[len(exifPrefix):]
		}
		i += 2 + n
	}
	return nil
}

// pngExif returns the first eXIf chunk's data.
func pngExif(b []byte) []byte {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(b, []byte(sig)) {
		return nil
	}
	i := uint64(len(sig))
	for i+8 <= uint64(len(b)) {
		n := uint64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		end := i + 8 + n
		if end > uint64(len(b)) {
			return nil
		}
		if typ == "eXIf" {
			return b[i+8 : end]
		}
		if typ == "IEND" {
			return nil
		}
		i = end + 4 // CRC
	}
	return nil
}

// webpExif returns the EXIF chunk's data of a RIFF WebP file.
func webpExif(b []byte) []byte {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return nil
	}
	i := uint64(12)
	for i+8 <= uint64(len(b)) {
		n := uint64(binary.LittleEndian.Uint32(b[i+4:]))
		end := i + 8 + n
		if end > uint64(len(b)) {
			return nil
		}
		if string(b[i:i+4]) == "EXIF" {
			return b[i+8 : end]
		}
		i = end + n&1
	}
	return nil
}

// fileOrientation returns the EXIF orientation (1..8) recorded in an
// encoded image file of the given format.
func fileOrientation(format string, b []byte) int {
	switch format {
	case "jpeg":
		return exifOrientation(jpegExif(b))
	case "png":
		return exifOrientation(pngExif(b))
	case "webp":
		return exifOrientation(webpExif(b))
	case "tiff":
		return exifOrientation(b)
	}
	return 1
}

// orient returns img transposed as PIL.ImageOps.exif_transpose does for the
// EXIF orientation o (2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate
// 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise). For o
// outside 2..8 it returns img.
func orient(img *RGB, o int) *RGB {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.Width, img.Height
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := NewRGB(ow, oh)
	// src maps an output pixel to its source pixel.
	var src func(x, y int) (int, int)
	switch o {
	case 2:
		src = func(x, y int) (int, int) { return w - 1 - x, y }
	case 3:
		src = func(x, y int) (int, int) { return w - 1 - x, h - 1 - y }
	case 4:
		src = func(x, y int) (int, int) { return x, h - 1 - y }
	case 5:
		src = func(x, y int) (int, int) { return y, x }
	case 6:
		src = func(x, y int) (int, int) { return y, h - 1 - x }
	case 7:
		src = func(x, y int) (int, int) { return w - 1 - y, h - 1 - x }
	case 8:
		src = func(x, y int) (int, int) { return w - 1 - y, x }
	}
	for y := range oh {
		d := out.Pix[3*y*ow:]
		for x := range ow {
			sx, sy := src(x, y)
			s := img.Pix[3*(sy*w+sx):]
			d[3*x], d[3*x+1], d[3*x+2] = s[0], s[1], s[2]
		}
	}
	return out
}

// tiffOrientationAt reads the Orientation of a TIFF file's IFD0 by random
// access: the 8-byte header and IFD0's entries (whose one-value fields are
// stored in the entry), which exifOrientation then parses as if IFD0
// followed the header.
func tiffOrientationAt(ra *boundedReaderAt) int {
	var hdr [10]byte
	if _, err := ra.ReadAt(hdr[:8], 0); err != nil {
		return 1
	}
	bo := tiffByteOrder(hdr[:])
	if bo == nil {
		return 1
	}
	off := int64(bo.Uint32(hdr[4:]))
	if _, err := ra.ReadAt(hdr[8:10], off); err != nil {
		return 1
	}
	n := int64(bo.Uint16(hdr[8:]))
	entries := make([]byte, min(12*n, max(ra.size-off-2, 0)))
	if k, _ := ra.ReadAt(entries, off+2); k < len(entries) {
		entries = entries[:k]
	}
	bo.PutUint32(hdr[4:], 8)
	return exifOrientation(append(hdr[:], entries...))
}
