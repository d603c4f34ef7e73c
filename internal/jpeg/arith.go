package jpeg

import "fmt"

// This file decodes arithmetic-coded scans (SOF9 sequential, SOF10
// progressive): the binary arithmetic decoder of ITU-T T.81 Annex D, the
// DC/AC decision trees and statistics-bin layout of section F.1.4.4 and
// F.2.4, and the progressive procedures of G.1.3 and G.2. The decisions and
// coefficients are those of libjpeg-turbo's jdarith.c, including its
// register layout (the code register C holds the interval base and the
// unread input bits, split by the shift counter CT) and its rule for data
// after a marker: arithmetic-coded segments may end early, and zero bytes
// are supplied from the marker on. Where jdarith.c only warns (a magnitude or
// spectral overflow, after which it decodes nothing until the next restart)
// this decoder returns a FormatError, as the Huffman path does for a bad
// code.

// Statistics-area sizes (T.81 F.1.4.4.1.3 and F.1.4.4.2 need at least 49
// DC and 245 AC bins). A bin is one byte: the more probable symbol in bit 7,
// the index into qeTable in bits 0-6.
const (
	dcStatBins = 64
	acStatBins = 256
	// numArithTables is the number of conditioning tables a scan can select
	// (the 4-bit selectors of an SOS header).
	numArithTables = 16
	// fixedBin is the state used for decisions coded with probability 0.5
	// (signs of AC coefficients, refinement bits): T.851's table entry 113.
	fixedBin = 113
)

// qeState is one row of T.81 Table D.2: the LPS probability estimate Qe and
// the next state after an MPS or an LPS decision. nextLPS has bit 7 set when
// the row's Switch_MPS is 1, so that XOR-ing it into a bin also exchanges
// the sense of the MPS.
type qeState struct {
	qe               uint16
	nextMPS, nextLPS byte
}

const switchMPS = 0x80

// qeTable is T.81 Table D.2 (Qe, Next_Index_MPS, Next_Index_LPS with
// Switch_MPS), followed by the fixed 0.5 estimate at index 113.
var qeTable = [114]qeState{
	{0x5a1d, 1, 1 | switchMPS}, {0x2586, 2, 14}, {0x1114, 3, 16}, {0x080b, 4, 18},
	{0x03d8, 5, 20}, {0x01da, 6, 23}, {0x00e5, 7, 25}, {0x006f, 8, 28},
	{0x0036, 9, 30}, {0x001a, 10, 33}, {0x000d, 11, 35}, {0x0006, 12, 9},
	{0x0003, 13, 10}, {0x0001, 13, 12}, {0x5a7f, 15, 15 | switchMPS}, {0x3f25, 16, 36},
	{0x2cf2, 17, 38}, {0x207c, 18, 39}, {0x17b9, 19, 40}, {0x1182, 20, 42},
	{0x0cef, 21, 43}, {0x09a1, 22, 45}, {0x072f, 23, 46}, {0x055c, 24, 48},
	{0x0406, 25, 49}, {0x0303, 26, 51}, {0x0240, 27, 52}, {0x01b1, 28, 54},
	{0x0144, 29, 56}, {0x00f5, 30, 57}, {0x00b7, 31, 59}, {0x008a, 32, 60},
	{0x0068, 33, 62}, {0x004e, 34, 63}, {0x003b, 35, 32}, {0x002c, 9, 33},
	{0x5ae1, 37, 37 | switchMPS}, {0x484c, 38, 64}, {0x3a0d, 39, 65}, {0x2ef1, 40, 67},
	{0x261f, 41, 68}, {0x1f33, 42, 69}, {0x19a8, 43, 70}, {0x1518, 44, 72},
	{0x1177, 45, 73}, {0x0e74, 46, 74}, {0x0bfb, 47, 75}, {0x09f8, 48, 77},
	{0x0861, 49, 78}, {0x0706, 50, 79}, {0x05cd, 51, 48}, {0x04de, 52, 50},
	{0x040f, 53, 50}, {0x0363, 54, 51}, {0x02d4, 55, 52}, {0x025c, 56, 53},
	{0x01f8, 57, 54}, {0x01a4, 58, 55}, {0x0160, 59, 56}, {0x0125, 60, 57},
	{0x00f6, 61, 58}, {0x00cb, 62, 59}, {0x00ab, 63, 61}, {0x008f, 32, 61},
	{0x5b12, 65, 65 | switchMPS}, {0x4d04, 66, 80}, {0x412c, 67, 81}, {0x37d8, 68, 82},
	{0x2fe8, 69, 83}, {0x293c, 70, 84}, {0x2379, 71, 86}, {0x1edf, 72, 87},
	{0x1aa9, 73, 87}, {0x174e, 74, 72}, {0x1424, 75, 72}, {0x119c, 76, 74},
	{0x0f6b, 77, 74}, {0x0d51, 78, 75}, {0x0bb6, 79, 77}, {0x0a40, 48, 77},
	{0x5832, 81, 80 | switchMPS}, {0x4d1c, 82, 88}, {0x438e, 83, 89}, {0x3bdd, 84, 90},
	{0x34ee, 85, 91}, {0x2eae, 86, 92}, {0x299a, 87, 93}, {0x2516, 71, 86},
	{0x5570, 89, 88 | switchMPS}, {0x4ca9, 90, 95}, {0x44d9, 91, 96}, {0x3e22, 92, 97},
	{0x3824, 93, 99}, {0x32b4, 94, 99}, {0x2e17, 86, 93}, {0x56a8, 96, 95 | switchMPS},
	{0x4f46, 97, 101}, {0x47e5, 98, 102}, {0x41cf, 99, 103}, {0x3c3d, 100, 104},
	{0x375e, 93, 99}, {0x5231, 102, 105}, {0x4c0f, 103, 106}, {0x4639, 104, 107},
	{0x415e, 99, 103}, {0x5627, 106, 105 | switchMPS}, {0x50e7, 107, 108}, {0x4b85, 103, 109},
	{0x5597, 109, 110}, {0x504f, 107, 111}, {0x5a10, 111, 110 | switchMPS}, {0x5522, 109, 112},
	{0x59eb, 111, 112 | switchMPS},
	{0x5a1d, 113, 113}, // fixed probability 0.5 (T.851 Table 5)
}

