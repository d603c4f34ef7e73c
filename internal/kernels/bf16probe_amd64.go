//go:build amd64 && !purego

package kernels

// dpbf16Probe and cvtne2Probe run one VDPBF16PS and one VCVTNE2PS2BF16 on ZMM registers
// (bf16probe_amd64.s), for the tests to hold the instructions to the pure-Go reference. Call
// them only where BF16().AVX512BF16.
//
//go:noescape
func dpbf16Probe(acc *[16]float32, a, b *[32]uint16)

//go:noescape
func cvtne2Probe(dst *[32]uint16, lo, hi *[16]float32)
