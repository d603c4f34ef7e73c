package jpeg

import "fmt"

// Marker codes (the byte after 0xFF).
const (
	mSOF0  = 0xC0
	mSOF1  = 0xC1
	mSOF2  = 0xC2
	mSOF3  = 0xC3
	mDHT   = 0xC4
	mSOF5  = 0xC5
	mSOF6  = 0xC6
	mSOF7  = 0xC7
	mJPG   = 0xC8
	mSOF9  = 0xC9
	mSOF10 = 0xCA
	mSOF11 = 0xCB
	mDAC   = 0xCC
	mSOF13 = 0xCD
	mSOF14 = 0xCE
	mSOF15 = 0xCF
	mRST0  = 0xD0
	mRST7  = 0xD7
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDQT   = 0xDB
	mDNL   = 0xDC
	mDRI   = 0xDD
	mAPP0  = 0xE0
	mAPP14 = 0xEE
	mAPP15 = 0xEF
	mCOM   = 0xFE
	mTEM   = 0x01
)

// isSOF reports whether m is a start-of-frame marker of any process.
func isSOF(m int) bool {
	return m >= mSOF0 && m <= mSOF15 && m != mDHT && m != mJPG && m != mDAC
}

// nextMarker skips to the next marker like libjpeg's next_marker: bytes other
// than 0xFF are discarded (libjpeg warns about "extraneous bytes"), fill 0xFF
// bytes are swallowed, and FF 00 pairs are discarded as well.
func (d *decoder) nextMarker() (int, error) {
	for {
		c, err := d.src.readByte()
		if err != nil {
			return 0, err
		}
		for c != 0xFF {
			if c, err = d.src.readByte(); err != nil {
				return 0, err
			}
		}
		for c == 0xFF {
			if c, err = d.src.readByte(); err != nil {
				return 0, err
			}
		}
		if c != 0 {
			return int(c), nil
		}
	}
}

// readSOI checks that the stream starts with an SOI marker; like libjpeg's
// first_marker no leading garbage is allowed.
func (d *decoder) readSOI() error {
	a, err := d.src.readByte()
	if err != nil {
		return err
	}
	b, err := d.src.readByte()
	if err != nil {
		return err
	}
	if a != 0xFF || b != mSOI {
		return FormatError("missing SOI marker (not a JPEG file)")
	}
	d.cond.reset() // get_soi
	return nil
}

// processSOF parses a frame header (get_sof) and validates what libjpeg's
// initial_setup and this decoder require.
func (d *decoder) processSOF(marker int) error {
	if d.sawSOF {
		return FormatError("duplicate SOF marker")
	}
	d.progressive = marker == mSOF2 || marker == mSOF10
	d.arithmetic = marker == mSOF9 || marker == mSOF10
	length, err := d.src.read2()
	if err != nil {
		return err
	}
	hdr, err := d.src.readN(6)
	if err != nil {
		return err
	}
	precision := int(hdr[0])
	d.height = int(hdr[1])<<8 | int(hdr[2])
	d.width = int(hdr[3])<<8 | int(hdr[4])
	n := int(hdr[5])
	if d.height <= 0 || d.width <= 0 || n <= 0 {
		return FormatError("empty image (zero width, height or component count; DNL is not supported)")
	}
	if length-8 != n*3 {
		return FormatError("bad SOF marker length")
	}
	if n > 10 {
		return FormatError(fmt.Sprintf("too many components (%d)", n))
	}
	spec, err := d.src.readN(3 * n)
	if err != nil {
		return err
	}
	d.comps = make([]component, n)
	for i := range d.comps {
		c := &d.comps[i]
		c.index = i
		c.id = int(spec[3*i])
		c.h = int(spec[3*i+1] >> 4)
		c.v = int(spec[3*i+1] & 15)
		c.tq = int(spec[3*i+2])
	}
	d.sawSOF = true
	if d.width > maxDimension || d.height > maxDimension {
		return UnsupportedError(fmt.Sprintf("image dimensions %dx%d exceed %d", d.width, d.height, maxDimension))
	}
	if precision != 8 {
		return UnsupportedError(fmt.Sprintf("%d-bit sample precision", precision))
	}
	if n != 1 && n != 3 && n != 4 {
		return UnsupportedError(fmt.Sprintf("%d color components", n))
	}
	d.maxH, d.maxV = 1, 1
	for i := range d.comps {
		c := &d.comps[i]
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return FormatError("bad sampling factors")
		}
		d.maxH = max(d.maxH, c.h)
		d.maxV = max(d.maxV, c.v)
	}
	for i := range d.comps {
		c := &d.comps[i]
		if d.maxH%c.h != 0 || d.maxV%c.v != 0 {
			return UnsupportedError("fractional sampling ratio")
		}
	}
	return nil
}

