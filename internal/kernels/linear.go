package kernels

import (
	"fmt"
	"sync"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// Linear is a fully connected layer y = x·Wᵀ + b with its weights held in the layout the
// multiplication kernel wants. It is built once at load time and is read-only afterwards, so one
// Linear may be used by many goroutines at once.
//
// Exactly one layout of W is kept: on amd64 with AVX2 and FMA (and without the purego build tag)
// the weights are copied into the micro-kernel's panels (see pack.go) and W itself is not
// retained; elsewhere W and bias are retained as given and the portable gemmNT is used.
type Linear struct {
	In, Out int
	fast    fastPath  // packed weights for the assembly kernel, or nil
	w       []float32 // [Out, In], row-major (PyTorch's nn.Linear layout); nil when fast != nil or bf16
	w16     []uint16  // [Out, In] as bfloat16 bits, for a bf16 Linear on the portable path
	bias    []float32 // [Out], or nil; nil when fast != nil (fast keeps its own copy)
}

// NewLinear takes W [out, in] row-major (PyTorch's layout) and an optional bias [out]. Whether
// the slices are retained or copied into a packed layout depends on the CPU (see Linear); either
// way the caller must not modify them while the Linear is in use.
func NewLinear(w, bias []float32, out, in int) (*Linear, error) {
	if err := validateLinear(len(w), bias, out, in); err != nil {
		return nil, err
	}
	if fast := newFastPath(w, bias, out, in); fast != nil {
		return &Linear{In: in, Out: out, fast: fast}, nil
	}
	return &Linear{In: in, Out: out, w: w, bias: bias}, nil
}

// validateLinear checks a weight of n values and an optional bias against the shape [out, in].
func validateLinear(n int, bias []float32, out, in int) error {
	if out <= 0 || in <= 0 {
		return fmt.Errorf("kernels: linear shape [%d, %d] is not positive", out, in)
	}
	if n != out*in {
		return fmt.Errorf("kernels: linear weight has %d values, want %d×%d = %d", n, out, in, out*in)
	}
	if bias != nil && len(bias) != out {
		return fmt.Errorf("kernels: linear bias has %d values, want %d", len(bias), out)
	}
	return nil
}

// NewLinearBF16 is NewLinear with W held in memory as bfloat16: half the resident weights of a
// float32 Linear. W is rounded to bfloat16 (to nearest, ties to even, NaN to 0x7FC0, as
// half.F32ToBF16 and PyTorch do) while it is packed, and the weights a computation needs
// are widened back to float32 (exactly) right before use: on the AVX2 path one weight
// micro-panel at a time into a per-goroutine scratch, on the portable path all of W per call.
// The arithmetic is otherwise that of NewLinear, so the result equals, bit for bit, that of the
// float32 Linear built from the bf16-rounded W. The bias stays float32. w is not retained.
func NewLinearBF16(w, bias []float32, out, in int) (*Linear, error) {
	if err := validateLinear(len(w), bias, out, in); err != nil {
		return nil, err
	}
	w16 := make([]uint16, len(w))
	for i, v := range w {
		w16[i] = half.F32ToBF16(v)
	}
	return newLinearBF16(w16, bias, out, in), nil
}

// NewLinearBF16Bits is NewLinearBF16 for weights that are bfloat16 already: w holds W [out, in]
// as bfloat16 bits (a bf16 checkpoint's tensor, say), used as they are. On the AVX2 path w is
// copied into the packed layout and not retained; elsewhere it is retained.
func NewLinearBF16Bits(w []uint16, bias []float32, out, in int) (*Linear, error) {
	if err := validateLinear(len(w), bias, out, in); err != nil {
		return nil, err
	}
	return newLinearBF16(w, bias, out, in), nil
}

func newLinearBF16(w16 []uint16, bias []float32, out, in int) *Linear {
	if fast := newFastPathBF16(w16, bias, out, in); fast != nil {
		return &Linear{In: in, Out: out, fast: fast}
	}
	return &Linear{In: in, Out: out, w16: w16, bias: bias}
}

// wideBufs recycles the float32 copies of W that a portable-path bf16 Linear makes per call.
var wideBufs sync.Pool

// portable runs the portable gemmNT, widening a bf16 W to float32 first.
func (l *Linear) portable(dst, x []float32, m, threads int, add bool) {
	if l.w16 == nil {
		gemmNT(dst, x, l.w, l.bias, m, l.Out, l.In, threads, add)
		return
	}
	var w []float32
	bp, _ := wideBufs.Get().(*[]float32)
	if bp != nil && cap(*bp) >= len(l.w16) {
		w = (*bp)[:len(l.w16)]
	} else {
		w = make([]float32, len(l.w16))
		bp = &w
	}
	for i, b := range l.w16 {
		w[i] = half.BF16ToF32(b)
	}
	gemmNT(dst, x, w, l.bias, m, l.Out, l.In, threads, add)
	*bp = w
	wideBufs.Put(bp)
}

// Forward computes dst[m, Out] = x[m, In]·Wᵀ + bias using up to threads goroutines.
// dst must not alias x.
func (l *Linear) Forward(dst, x []float32, m, threads int) {
	if len(x) < m*l.In || len(dst) < m*l.Out {
		panic(fmt.Sprintf("kernels: Linear.Forward buffers too small: x %d < %d or dst %d < %d", len(x), m*l.In, len(dst), m*l.Out))
	}
	if m <= 0 {
		return
	}
	if l.fast != nil {
		l.fast.forward(dst, x, m, l.Out, l.In, threads, false)
		return
	}
	l.portable(dst, x, m, threads, false)
}

// ForwardAdd computes dst[m, Out] += x[m, In]·Wᵀ + bias using up to threads goroutines: a
// residual connection fused into the multiplication (the sum and the bias are added to dst
// as each output tile is stored, so dst is read and written once). dst must not alias x.
func (l *Linear) ForwardAdd(dst, x []float32, m, threads int) {
	if len(x) < m*l.In || len(dst) < m*l.Out {
		panic(fmt.Sprintf("kernels: Linear.ForwardAdd buffers too small: x %d < %d or dst %d < %d", len(x), m*l.In, len(dst), m*l.Out))
	}
	if m <= 0 {
		return
	}
	if l.fast != nil {
		l.fast.forward(dst, x, m, l.Out, l.In, threads, true)
		return
	}
	l.portable(dst, x, m, threads, true)
}

// FLOPs is the floating-point work of Forward on m rows (a multiply-add counts as two).
func (l *Linear) FLOPs(m int) int64 { return 2 * int64(m) * int64(l.In) * int64(l.Out) }

// MatMulNTRef is the reference for Linear.Forward: dst[m,n] = a[m,k]·b[n,k]ᵀ + bias[n]
// (bias may be nil), accumulating each dot product in float64.
func MatMulNTRef(dst, a, b, bias []float32, m, n, k int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(b[j*k+p])
			}
			if bias != nil {
				s += float64(bias[j])
			}
			dst[i*n+j] = float32(s)
		}
	}
}