// conditioning holds the arithmetic-coding conditioning parameters of the
// DAC marker (T.81 B.2.4.3), per table: the DC lower and upper bounds L and
// U (F.1.4.4.1.2) and the AC threshold Kx (F.1.4.4.2.1). They persist
// across scans and are reset to the defaults L=0, U=1, Kx=5 at SOI.
type conditioning struct {
	dcL, dcU, acK [numArithTables]uint8
}

func (c *conditioning) reset() {
	for i := range c.dcL {
		c.dcL[i], c.dcU[i], c.acK[i] = 0, 1, 5
	}
}

// arithDecoder is the state of the arithmetic decoder for the current scan.
// It reads the entropy-coded segment through the decoder's bitReader (for
// its byte unstuffing and marker detection) but keeps no bits there.
type arithDecoder struct {
	c  int64 // code register: interval base and unread input bits
	a  int64 // interval size, normalised to [0x8000, 0x10000) between decisions
	ct int   // bits of input left in c below the base; -16 before the first 2 bytes

	dcContext [4]int // per scan component: DC statistics offset S0 (Table F.4)
	dcStats   [numArithTables][dcStatBins]byte
	acStats   [numArithTables][acStatBins]byte
	fixed     byte
}

// errArithCode is jdarith.c's JWRN_ARITH_BAD_CODE: a magnitude category of
// 2^15 or more, or a run of zero AC coefficients past the end of the band.
var errArithCode = FormatError("corrupt JPEG data: bad arithmetic code")

// start prepares for a scan or, after a restart marker, for its next
// interval: it clears the statistics of the tables the scan uses (DC ones
// except in progressive AC and DC refinement scans, AC ones except in
// progressive DC scans) and re-initialises the code registers so that the
// next decision reads two fresh bytes.
func (ar *arithDecoder) start(s *scan, progressive bool) {
	for ci, c := range s.comps {
		if !progressive || (s.ss == 0 && s.ah == 0) {
			ar.dcStats[c.dcTbl] = [dcStatBins]byte{}
			ar.dcContext[ci] = 0
		}
		if !progressive || s.ss != 0 {
			ar.acStats[c.acTbl] = [acStatBins]byte{}
		}
	}
	ar.fixed = fixedBin
	ar.c, ar.a, ar.ct = 0, 0, -16
}

