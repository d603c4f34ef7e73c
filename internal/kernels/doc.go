// Package kernels holds the numeric kernels of the vision tower: matrix multiplication against
// pre-arranged weights, layer normalisation, activations, rotary embedding and attention over
// segments. It knows nothing of the model: every function takes plain float32 slices, row-major,
// with the shapes stated in its doc comment.
//
// Each fast kernel has a slow, obviously correct reference beside it (the functions whose names
// end in Ref: MatMulNTRef, AttentionRef, LayerNormRef, GELUTanhRef, RotaryRef), and the tests
// compare the two.
//
// On amd64 CPUs with AVX2 and FMA (checked at run time) the hot loops are Go assembly:
// Linear.Forward's 6×16 micro-kernel and activation packing (gemm_amd64.s, pack_amd64.s), the
// attention's score, softmax and P·V micro-kernels (attention_amd64.s), a vectorised exp2
// (exp2_amd64.h, exp2_amd64.s) behind the softmax and GELUTanh (act_amd64.s), and LayerNorm's
// rows and Rotary's (norm_amd64.s, rotary_amd64.s). Each has a portable Go counterpart (gemmNT
// for the whole multiplication, a Go twin of the same steps for the others), which the build tag
// purego, any other GOARCH or a CPU without AVX2/FMA selects, and which the tests also run on
// amd64.
package kernels
