package jpeg

// decodeSequential decodes one block of a sequential (baseline or extended)
// scan into blk, which must hold zeros where no coefficient is coded
// (decode_mcu_slow in jdhuff.c). The DC predictor is a 32-bit int that wraps
// like libjpeg's, and the stored coefficients are truncated to 16 bits.
func (d *decoder) decodeSequential(blk *[64]int16, dc, ac *huffTable, lastDC *int32) error {
	br := &d.br
	s, err := br.decode(dc)
	if err != nil {
		return err
	}
	if s != 0 {
		s = br.receiveExtend(s)
	}
	*lastDC += int32(s)
	blk[0] = int16(*lastDC)
	for k := 1; k < 64; k++ {
		rs, err := br.decode(ac)
		if err != nil {
			return err
		}
		r := rs >> 4
		s := rs & 15
		if s != 0 {
			k += r
			blk[naturalOrder[k]] = int16(br.receiveExtend(s))
		} else {
			if r != 15 {
				break
			}
			k += 15
		}
	}
	return nil
}