// decode returns one binary decision coded with the statistics bin st, and
// updates the bin (T.81 D.2.4-D.2.6, in jdarith.c's register layout).
func (ar *arithDecoder) decode(br *bitReader, st *byte) int {
	// Renormalisation and input (D.2.6); after the marker that ends the
	// segment, or the end of input, zero bytes are supplied.
	for ar.a < 0x8000 {
		ar.ct--
		if ar.ct < 0 {
			data := byte(0)
			if br.marker == 0 {
				if b, ok := br.slowByte(); ok {
					data = b
				}
			}
			ar.c = ar.c<<8 | int64(data)
			ar.ct += 8
			if ar.ct < 0 {
				// Still reading the two initial bytes.
				ar.ct++
				if ar.ct == 0 {
					ar.a = 0x8000 // becomes 0x10000 below
				}
			}
		}
		ar.a <<= 1
	}
	sv := *st
	q := qeTable[sv&0x7f]
	qe := int64(q.qe)
	ar.a -= qe
	temp := ar.a << uint(ar.ct)
	switch {
	case ar.c >= temp:
		// Lower sub-interval: LPS, unless the conditional exchange makes
		// it the MPS (D.2.4).
		ar.c -= temp
		if ar.a < qe {
			*st = sv&0x80 ^ q.nextMPS
		} else {
			*st = sv&0x80 ^ q.nextLPS
			sv ^= 0x80
		}
		ar.a = qe
	case ar.a < 0x8000:
		// Upper sub-interval needing renormalisation: MPS, or LPS by
		// conditional exchange.
		if ar.a < qe {
			*st = sv&0x80 ^ q.nextLPS
			sv ^= 0x80
		} else {
			*st = sv&0x80 ^ q.nextMPS
		}
	}
	return int(sv >> 7)
}

// decodeDCDiff decodes a DC difference with DC table tbl for the ci'th scan
// component (figures F.19, F.21-F.24) and updates its conditioning context
// (F.1.4.4.1.2). The result fits in 16 bits.
func (ar *arithDecoder) decodeDCDiff(br *bitReader, cond *conditioning, tbl, ci int) (int32, error) {
	stats := &ar.dcStats[tbl]
	s0 := ar.dcContext[ci]
	if ar.decode(br, &stats[s0]) == 0 {
		ar.dcContext[ci] = 0
		return 0, nil
	}
	sign := ar.decode(br, &stats[s0+1])
	st := s0 + 2 + sign
	// Magnitude category: m = 2^(category-1).
	m := ar.decode(br, &stats[st])
	if m != 0 {
		st = 20 // X1
		for ar.decode(br, &stats[st]) != 0 {
			m <<= 1
			if m == 0x8000 {
				return 0, errArithCode
			}
			st++
		}
	}
	switch {
	case m < (1<<cond.dcL[tbl])>>1:
		ar.dcContext[ci] = 0 // zero difference category
	case m > (1<<cond.dcU[tbl])>>1:
		ar.dcContext[ci] = 12 + sign*4 // large
	default:
		ar.dcContext[ci] = 4 + sign*4 // small
	}
	v := ar.magnitudeBits(br, stats[:], st+14, m)
	if sign != 0 {
		v = -v
	}
	return int32(v), nil
}

// magnitudeBits decodes the bits of a magnitude below its leading one
// (figure F.24) with bin st, and returns the magnitude |v| = 1 + bits.
func (ar *arithDecoder) magnitudeBits(br *bitReader, stats []byte, st, m int) int {
	v := m
	for m >>= 1; m != 0; m >>= 1 {
		if ar.decode(br, &stats[st]) != 0 {
			v |= m
		}
	}
	return v + 1
}

// decodeAC decodes the AC coefficients ss..se of one block into blk, scaled
// by 2^al (figure F.20 with F.21-F.24), with AC table tbl. Coefficients not
// coded are left as they are.
func (ar *arithDecoder) decodeAC(br *bitReader, cond *conditioning, blk *[64]int16, tbl, ss, se, al int) error {
	stats := &ar.acStats[tbl]
	for k := ss; k <= se; k++ {
		st := 3 * (k - 1)
		if ar.decode(br, &stats[st]) != 0 {
			break // end of block
		}
		for ar.decode(br, &stats[st+1]) == 0 {
			st += 3
			k++
			if k > se {
				return errArithCode
			}
		}
		sign := ar.decode(br, &ar.fixed)
		st += 2
		m := ar.decode(br, &stats[st])
		if m != 0 && ar.decode(br, &stats[st]) != 0 {
			m <<= 1
			st = 217 // X2 for the upper band
			if k <= int(cond.acK[tbl]) {
				st = 189 // X2 for the lower band
			}
			for ar.decode(br, &stats[st]) != 0 {
				m <<= 1
				if m == 0x8000 {
					return errArithCode
				}
				st++
			}
		}
		v := ar.magnitudeBits(br, stats[:], st+14, m)
		if sign != 0 {
			v = -v
		}
		blk[naturalOrder[k]] = int16(v << uint(al))
	}
	return nil
}

