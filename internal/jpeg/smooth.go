package jpeg

// This file implements libjpeg-turbo's inter-block smoothing for progressive
// images whose low-frequency coefficients are not all fully coded
// (do_block_smoothing, on by default): jdcoefct.c's smoothing_ok and
// decompress_smooth_data. A missing or incompletely refined coefficient among
// the first nine AC coefficients is estimated from the DC values of the
// surrounding 5x5 blocks; when no AC data at all is present the DC value is
// re-estimated too. Images whose scans code every coefficient fully are not
// affected.
//
// libjpeg-turbo 3.0 changed which neighbouring blocks are used at image and
// iMCU-row edges (Pillow 13 ships 3.2.0; Debian 12's djpeg is 2.1.5). The
// default follows 3.x; decoder.legacySmoothing selects the 2.x rules.

// Positions (natural order) of the coefficients that smoothing estimates.
const (
	q01 = 1
	q10 = 8
	q20 = 16
	q11 = 9
	q02 = 2
	q03 = 3
	q12 = 10
	q21 = 17
	q30 = 24
)

// smoothingOK reports whether block smoothing applies (smoothing_ok).
func (d *decoder) smoothingOK() bool {
	useful := false
	for i := range d.comps {
		c := &d.comps[i]
		if c.qt == nil {
			return false
		}
		q := c.qt
		if q[0] == 0 || q[q01] == 0 || q[q10] == 0 || q[q20] == 0 || q[q11] == 0 ||
			q[q02] == 0 || q[q03] == 0 || q[q12] == 0 || q[q21] == 0 || q[q30] == 0 {
			return false
		}
		if c.coefBits[0] < 0 {
			return false
		}
		for k := 1; k < 10; k++ {
			if c.coefBits[k] != 0 {
				useful = true
			}
		}
	}
	return useful
}

// predict estimates a coefficient from num as libjpeg does, limiting the
// estimate to the bits not yet coded (al > 0).
func predict(num, q int, al int) int16 {
	var pred int
	if num >= 0 {
		pred = ((q << 7) + num) / (q << 8)
		if al > 0 && pred >= 1<<al {
			pred = 1<<al - 1
		}
	} else {
		pred = ((q << 7) - num) / (q << 8)
		if al > 0 && pred >= 1<<al {
			pred = 1<<al - 1
		}
		pred = -pred
	}
	return int16(pred)
}

