package imageproc

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// tiffIFD builds a TIFF block whose IFD0 holds the given entries
// (tag, type, count, value), in byte order bo.
func tiffIFD(bo binary.ByteOrder, entries ...[4]uint32) []byte {
	var b bytes.Buffer
	if bo == binary.LittleEndian {
		b.WriteString("II")
	} else {
		b.WriteString("MM")
	}
	binary.Write(&b, bo, uint16(42))
	binary.Write(&b, bo, uint32(8))
	binary.Write(&b, bo, uint16(len(entries)))
	for _, e := range entries {
		binary.Write(&b, bo, uint16(e[0]))
		binary.Write(&b, bo, uint16(e[1]))
		binary.Write(&b, bo, e[2])
		v := make([]byte, 4)
		switch e[1] {
		case 3:
			bo.PutUint16(v, uint16(e[3]))
		case 4:
			bo.PutUint32(v, e[3])
		default:
			v[0] = byte(e[3])
		}
		b.Write(v)
	}
	binary.Write(&b, bo, uint32(0))
	return b.Bytes()
}

func TestExifOrientation(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	for _, c := range []struct {
		name string
		data []byte
		want int
	}{
		{"nil", nil, 1},
		{"LE short 6", tiffIFD(le, [4]uint32{0x0112, 3, 1, 6}), 6},
		{"BE short 8", tiffIFD(be, [4]uint32{0x0112, 3, 1, 8}), 8},
		{"after other tags", tiffIFD(be, [4]uint32{0x010f, 2, 4, 0}, [4]uint32{0x0110, 2, 4, 0}, [4]uint32{0x0112, 3, 1, 3}), 3},
		{"with Exif prefix", append([]byte("Exif\x00\x00"), tiffIFD(le, [4]uint32{0x0112, 3, 1, 5})...), 5},
		{"long 7", tiffIFD(be, [4]uint32{0x0112, 4, 1, 7}), 7},
		{"byte 2", tiffIFD(le, [4]uint32{0x0112, 1, 1, 2}), 2},
		{"count 2", tiffIFD(le, [4]uint32{0x0112, 3, 2, 6}), 1},
		{"value 9", tiffIFD(le, [4]uint32{0x0112, 3, 1, 9}), 1},
		{"value 0", tiffIFD(le, [4]uint32{0x0112, 3, 1, 0}), 1},
		{"rational", tiffIFD(le, [4]uint32{0x0112, 5, 1, 6}), 1},
		{"bad magic", append([]byte("II\x2b\x00"), tiffIFD(le, [4]uint32{0x0112, 3, 1, 6})[4:]...), 1},
		{"bad order", append([]byte("IM"), tiffIFD(le, [4]uint32{0x0112, 3, 1, 6})[2:]...), 1},
		{"truncated entry", tiffIFD(le, [4]uint32{0x0112, 3, 1, 6})[:16], 1},
		{"huge count", []byte("II\x2a\x00\x08\x00\x00\x00\xff\xff"), 1},
		{"offset past end", []byte("MM\x00\x2a\xff\xff\xff\xf0"), 1},
	} {
		if got := exifOrientation(c.data); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestContainerExif(t *testing.T) {
	tiff := tiffIFD(binary.BigEndian, [4]uint32{0x0112, 3, 1, 6})
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	seg := func(marker byte, payload []byte) []byte {
		s := []byte{0xff, marker, 0, 0}
		binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
		return append(s, payload...)
	}
	jpg := []byte{0xff, 0xd8}
	jpg = append(jpg, seg(0xe0, []byte("JFIF\x00\x01\x02"))...)
	jpg = append(jpg, seg(0xe1, []byte("http://ns.adobe.com/xap/1.0/\x00<x/>"))...) // XMP first
	jpg = append(jpg, seg(0xe1, app1)...)
	jpg = append(jpg, 0xff, 0xd9)
	if got := fileOrientation("jpeg", jpg); got != 6 {
		t.Errorf("JPEG: %d", got)
	}
	if got := fileOrientation("jpeg", jpg[:len(jpg)-10]); got != 1 {
		t.Errorf("truncated JPEG: %d", got)
	}
	riff := []byte("RIFF\x00\x00\x00\x00WEBP")
	chunk := func(id string, p []byte) []byte {
		c := append([]byte(id), 0, 0, 0, 0)
		binary.LittleEndian.PutUint32(c[4:], uint32(len(p)))
		c = append(c, p...)
		if len(p)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	webp := append(append(append([]byte(nil), riff...), chunk("VP8X", make([]byte, 9))...), chunk("EXIF", tiff)...)
	if got := fileOrientation("webp", webp); got != 6 {
		t.Errorf("WebP: %d", got)
	}
	if got := fileOrientation("tiff", tiff); got != 6 {
		t.Errorf("TIFF: %d", got)
	}
	if got := fileOrientation("gif", tiff); got != 1 {
		t.Errorf("GIF: %d", got)
	}
}

// TestOrient checks all eight orientations on a 3x2 image against the
// EXIF definition of where the stored row 0 / column 0 go.
func TestOrient(t *testing.T) {
	src := NewRGB(3, 2)
	for i := range 6 {
		src.Pix[3*i] = uint8(i + 1) // pixels 1 2 3 / 4 5 6
	}
	want := map[int][]uint8{
		1: {1, 2, 3, 4, 5, 6},
		2: {3, 2, 1, 6, 5, 4}, // mirror
		3: {6, 5, 4, 3, 2, 1}, // rotate 180
		4: {4, 5, 6, 1, 2, 3}, // flip
		5: {1, 4, 2, 5, 3, 6}, // transpose
		6: {4, 1, 5, 2, 6, 3}, // rotate 90 clockwise
		7: {6, 3, 5, 2, 4, 1}, // transverse
		8: {3, 6, 2, 5, 1, 4}, // rotate 90 counter-clockwise
	}
	for o, w := range want {
		got := orient(src, o)
		if o >= 5 && (got.Width != 2 || got.Height != 3) {
			t.Errorf("orientation %d: %dx%d", o, got.Width, got.Height)
		}
		for i, v := range w {
			if got.Pix[3*i] != v {
				t.Errorf("orientation %d: got %v, want %v", o, red(got), w)
				break
			}
		}
	}
}

func red(m *RGB) []uint8 {
	var out []uint8
	for i := 0; i < len(m.Pix); i += 3 {
		out = append(out, m.Pix[i])
	}
	return out
}
