package jpeg

import (
	"fmt"
	"math"
)

// startProgressiveScan validates a progressive scan's parameters, updates the
// per-coefficient progression state used by block smoothing, and derives the
// Huffman tables it needs (start_pass_phuff_decoder in jdphuff.c; jdarith.c's
// start_pass validates and records arithmetic-coded scans the same way).
// Inconsistent progressions (e.g. an AC scan before any DC scan) are only
// warnings in libjpeg and are accepted here too.
func (d *decoder) startProgressiveScan(s *scan) error {
	isDC := s.ss == 0
	bad := false
	if isDC {
		bad = s.se != 0
	} else {
		bad = s.ss > s.se || s.se >= 64 || len(s.comps) != 1
	}
	if s.ah != 0 && s.al != s.ah-1 {
		bad = true
	}
	if s.al > 13 {
		bad = true
	}
	if bad {
		return FormatError(fmt.Sprintf("invalid progressive parameters Ss=%d Se=%d Ah=%d Al=%d", s.ss, s.se, s.ah, s.al))
	}
	for _, c := range s.comps {
		for k := s.ss; k <= s.se; k++ {
			c.coefBits[k] = s.al
		}
	}
	if d.arithmetic {
		return nil // no tables to derive: arith.go keeps statistics instead
	}
	for _, c := range s.comps {
		if isDC {
			if s.ah == 0 {
				if err := d.buildTable(0, c.dcTbl); err != nil {
					return err
				}
			}
		} else if err := d.buildTable(1, c.acTbl); err != nil {
			return err
		}
	}
	return nil
}

// decodeDCFirst decodes the first scan of a DC coefficient
// (decode_mcu_DC_first). Unlike the sequential decoder, libjpeg-turbo treats
// a DC predictor overflow as a fatal error here.
func (d *decoder) decodeDCFirst(blk *[64]int16, t *huffTable, lastDC *int32, al int) error {
	br := &d.br
	s, err := br.decode(t)
	if err != nil {
		return err
	}
	if s != 0 {
		s = br.receiveExtend(s)
	}
	last := int64(*lastDC)
	if last+int64(s) > math.MaxInt32 || last+int64(s) < math.MinInt32 {
		return FormatError("DCT coefficient out of range")
	}
	*lastDC = int32(last + int64(s))
	blk[0] = int16(*lastDC << uint(al))
	return nil
}

// decodeDCRefine adds one bit of DC precision (decode_mcu_DC_refine).
func (d *decoder) decodeDCRefine(blk *[64]int16, al int) error {
	br := &d.br
	if br.n < 1 {
		br.fill()
	}
	if br.bits(1) != 0 {
		blk[0] |= int16(1 << uint(al))
	}
	return nil
}

// decodeACFirst decodes the first scan of a spectral band
// (decode_mcu_AC_first), including end-of-band runs.
func (d *decoder) decodeACFirst(blk *[64]int16, t *huffTable, st *scanState, ss, se, al int) error {
	if st.eobrun > 0 {
		st.eobrun--
		return nil
	}
	br := &d.br
	for k := ss; k <= se; k++ {
		rs, err := br.decode(t)
		if err != nil {
			return err
		}
		r := rs >> 4
		s := rs & 15
		if s != 0 {
			k += r
			v := br.receiveExtend(s)
			blk[naturalOrder[k]] = int16(v << uint(al))
		} else {
			if r == 15 {
				k += 15
				continue
			}
			eob := uint32(1) << uint(r)
			if r != 0 {
				if br.n < r {
					br.fill()
				}
				eob += uint32(br.bits(r))
			}
			st.eobrun = eob - 1
			break
		}
	}
	return nil
}

// decodeACRefine adds one bit of precision to a spectral band
// (decode_mcu_AC_refine): correction bits for already-nonzero coefficients
// and newly nonzero coefficients of magnitude 1<<al.
func (d *decoder) decodeACRefine(blk *[64]int16, t *huffTable, st *scanState, ss, se, al int) error {
	br := &d.br
	p1 := int16(1) << uint(al)
	m1 := int16(-1) << uint(al)
	k := ss
	refine := func(coef *int16) {
		if br.n < 1 {
			br.fill()
		}
		if br.bits(1) != 0 && *coef&p1 == 0 {
			if *coef >= 0 {
				*coef += p1
			} else {
				*coef += m1
			}
		}
	}
	if st.eobrun == 0 {
		for ; k <= se; k++ {
			rs, err := br.decode(t)
			if err != nil {
				return err
			}
			r := rs >> 4
			s := rs & 15
			var v int16
			if s != 0 {
				// libjpeg warns if s != 1 but proceeds as if it were 1.
				if br.n < 1 {
					br.fill()
				}
				if br.bits(1) != 0 {
					v = p1
				} else {
					v = m1
				}
			} else if r != 15 {
				st.eobrun = 1 << uint(r)
				if r != 0 {
					if br.n < r {
						br.fill()
					}
					st.eobrun += uint32(br.bits(r))
				}
				break
			}
			for k <= se {
				coef := &blk[naturalOrder[k]]
				if *coef != 0 {
					refine(coef)
				} else {
					r--
					if r < 0 {
						break
					}
				}
				k++
			}
			if v != 0 {
				blk[naturalOrder[k]] = v
			}
		}
	}
	if st.eobrun > 0 {
		for ; k <= se; k++ {
			coef := &blk[naturalOrder[k]]
			if *coef != 0 {
				refine(coef)
			}
		}
		st.eobrun--
	}
	return nil
}