// smoothComponent transforms all blocks of c with smoothing, walking the
// image in iMCU rows so that libjpeg's choice of neighbouring block rows at
// iMCU-row boundaries is reproduced exactly.
func (d *decoder) smoothComponent(c *component) {
	lastIMCU := d.totalIMCURows - 1
	cb := c.coefBits
	changeDC := true
	for k := 1; k <= 9; k++ {
		if cb[k] != -1 {
			changeDC = false
		}
	}
	Q00 := int(c.qt[0])
	Q01, Q10, Q20 := int(c.qt[q01]), int(c.qt[q10]), int(c.qt[q20])
	Q11, Q02 := int(c.qt[q11]), int(c.qt[q02])
	Q03, Q12, Q21, Q30 := int(c.qt[q03]), int(c.qt[q12]), int(c.qt[q21]), int(c.qt[q30])
	dcAt := func(row, col int) int { return int(c.coefs[(row*c.bw+col)*64]) }
	lastCol := c.widthInBlocks - 1

	for imcu := 0; imcu <= lastIMCU; imcu++ {
		blockRows := c.v
		if imcu == lastIMCU {
			blockRows = c.heightInBlocks % c.v
			if blockRows == 0 {
				blockRows = c.v
			}
		}
		for br := 0; br < blockRows; br++ {
			row := imcu*c.v + br
			var hasPrev, hasPrev2, hasNext, hasNext2 bool
			if d.legacySmoothing {
				// libjpeg-turbo 2.x: decided within the iMCU-row structure.
				hasPrev = br > 0 || imcu > 0
				hasPrev2 = br > 1 || imcu > 1
				hasNext = br < blockRows-1 || imcu < lastIMCU
				hasNext2 = br < blockRows-2 || imcu+1 < lastIMCU
			} else {
				// libjpeg-turbo 3.x: decided from an image block row
				// index computed with this iMCU row's block_rows (which is
				// smaller in a partial last iMCU row, so the index is not
				// always the real row number; reproduced as is).
				imageRow := imcu*blockRows + br
				imageRows := blockRows * d.totalIMCURows
				hasPrev = imageRow > 0
				hasPrev2 = imageRow > 1
				hasNext = imageRow < imageRows-1
				hasNext2 = imageRow < imageRows-2
			}
			prev, prev2, next, next2 := row, row, row, row
			if hasPrev {
				prev = row - 1
			}
			prev2 = prev
			if hasPrev2 {
				prev2 = row - 2
			}
			if hasNext {
				next = row + 1
			}
			next2 = next
			if hasNext2 {
				next2 = row + 2
			}
			rows := [5]int{prev2, prev, row, next, next2}
			// dc[r][k]: the DC of block row rows[r], column (bn-2+k).
			var dc [5][5]int
			for r := 0; r < 5; r++ {
				v := dcAt(rows[r], 0)
				dc[r] = [5]int{v, v, v, v, v}
			}
			for bn := 0; bn <= lastCol; bn++ {
				var ws [64]int16
				copy(ws[:], c.coefs[(row*c.bw+bn)*64:(row*c.bw+bn)*64+64])
				if bn == 0 && bn < lastCol {
					for r := 0; r < 5; r++ {
						dc[r][3] = dcAt(rows[r], 1)
						if !d.legacySmoothing {
							// 3.x also seeds the column after next.
							dc[r][4] = dc[r][3]
						}
					}
				}
				if bn+1 < lastCol {
					for r := 0; r < 5; r++ {
						dc[r][4] = dcAt(rows[r], bn+2)
					}
				}
				// libjpeg's DC01..DC25, row by row.
				DC01, DC02, DC03, DC04, DC05 := dc[0][0], dc[0][1], dc[0][2], dc[0][3], dc[0][4]
				DC06, DC07, DC08, DC09, DC10 := dc[1][0], dc[1][1], dc[1][2], dc[1][3], dc[1][4]
				DC11, DC12, DC13, DC14, DC15 := dc[2][0], dc[2][1], dc[2][2], dc[2][3], dc[2][4]
				DC16, DC17, DC18, DC19, DC20 := dc[3][0], dc[3][1], dc[3][2], dc[3][3], dc[3][4]
				DC21, DC22, DC23, DC24, DC25 := dc[4][0], dc[4][1], dc[4][2], dc[4][3], dc[4][4]

				if al := cb[1]; al != 0 && ws[1] == 0 {
					var num int
					if changeDC {
						num = Q00 * (-DC01 - DC02 + DC04 + DC05 - 3*DC06 + 13*DC07 -
							13*DC09 + 3*DC10 - 3*DC11 + 38*DC12 - 38*DC14 +
							3*DC15 - 3*DC16 + 13*DC17 - 13*DC19 + 3*DC20 -
							DC21 - DC22 + DC24 + DC25)
					} else {
						num = Q00 * (-7*DC11 + 50*DC12 - 50*DC14 + 7*DC15)
					}
					ws[1] = predict(num, Q01, al)
				}
				if al := cb[2]; al != 0 && ws[8] == 0 {
					var num int
					if changeDC {
						num = Q00 * (-DC01 - 3*DC02 - 3*DC03 - 3*DC04 - DC05 - DC06 +
							13*DC07 + 38*DC08 + 13*DC09 - DC10 + DC16 -
							13*DC17 - 38*DC18 - 13*DC19 + DC20 + DC21 +
							3*DC22 + 3*DC23 + 3*DC24 + DC25)
					} else {
						num = Q00 * (-7*DC03 + 50*DC08 - 50*DC18 + 7*DC23)
					}
					ws[8] = predict(num, Q10, al)
				}
				if al := cb[3]; al != 0 && ws[16] == 0 {
					var num int
					if changeDC {
						num = Q00 * (DC03 + 2*DC07 + 7*DC08 + 2*DC09 - 5*DC12 - 14*DC13 -
							5*DC14 + 2*DC17 + 7*DC18 + 2*DC19 + DC23)
					} else {
						num = Q00 * (-DC03 + 13*DC08 - 24*DC13 + 13*DC18 - DC23)
					}
					ws[16] = predict(num, Q20, al)
				}
				if al := cb[4]; al != 0 && ws[9] == 0 {
					var num int
					if changeDC {
						num = Q00 * (-DC01 + DC05 + 9*DC07 - 9*DC09 - 9*DC17 +
							9*DC19 + DC21 - DC25)
					} else {
						num = Q00 * (DC10 + DC16 - 10*DC17 + 10*DC19 - DC02 - DC20 + DC22 -
							DC24 + DC04 - DC06 + 10*DC07 - 10*DC09)
					}
					ws[9] = predict(num, Q11, al)
				}
				if al := cb[5]; al != 0 && ws[2] == 0 {
					var num int
					if changeDC {
						num = Q00 * (2*DC07 - 5*DC08 + 2*DC09 + DC11 + 7*DC12 - 14*DC13 +
							7*DC14 + DC15 + 2*DC17 - 5*DC18 + 2*DC19)
					} else {
						num = Q00 * (-DC11 + 13*DC12 - 24*DC13 + 13*DC14 - DC15)
					}
					ws[2] = predict(num, Q02, al)
				}
				if changeDC {
					if al := cb[6]; al != 0 && ws[3] == 0 {
						num := Q00 * (DC07 - DC09 + 2*DC12 - 2*DC14 + DC17 - DC19)
						ws[3] = predict(num, Q03, al)
					}
					if al := cb[7]; al != 0 && ws[10] == 0 {
						num := Q00 * (DC07 - 3*DC08 + DC09 - DC17 + 3*DC18 - DC19)
						ws[10] = predict(num, Q12, al)
					}
					if al := cb[8]; al != 0 && ws[17] == 0 {
						num := Q00 * (DC07 - DC09 - 3*DC12 + 3*DC14 + DC17 - DC19)
						ws[17] = predict(num, Q21, al)
					}
					if al := cb[9]; al != 0 && ws[24] == 0 {
						num := Q00 * (DC07 + 2*DC08 + DC09 - DC17 - 2*DC18 - DC19)
						ws[24] = predict(num, Q30, al)
					}
					num := Q00 * (-2*DC01 - 6*DC02 - 8*DC03 - 6*DC04 - 2*DC05 -
						6*DC06 + 6*DC07 + 42*DC08 + 6*DC09 - 6*DC10 -
						8*DC11 + 42*DC12 + 152*DC13 + 42*DC14 - 8*DC15 -
						6*DC16 + 6*DC17 + 42*DC18 + 6*DC19 - 6*DC20 -
						2*DC21 - 6*DC22 - 8*DC23 - 6*DC24 - 2*DC25)
					ws[0] = predict(num, Q00, 0)
				}
				idctIslow(&ws, &c.qmul, c.plane[row*8*c.stride+bn*8:], c.stride)
				// Slide the 5x5 window one column to the right.
				for r := 0; r < 5; r++ {
					dc[r][0], dc[r][1], dc[r][2], dc[r][3] = dc[r][1], dc[r][2], dc[r][3], dc[r][4]
				}
			}
		}
	}
}
