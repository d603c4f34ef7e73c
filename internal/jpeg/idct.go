package jpeg

// This file is the accurate integer inverse DCT of libjpeg's jidctint.c
// ("islow", JDCT_ISLOW, the default dct_method), for 8-bit samples:
// CONST_BITS = 13, PASS1_BITS = 2, 64-bit intermediates (JLONG), a 32-bit
// (int) workspace between the passes, the same zero-AC shortcuts, and the
// same wrap-around range limiting, so that even out-of-range coefficients
// give libjpeg's numbers.

const (
	constBits = 13
	pass1Bits = 2

	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// idctRangeLimit is libjpeg's post-IDCT range-limit table
// (sample_range_limit + CENTERJSAMPLE), indexed by the descaled output masked
// with RANGE_MASK (1023): it adds 128 and clamps to [0, 255] for outputs in
// [-512, 511] and wraps around outside that range.
var idctRangeLimit = func() (t [1024]byte) {
	for i := range t {
		switch {
		case i < 128:
			t[i] = byte(i + 128)
		case i < 512:
			t[i] = 255
		case i < 896:
			t[i] = 0
		default:
			t[i] = byte(i - 896)
		}
	}
	return t
}()

// idctIslow dequantizes blk with the multipliers q, inverse-transforms it and
// writes the 8x8 samples to dst with the given row stride.
func idctIslow(blk *[64]int16, q *[64]int32, dst []byte, stride int) {
	var ws [64]int32
	_ = dst[7*stride+7]

	// Pass 1: columns from the input, results scaled up by 2**PASS1_BITS.
	for c := 0; c < 8; c++ {
		if blk[8+c] == 0 && blk[16+c] == 0 && blk[24+c] == 0 && blk[32+c] == 0 &&
			blk[40+c] == 0 && blk[48+c] == 0 && blk[56+c] == 0 {
			dc := int32(int(int32(blk[c])*q[c]) << pass1Bits)
			ws[c], ws[8+c], ws[16+c], ws[24+c] = dc, dc, dc, dc
			ws[32+c], ws[40+c], ws[48+c], ws[56+c] = dc, dc, dc, dc
			continue
		}
		// Even part.
		z2 := int(int32(blk[16+c]) * q[16+c])
		z3 := int(int32(blk[48+c]) * q[48+c])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 + z3*(-fix1_847759065)
		tmp3 := z1 + z2*fix0_765366865

		z2 = int(int32(blk[c]) * q[c])
		z3 = int(int32(blk[32+c]) * q[32+c])
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits

		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2

		// Odd part.
		t0 := int(int32(blk[56+c]) * q[56+c])
		t1 := int(int32(blk[40+c]) * q[40+c])
		t2 := int(int32(blk[24+c]) * q[24+c])
		t3 := int(int32(blk[8+c]) * q[8+c])

		z1 = t0 + t3
		z2 = t1 + t2
		z3 = t0 + t2
		z4 := t1 + t3
		z5 := (z3 + z4) * fix1_175875602

		t0 *= fix0_298631336
		t1 *= fix2_053119869
		t2 *= fix3_072711026
		t3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 *= -fix1_961570560
		z4 *= -fix0_390180644

		z3 += z5
		z4 += z5

		t0 += z1 + z3
		t1 += z2 + z4
		t2 += z2 + z3
		t3 += z1 + z4

		const sh = constBits - pass1Bits
		const rnd = 1 << (sh - 1)
		ws[c] = int32((tmp10 + t3 + rnd) >> sh)
		ws[56+c] = int32((tmp10 - t3 + rnd) >> sh)
		ws[8+c] = int32((tmp11 + t2 + rnd) >> sh)
		ws[48+c] = int32((tmp11 - t2 + rnd) >> sh)
		ws[16+c] = int32((tmp12 + t1 + rnd) >> sh)
		ws[40+c] = int32((tmp12 - t1 + rnd) >> sh)
		ws[24+c] = int32((tmp13 + t0 + rnd) >> sh)
		ws[32+c] = int32((tmp13 - t0 + rnd) >> sh)
	}

	// Pass 2: rows from the workspace, descaled by 8 and 2**PASS1_BITS.
	for r := 0; r < 8; r++ {
		w := (*[8]int32)(ws[r*8:])
		out := dst[r*stride : r*stride+8 : r*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 &&
			w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := idctRangeLimit[((int(w[0])+(1<<(pass1Bits+2)))>>(pass1Bits+3))&1023]
			out[0], out[1], out[2], out[3] = v, v, v, v
			out[4], out[5], out[6], out[7] = v, v, v, v
			continue
		}
		z2 := int(w[2])
		z3 := int(w[6])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 + z3*(-fix1_847759065)
		tmp3 := z1 + z2*fix0_765366865

		tmp0 := (int(w[0]) + int(w[4])) << constBits
		tmp1 := (int(w[0]) - int(w[4])) << constBits

		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2

		t0 := int(w[7])
		t1 := int(w[5])
		t2 := int(w[3])
		t3 := int(w[1])

		z1 = t0 + t3
		z2 = t1 + t2
		z3 = t0 + t2
		z4 := t1 + t3
		z5 := (z3 + z4) * fix1_175875602

		t0 *= fix0_298631336
		t1 *= fix2_053119869
		t2 *= fix3_072711026
		t3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 *= -fix1_961570560
		z4 *= -fix0_390180644

		z3 += z5
		z4 += z5

		t0 += z1 + z3
		t1 += z2 + z4
		t2 += z2 + z3
		t3 += z1 + z4

		const sh = constBits + pass1Bits + 3
		const rnd = 1 << (sh - 1)
		out[0] = idctRangeLimit[((tmp10+t3+rnd)>>sh)&1023]
		out[7] = idctRangeLimit[((tmp10-t3+rnd)>>sh)&1023]
		out[1] = idctRangeLimit[((tmp11+t2+rnd)>>sh)&1023]
		out[6] = idctRangeLimit[((tmp11-t2+rnd)>>sh)&1023]
		out[2] = idctRangeLimit[((tmp12+t1+rnd)>>sh)&1023]
		out[5] = idctRangeLimit[((tmp12-t1+rnd)>>sh)&1023]
		out[3] = idctRangeLimit[((tmp13+t0+rnd)>>sh)&1023]
		out[4] = idctRangeLimit[((tmp13-t0+rnd)>>sh)&1023]
	}
}
