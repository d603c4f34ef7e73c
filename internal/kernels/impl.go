package kernels

// Implementation names the matrix-multiplication kernel Linear uses on this machine and build:
// "avx2-fma" (the assembly path) or "portable" (pure Go).
func Implementation() string {
	if newFastPath(make([]float32, 1), nil, 1, 1) != nil {
		return "avx2-fma"
	}
	return "portable"
}
