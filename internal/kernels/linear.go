package kernels

import (
	"context"
	"fmt"

	"github.com/qwen3vl/qwen3vl/internal/half"
)

// Linear is a fully connected layer y = x·Wᵀ + b with its weights held in the layout the
// multiplication kernel wants. It is built once at load time and is read-only afterwards, so one
// Linear may be used by many goroutines at once.
//
// Exactly one layout of W is kept, the one of the implementation chosen at start (see Name): in
// avx2+fma the weights are copied into the micro-kernel's panels (see pack.go) and W itself is
// not retained; in generic W and bias are retained as given, for the portable gemmNT.
type Linear struct {
	In, Out int
	g       gemm // W (and the bias) in the layout of the implementation that built it
}

// NewLinear takes W [out, in] row-major (PyTorch's layout) and an optional bias [out]. Whether
// the slices are retained or copied into a packed layout depends on the implementation (see
// Linear); either way the caller must not modify them while the Linear is in use.
func NewLinear(w, bias []float32, out, in int) (*Linear, error) {
	return newLinear(active, w, bias, out, in)
}

// newLinear is NewLinear with the implementation im.
func newLinear(im *impl, w, bias []float32, out, in int) (*Linear, error) {
	if err := validateLinear(len(w), bias, out, in); err != nil {
		return nil, err
	}
	return &Linear{In: in, Out: out, g: im.newGEMM(w, bias, out, in)}, nil
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
// are widened back to float32 (exactly) right before use: in avx2+fma one weight micro-panel at
// a time into a per-goroutine scratch, in generic all of W per call; for calls of at most a few
// rows (gemv.go), in registers (avx2+fma) or value by value (generic) as they are read.
// The arithmetic is otherwise that of NewLinear, so the result equals, bit for bit, that of the
// float32 Linear built from the bf16-rounded W. The bias stays float32. w is not retained.
func NewLinearBF16(w, bias []float32, out, in int) (*Linear, error) {
	if err := validateLinear(len(w), bias, out, in); err != nil {
		return nil, err
	}
	return newLinearBF16Bits(active, half.F32sToBF16(w), bias, out, in)
}

// NewLinearBF16Bits is NewLinearBF16 for weights that are bfloat16 already: w holds W [out, in]
// as bfloat16 bits (a bf16 checkpoint's tensor, say), used as they are. In avx2+fma w is copied
// into the packed layout and not retained; in generic it is retained.
func NewLinearBF16Bits(w []uint16, bias []float32, out, in int) (*Linear, error) {
	return newLinearBF16Bits(active, w, bias, out, in)
}

// newLinearBF16Bits is NewLinearBF16Bits with the implementation im.
func newLinearBF16Bits(im *impl, w []uint16, bias []float32, out, in int) (*Linear, error) {
	if err := validateLinear(len(w), bias, out, in); err != nil {
		return nil, err
	}
	return &Linear{In: in, Out: out, g: im.newGEMMBF16(w, bias, out, in)}, nil
}

// Forward computes dst[m, Out] = x[m, In]·Wᵀ + bias using up to threads goroutines.
// dst must not alias x.
func (l *Linear) Forward(dst, x []float32, m, threads int) {
	_ = l.run(context.Background(), "Forward", dst, x, m, threads, false)
}

// ForwardAdd computes dst[m, Out] += x[m, In]·Wᵀ + bias using up to threads goroutines: a
// residual connection fused into the multiplication (the sum and the bias are added to dst
// as each output tile is stored, so dst is read and written once). dst must not alias x.
func (l *Linear) ForwardAdd(dst, x []float32, m, threads int) {
	_ = l.run(context.Background(), "ForwardAdd", dst, x, m, threads, true)
}

// ForwardContext is Forward, stopped when ctx is done: the multiplication runs as small tasks
// (a row block × a chunk of output columns, or for a few rows a chunk of output columns; at
// most a few tens of milliseconds each), and once
// ctx is done no further task starts. It then returns ctx.Err() when the running tasks have
// finished, and dst is partly computed. A ctx done before the call does no work.
func (l *Linear) ForwardContext(ctx context.Context, dst, x []float32, m, threads int) error {
	return l.run(ctx, "ForwardContext", dst, x, m, threads, false)
}

// ForwardAddContext is ForwardAdd, stopped when ctx is done as ForwardContext is (dst then
// holds some outputs with the product added and the others as they were).
func (l *Linear) ForwardAddContext(ctx context.Context, dst, x []float32, m, threads int) error {
	return l.run(ctx, "ForwardAddContext", dst, x, m, threads, true)
}

func (l *Linear) run(ctx context.Context, name string, dst, x []float32, m, threads int, add bool) error {
	if len(x) < m*l.In || len(dst) < m*l.Out {
		panic(fmt.Sprintf("kernels: Linear.%s buffers too small: x %d < %d or dst %d < %d", name, len(x), m*l.In, len(dst), m*l.Out))
	}
	if m <= 0 {
		return nil
	}
	if l.g.forward(dst, x, m, threads, add, ctx.Done()) {
		return nil
	}
	return ctx.Err() // not nil: a task was skipped because ctx.Done() is closed
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
