package jpeg

import "fmt"

// scanState is the entropy decoder state carried across the MCUs of a scan.
type scanState struct {
	lastDC [4]int32 // DC predictors per scan component (int in libjpeg)
	eobrun uint32   // progressive end-of-band run
}

// decodeScan decodes one scan: it validates the scan parameters, latches
// quantization tables, derives the Huffman tables (or resets the arithmetic
// decoder's statistics), and then walks the MCUs,
// handling restart markers. On return d.br.marker holds the marker that ended
// the entropy-coded segment, if the bit reader reached it.
func (d *decoder) decodeScan(s *scan) error {
	if d.progressive {
		if err := d.startProgressiveScan(s); err != nil {
			return err
		}
	} else if !d.arithmetic {
		for _, c := range s.comps {
			if err := d.buildTable(0, c.dcTbl); err != nil {
				return err
			}
			if err := d.buildTable(1, c.acTbl); err != nil {
				return err
			}
		}
	}
	if err := d.latchQuant(s); err != nil {
		return err
	}

	// per_scan_setup: MCU geometry.
	var mcusX, mcusY, blocksInMCU int
	if len(s.comps) == 1 {
		c := s.comps[0]
		mcusX, mcusY = c.widthInBlocks, c.heightInBlocks
		blocksInMCU = 1
	} else {
		mcusX = ceilDiv(d.width, d.maxH*8)
		mcusY = ceilDiv(d.height, d.maxV*8)
		for _, c := range s.comps {
			blocksInMCU += c.h * c.v
		}
		if blocksInMCU > 10 {
			return FormatError("too many blocks in an MCU")
		}
	}

	d.br.reset()
	d.br.marker = 0
	if d.arithmetic {
		d.arith.start(s, d.progressive)
	}
	var st scanState
	restartsToGo := d.restartInterval
	nextRestart := 0
	var tmp [64]int16
	for my := 0; my < mcusY; my++ {
		for _, c := range s.comps {
			if len(s.comps) == 1 {
				d.growRows(c, my+1)
			} else {
				d.growRows(c, (my+1)*c.v)
			}
		}
		for mx := 0; mx < mcusX; mx++ {
			if d.restartInterval != 0 {
				if restartsToGo == 0 {
					if err := d.processRestart(nextRestart); err != nil {
						return err
					}
					nextRestart = (nextRestart + 1) & 7
					st = scanState{}
					if d.arithmetic {
						d.arith.start(s, d.progressive)
					}
					restartsToGo = d.restartInterval
				}
				restartsToGo--
			}
			var err error
			switch {
			case len(s.comps) == 1:
				c := s.comps[0]
				err = d.decodeBlock(s, c, &st, 0, mx, my, &tmp)
			default:
				for ci, c := range s.comps {
					for y := 0; y < c.v && err == nil; y++ {
						for x := 0; x < c.h && err == nil; x++ {
							err = d.decodeBlock(s, c, &st, ci, mx*c.h+x, my*c.v+y, &tmp)
						}
					}
				}
			}
			if err != nil {
				return err
			}
			if d.br.overrun() {
				return d.br.overrunError()
			}
			if d.arithmetic && d.br.marker < 0 {
				// Zero bytes past a marker are legitimate arithmetic-coded
				// data, but the input ended before any marker: truncated.
				return d.src.truncated()
			}
		}
	}
	return nil
}

// decodeBlock decodes one block of an MCU at block position (bx, by) of
// component c, which is the ci'th component of the scan.
func (d *decoder) decodeBlock(s *scan, c *component, st *scanState, ci, bx, by int, tmp *[64]int16) error {
	if !d.multiScan {
		// Single-scan image: decode into a zeroed block and transform it
		// at once (decompress_onepass). Dummy blocks past the edge are
		// decoded but not transformed.
		*tmp = [64]int16{}
		var err error
		if d.arithmetic {
			err = d.decodeArithSequential(tmp, c, st, ci)
		} else {
			err = d.decodeSequential(tmp, &d.dc[c.dcTbl], &d.ac[c.acTbl], &st.lastDC[ci])
		}
		if err != nil {
			return err
		}
		if bx < c.widthInBlocks && by < c.heightInBlocks {
			idctIslow(tmp, &c.qmul, c.plane[by*8*c.stride+bx*8:], c.stride)
		}
		return nil
	}
	blk := (*[64]int16)(c.coefs[(by*c.bw+bx)*64:])
	switch {
	case d.arithmetic && d.progressive:
		return d.decodeArithProgressive(blk, s, c, st, ci)
	case d.arithmetic:
		return d.decodeArithSequential(blk, c, st, ci)
	}
	if !d.progressive {
		// Multi-scan sequential file: coefficients accumulate in the
		// pre-zeroed whole-image buffer.
		return d.decodeSequential(blk, &d.dc[c.dcTbl], &d.ac[c.acTbl], &st.lastDC[ci])
	}
	switch {
	case s.ss == 0 && s.ah == 0:
		return d.decodeDCFirst(blk, &d.dc[c.dcTbl], &st.lastDC[ci], s.al)
	case s.ss == 0:
		return d.decodeDCRefine(blk, s.al)
	case s.ah == 0:
		return d.decodeACFirst(blk, &d.ac[c.acTbl], st, s.ss, s.se, s.al)
	default:
		return d.decodeACRefine(blk, &d.ac[c.acTbl], st, s.ss, s.se, s.al)
	}
}

// buildTable derives Huffman table (class, index) for the current scan.
func (d *decoder) buildTable(class, index int) error {
	if index >= 4 || d.huff[class][index] == nil {
		return FormatError(fmt.Sprintf("Huffman table 0x%02x was not defined", index))
	}
	if class == 0 {
		return d.dc[index].build(d.huff[0][index], true)
	}
	return d.ac[index].build(d.huff[1][index], false)
}

// processRestart discards the remaining bits of the interval and reads the
// expected RSTn marker, resynchronising like jpeg_resync_to_restart when
// the marker is not the expected one.
func (d *decoder) processRestart(expected int) error {
	marker := d.br.marker
	d.br.reset()
	d.br.marker = 0
	if marker < 0 {
		return d.src.truncated()
	}
	if marker == 0 {
		m, err := d.nextMarker()
		if err != nil {
			return err
		}
		marker = m
	}
	if marker == mRST0+expected {
		return nil
	}
	for {
		action := 1
		switch {
		case marker < mSOF0:
			action = 2
		case marker < mRST0 || marker > mRST7:
			action = 3
		case marker == mRST0+((expected+1)&7) || marker == mRST0+((expected+2)&7):
			action = 3
		case marker == mRST0+((expected-1)&7) || marker == mRST0+((expected-2)&7):
			action = 2
		}
		switch action {
		case 1:
			return nil
		case 2:
			m, err := d.nextMarker()
			if err != nil {
				return err
			}
			marker = m
		default:
			// libjpeg would leave the marker in place and decode the next
			// restart interval from zero bits (a gray stripe).
			return FormatError(fmt.Sprintf("corrupt JPEG data: found marker 0x%02X instead of RST%d", marker, expected))
		}
	}
}