// decodeArithSequential decodes one block of a sequential arithmetic scan
// into blk, which must hold zeros where no coefficient is coded (jdarith.c
// decode_mcu). The DC prediction wraps at 16 bits.
func (d *decoder) decodeArithSequential(blk *[64]int16, c *component, st *scanState, ci int) error {
	diff, err := d.arith.decodeDCDiff(&d.br, &d.cond, c.dcTbl, ci)
	if err != nil {
		return err
	}
	st.lastDC[ci] = (st.lastDC[ci] + diff) & 0xffff
	blk[0] = int16(st.lastDC[ci])
	return d.arith.decodeAC(&d.br, &d.cond, blk, c.acTbl, 1, 63, 0)
}

// decodeArithProgressive decodes the part of one block that a progressive
// arithmetic scan codes (G.1.3.2 and G.2; jdarith.c decode_mcu_DC_first,
// decode_mcu_AC_first, decode_mcu_DC_refine, decode_mcu_AC_refine).
func (d *decoder) decodeArithProgressive(blk *[64]int16, s *scan, c *component, st *scanState, ci int) error {
	ar, br := &d.arith, &d.br
	switch {
	case s.ss == 0 && s.ah == 0:
		diff, err := ar.decodeDCDiff(br, &d.cond, c.dcTbl, ci)
		if err != nil {
			return err
		}
		st.lastDC[ci] = (st.lastDC[ci] + diff) & 0xffff
		blk[0] = int16(st.lastDC[ci] << uint(s.al))
	case s.ss == 0:
		// The next bit of the two's-complement DC value.
		if ar.decode(br, &ar.fixed) != 0 {
			blk[0] |= 1 << uint(s.al)
		}
	case s.ah == 0:
		return ar.decodeAC(br, &d.cond, blk, c.acTbl, s.ss, s.se, s.al)
	default:
		return ar.decodeACRefine(br, blk, c.acTbl, s.ss, s.se, s.al)
	}
	return nil
}

// decodeACRefine adds one bit of precision to coefficients ss..se of blk
// (G.1.3.3, figure G.10 and its arithmetic-coded decisions in G.2):
// correction bits for coefficients already nonzero, and new coefficients of
// magnitude 2^al.
func (ar *arithDecoder) decodeACRefine(br *bitReader, blk *[64]int16, tbl, ss, se, al int) error {
	stats := &ar.acStats[tbl]
	p1 := int16(1) << uint(al)
	m1 := int16(-1) << uint(al)
	// EOBx: the end of block of the previous stages.
	kex := se
	for ; kex > 0; kex-- {
		if blk[naturalOrder[kex]] != 0 {
			break
		}
	}
	for k := ss; k <= se; k++ {
		st := 3 * (k - 1)
		if k > kex && ar.decode(br, &stats[st]) != 0 {
			break // end of block
		}
		for {
			coef := &blk[naturalOrder[k]]
			if *coef != 0 {
				if ar.decode(br, &stats[st+2]) != 0 {
					if *coef < 0 {
						*coef += m1
					} else {
						*coef += p1
					}
				}
				break
			}
			if ar.decode(br, &stats[st+1]) != 0 {
				if ar.decode(br, &ar.fixed) != 0 {
					*coef = m1
				} else {
					*coef = p1
				}
				break
			}
			st += 3
			k++
			if k > se {
				return errArithCode
			}
		}
	}
	return nil
}

// processDAC parses arithmetic conditioning definitions (get_dac): pairs of
// a table class and index (0-15 DC, 16-31 AC) and a value.
func (d *decoder) processDAC() error {
	length, err := d.src.read2()
	if err != nil {
		return err
	}
	length -= 2
	for length > 0 {
		b, err := d.src.readN(2)
		if err != nil {
			return err
		}
		length -= 2
		index, val := int(b[0]), b[1]
		switch {
		case index >= 2*numArithTables:
			return FormatError(fmt.Sprintf("bad DAC table index %d", index))
		case index >= numArithTables:
			d.cond.acK[index-numArithTables] = val
		default:
			l, u := val&15, val>>4
			if l > u {
				return FormatError(fmt.Sprintf("bad DAC value 0x%02x (L > U)", val))
			}
			d.cond.dcL[index], d.cond.dcU[index] = l, u
		}
	}
	if length != 0 {
		return FormatError("bad DAC marker length")
	}
	return nil
}
