package jpeg

// This file holds the Huffman tables and the bit reader for entropy-coded
// segments. Decoding results are identical to libjpeg-turbo's jdhuff.c for
// every well-formed stream; where libjpeg-turbo only warns (an invalid code,
// data running into a marker) this decoder returns an error instead.

// rawHuffman is a Huffman table as defined by a DHT marker (or the standard
// tables): bits[l] codes of length l, followed by their symbols.
type rawHuffman struct {
	bits [17]byte
	vals [256]byte
}

// lookBits is the number of bits resolved by one table look-up.
const lookBits = 9

// huffTable is the decoding form of a rawHuffman table (libjpeg's
// d_derived_tbl, with a 9-bit rather than 8-bit look-ahead table; the decoded
// symbols are the same).
type huffTable struct {
	// lookup[b] = codeLength<<8 | symbol for codes of at most lookBits bits
	// whose bits prefix b; 0 if the code starting at b is longer.
	lookup    [1 << lookBits]uint16
	maxcode   [18]int32 // largest code of each length, -1 if none
	valoffset [18]int32 // vals index of a code of length l, minus that code
	vals      [256]byte
}

// build derives a decoding table, validating it like
// jpeg_make_d_derived_tbl: the counts must describe a prefix code that fits,
// and DC symbols must be at most 15.
func (t *huffTable) build(h *rawHuffman, isDC bool) error {
	var size [257]byte
	var code [257]uint32
	p := 0
	for l := 1; l <= 16; l++ {
		n := int(h.bits[l])
		if p+n > 256 {
			return FormatError("bad Huffman table")
		}
		for ; n > 0; n-- {
			size[p] = byte(l)
			p++
		}
	}
	size[p] = 0
	numSymbols := p

	c := uint32(0)
	si := int(size[0])
	p = 0
	for size[p] != 0 {
		for int(size[p]) == si {
			code[p] = c
			p++
			c++
		}
		if uint64(c) >= uint64(1)<<si {
			return FormatError("bad Huffman table")
		}
		c <<= 1
		si++
	}

	p = 0
	for l := 1; l <= 16; l++ {
		if h.bits[l] != 0 {
			t.valoffset[l] = int32(p) - int32(code[p])
			p += int(h.bits[l])
			t.maxcode[l] = int32(code[p-1])
		} else {
			t.maxcode[l] = -1
		}
	}
	t.valoffset[17] = 0
	t.maxcode[17] = 0xFFFFF

	t.lookup = [1 << lookBits]uint16{}
	p = 0
	for l := 1; l <= lookBits; l++ {
		for i := 1; i <= int(h.bits[l]); i, p = i+1, p+1 {
			look := int(code[p]) << (lookBits - l)
			for n := 1 << (lookBits - l); n > 0; n-- {
				t.lookup[look] = uint16(l)<<8 | uint16(h.vals[p])
				look++
			}
		}
	}
	t.vals = h.vals
	if isDC {
		for i := 0; i < numSymbols; i++ {
			if h.vals[i] > 15 {
				return FormatError("bad Huffman table")
			}
		}
	}
	return nil
}

// bitReader reads the bits of an entropy-coded segment. Bits are kept
// left-aligned in acc. When a marker (or the end of input) is reached, zero
// bits are supplied, exactly as libjpeg does; pad counts them so that a
// decoder that actually consumed them can report the damage.
type bitReader struct {
	src    *source
	acc    uint64
	n      int // valid bits in acc, including padding
	pad    int // zero bits appended after a marker or the end of input
	marker int // marker code that ended the segment, 0 if none yet, -1 at EOF
}

// reset discards buffered bits (libjpeg's process_restart / start of scan).
func (br *bitReader) reset() {
	br.acc, br.n, br.pad = 0, 0, 0
}

// fill loads bytes until at least 57 bits are buffered.
func (br *bitReader) fill() {
	s := br.src
	for br.n <= 56 {
		if br.marker == 0 {
			if s.pos < len(s.buf) {
				c := s.buf[s.pos]
				if c != 0xFF {
					s.pos++
					br.acc |= uint64(c) << (56 - br.n)
					br.n += 8
					continue
				}
			}
			c, ok := br.slowByte()
			if ok {
				br.acc |= uint64(c) << (56 - br.n)
				br.n += 8
				continue
			}
		}
		// Past the end of the segment: append zero bits.
		br.n += 8
		br.pad += 8
	}
}

// slowByte returns the next data byte, handling the end of the buffer and
// 0xFF bytes: FF 00 is a data byte 0xFF (so are FF FF ... 00, as in
// libjpeg), while FF followed by anything else is a marker, which ends the
// segment.
func (br *bitReader) slowByte() (byte, bool) {
	s := br.src
	if s.pos >= len(s.buf) && !s.fill() {
		br.marker = -1
		return 0, false
	}
	c := s.buf[s.pos]
	s.pos++
	if c != 0xFF {
		return c, true
	}
	for {
		if s.pos >= len(s.buf) && !s.fill() {
			br.marker = -1
			return 0, false
		}
		c = s.buf[s.pos]
		s.pos++
		if c != 0xFF {
			break
		}
	}
	if c == 0 {
		return 0xFF, true
	}
	br.marker = int(c)
	return 0, false
}

// bits returns the next n (0 < n <= 16) bits. The caller must have ensured
// that at least n bits are buffered.
func (br *bitReader) bits(n int) int {
	v := int(br.acc >> (64 - uint(n)))
	br.acc <<= uint(n)
	br.n -= n
	return v
}

// decode reads one Huffman-coded symbol. It fails on a bit pattern that is
// not a code of the table (libjpeg warns "bad Huffman code" and substitutes
// symbol 0).
func (br *bitReader) decode(t *huffTable) (int, error) {
	if br.n < 32 {
		br.fill()
	}
	if e := t.lookup[br.acc>>(64-lookBits)]; e != 0 {
		l := int(e >> 8)
		br.acc <<= uint(l)
		br.n -= l
		return int(e & 0xFF), nil
	}
	l := lookBits + 1
	code := int32(br.acc >> (64 - uint(l)))
	for code > t.maxcode[l] {
		l++
		if l > 16 {
			return 0, FormatError("corrupt JPEG data: bad Huffman code")
		}
		code = int32(br.acc >> (64 - uint(l)))
	}
	br.acc <<= uint(l)
	br.n -= l
	return int(t.vals[(code+t.valoffset[l])&0xFF]), nil
}

// receiveExtend reads s (1..15) magnitude bits and sign-extends them as in
// section F.2.2.1 (libjpeg's HUFF_EXTEND).
func (br *bitReader) receiveExtend(s int) int {
	if br.n < s {
		br.fill()
	}
	v := br.bits(s)
	if v < 1<<(s-1) {
		v += (-1 << s) + 1
	}
	return v
}

// overrun reports whether decoding consumed padding bits, i.e. the segment
// ended before the data it was supposed to hold.
func (br *bitReader) overrun() bool { return br.n < br.pad }

// overrunError describes an overrun.
func (br *bitReader) overrunError() error {
	if br.marker == -1 {
		return br.src.truncated()
	}
	return FormatError("corrupt JPEG data: premature end of data segment")
}
