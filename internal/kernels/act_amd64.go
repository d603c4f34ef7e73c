//go:build amd64 && !purego

package kernels

// geluTanhVec applies GELUTanh's formula to x[0:n] in place, n a multiple of 8 (act_amd64.s).
//
//go:noescape
func geluTanhVec(x *float32, n int)

// geluTanhAVX2 applies GELUTanh's formula to x: the assembly on whole groups of 8, Go on the rest.
func geluTanhAVX2(x []float32) {
	n := len(x) &^ 7
	if n > 0 {
		geluTanhVec(&x[0], n)
	}
	for i := n; i < len(x); i++ {
		x[i] = geluTanhGo(x[i])
	}
}
