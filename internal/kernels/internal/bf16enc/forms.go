package bf16enc

// Forms are the instructions the kernels' assembly uses, the contents of bf16_amd64.h:
//
//   - the one-instruction probes the tests hold to the pure-Go reference
//     (bf16probe_amd64.s): VDPBF16PS Z0, Z1, Z2 and VCVTNE2PS2BF16 Z0, Z1, Z2;
//   - the bf16 peak loop (peak_bf16_amd64.s): VDPBF16PS Zi, Z30, Z31 for the 16
//     accumulators Z0–Z15;
//   - the 8×32 GEMM micro-kernel (gemm_bf16_amd64.s), two k-pairs per step: for row i
//     (0–7), column half j (0–1) and step pair u (0–1), VDPBF16PS Z(2i+j), Z(16+2u+j),
//     [SI + 32u + 4i]{1to16}: the accumulator of row i and columns 16j…16j+15, the weight
//     panel's 16 columns × one k-pair, and row i's bf16 pair broadcast from the packed
//     activations (8 pairs per k-pair, SI advancing 64 bytes per step);
//   - the one-row kernel's second k-pair of a step (gemvBF16Dot), its activations one row's
//     pairs back to back: VDPBF16PS Zj, Z(18+j), [SI + 4]{1to16} for j 0–1 (the first k-pair
//     is the micro-kernel's [SI + 0] form);
//   - the activation packer (pack_bf16_amd64.s): VCVTNEPS2BF16 Yr, Z(16+r) for r 0–7.
func Forms() []Inst {
	s := []Inst{
		{Op: VDPBF16PS, Dst: 0, Src1: 1, Src2: 2},
		{Op: VCVTNE2PS2BF16, Dst: 0, Src1: 1, Src2: 2},
	}
	for i := range 16 {
		s = append(s, Inst{Op: VDPBF16PS, Dst: i, Src1: 30, Src2: 31})
	}
	for u := range 2 {
		for i := range 8 {
			for j := range 2 {
				s = append(s, Inst{Op: VDPBF16PS, Dst: 2*i + j, Src1: 16 + 2*u + j, Mem: true, Base: 6, Disp: int32(32*u + 4*i), Bcst: true})
			}
		}
	}
	for j := range 2 {
		s = append(s, Inst{Op: VDPBF16PS, Dst: j, Src1: 18 + j, Mem: true, Base: 6, Disp: 4, Bcst: true})
	}
	for r := range 8 {
		s = append(s, Inst{Op: VCVTNEPS2BF16, Dst: r, Src2: 16 + r})
	}
	return s
}
