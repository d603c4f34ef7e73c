//go:build amd64 && !purego

package kernels

// gemvKernelSets returns the names of the GEMV kernel sets g can run on this machine and a
// function that makes g run the i-th: for the avx2+fma implementation "avx2", then "avx512"
// when the CPU has it (packedLinear.zmm); for the others one set, "".
func gemvKernelSets(g gemm) ([]string, func(i int)) {
	p, ok := g.(*packedLinear)
	if !ok {
		return []string{""}, func(int) {}
	}
	names := []string{"avx2"}
	if gemvAVX512 {
		names = append(names, "avx512")
	}
	return names, func(i int) { p.zmm = names[i] == "avx512" }
}
