// Package kernels holds the numeric kernels of the vision tower: matrix multiplication against
// pre-arranged weights, layer normalisation, activations, rotary embedding and attention over
// segments. It knows nothing of the model: every function takes plain float32 slices, row-major,
// with the shapes stated in its doc comment.
//
// Each fast kernel has a slow, obviously correct reference beside it (the functions whose names
// end in Ref), and the tests compare the two.
//
// Linear.Forward has an assembly path for amd64 CPUs with AVX2 and FMA (gemm_amd64.go, chosen at
// run time); the build tag purego, or any other GOARCH, builds only the portable Go code.
package kernels