// processDHT parses Huffman table definitions (get_dht). Tables are only
// validated when a scan uses them, as in libjpeg.
func (d *decoder) processDHT() error {
	length, err := d.src.read2()
	if err != nil {
		return err
	}
	length -= 2
	for length > 16 {
		b, err := d.src.readN(17)
		if err != nil {
			return err
		}
		index := int(b[0])
		var h rawHuffman
		count := 0
		for i := 1; i <= 16; i++ {
			h.bits[i] = b[i]
			count += int(b[i])
		}
		length -= 17
		if count > 256 || count > length {
			return FormatError("bad Huffman table")
		}
		vals, err := d.src.readN(count)
		if err != nil {
			return err
		}
		copy(h.vals[:], vals)
		length -= count
		class := 0
		if index&0x10 != 0 {
			class = 1
			index -= 0x10
		}
		if index < 0 || index >= 4 {
			return FormatError(fmt.Sprintf("bad Huffman table index %d", index))
		}
		d.huff[class][index] = &h
	}
	if length != 0 {
		return FormatError("bad DHT marker length")
	}
	return nil
}

// processDQT parses quantization tables (get_dqt), storing them in natural
// order.
func (d *decoder) processDQT() error {
	length, err := d.src.read2()
	if err != nil {
		return err
	}
	length -= 2
	for length > 0 {
		pq, err := d.src.readByte()
		if err != nil {
			return err
		}
		prec := pq >> 4
		n := int(pq & 15)
		if n >= 4 {
			return FormatError(fmt.Sprintf("bad quantization table index %d", n))
		}
		if d.quant[n] == nil {
			d.quant[n] = new([64]uint16)
		}
		q := d.quant[n]
		for i := 0; i < 64; i++ {
			var v int
			if prec != 0 {
				v, err = d.src.read2()
			} else {
				var b byte
				b, err = d.src.readByte()
				v = int(b)
			}
			if err != nil {
				return err
			}
			q[naturalOrder[i]] = uint16(v)
		}
		length -= 65
		if prec != 0 {
			length -= 64
		}
	}
	if length != 0 {
		return FormatError("bad DQT marker length")
	}
	return nil
}

// processDRI parses a restart interval definition.
func (d *decoder) processDRI() error {
	length, err := d.src.read2()
	if err != nil {
		return err
	}
	if length != 4 {
		return FormatError("bad DRI marker length")
	}
	ri, err := d.src.read2()
	if err != nil {
		return err
	}
	d.restartInterval = ri
	return nil
}

// processAPP handles APP0 (JFIF) and APP14 (Adobe), which steer the colour
// space guess, and skips other APPn and COM segments.
func (d *decoder) processAPP(marker int) error {
	length, err := d.src.read2()
	if err != nil {
		return err
	}
	length -= 2
	if marker != mAPP0 && marker != mAPP14 {
		if length > 0 {
			return d.src.skip(length)
		}
		return nil
	}
	n := 0
	if length >= 14 {
		n = 14
	} else if length > 0 {
		n = length
	}
	b, err := d.src.readN(n)
	if err != nil {
		return err
	}
	if marker == mAPP0 {
		if n >= 14 && string(b[:5]) == "JFIF\x00" {
			d.sawJFIF = true
		}
	} else if n >= 12 && string(b[:5]) == "Adobe" {
		d.sawAdobe = true
		d.adobeTransform = int(b[11])
	}
	if length-n > 0 {
		return d.src.skip(length - n)
	}
	return nil
}

// skipVariable skips a marker segment of the given length (skip_variable).
func (d *decoder) skipVariable() error {
	length, err := d.src.read2()
	if err != nil {
		return err
	}
	if length > 2 {
		return d.src.skip(length - 2)
	}
	return nil
}

// scan describes one SOS header.
type scan struct {
	comps          []*component
	ss, se, ah, al int
}

// processSOS parses a scan header (get_sos), including libjpeg-turbo's rule
// for matching component identifiers: each listed identifier picks the first
// component with that identifier whose scan slot of the same index is still
// free, and a component may not be listed twice.
func (d *decoder) processSOS() (*scan, error) {
	if !d.sawSOF {
		return nil, FormatError("SOS marker before SOF")
	}
	length, err := d.src.read2()
	if err != nil {
		return nil, err
	}
	nb, err := d.src.readByte()
	if err != nil {
		return nil, err
	}
	n := int(nb)
	if length != n*2+6 || n < 1 || n > 4 {
		return nil, FormatError("bad SOS marker length")
	}
	b, err := d.src.readN(2*n + 3)
	if err != nil {
		return nil, err
	}
	s := &scan{comps: make([]*component, n)}
	var slot [4]*component
	for i := 0; i < n; i++ {
		cc := int(b[2*i])
		tables := int(b[2*i+1])
		var found *component
		for ci := 0; ci < len(d.comps) && ci < 4; ci++ {
			if d.comps[ci].id == cc && slot[ci] == nil {
				found = &d.comps[ci]
				break
			}
		}
		if found == nil {
			return nil, FormatError(fmt.Sprintf("invalid component ID %d in SOS", cc))
		}
		for pi := 0; pi < i; pi++ {
			if s.comps[pi] == found {
				return nil, FormatError(fmt.Sprintf("invalid component ID %d in SOS", cc))
			}
		}
		slot[i] = found
		s.comps[i] = found
		found.dcTbl = tables >> 4
		found.acTbl = tables & 15
	}
	s.ss = int(b[2*n])
	s.se = int(b[2*n+1])
	s.ah = int(b[2*n+2] >> 4)
	s.al = int(b[2*n+2] & 15)
	return s, nil
}
