package kernels

import "fmt"

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
	w       []float32 // [Out, In], row-major (PyTorch's nn.Linear layout); nil when fast != nil
	bias    []float32 // [Out], or nil; nil when fast != nil (fast keeps its own copy)
}

// NewLinear takes W [out, in] row-major (PyTorch's layout) and an optional bias [out]. Whether
// the slices are retained or copied into a packed layout depends on the CPU (see Linear); either
// way the caller must not modify them while the Linear is in use.
func NewLinear(w, bias []float32, out, in int) (*Linear, error) {
	if out <= 0 || in <= 0 {
		return nil, fmt.Errorf("kernels: linear shape [%d, %d] is not positive", out, in)
	}
	if len(w) != out*in {
		return nil, fmt.Errorf("kernels: linear weight has %d values, want %d×%d = %d", len(w), out, in, out*in)
	}
	if bias != nil && len(bias) != out {
		return nil, fmt.Errorf("kernels: linear bias has %d values, want %d", len(bias), out)
	}
	if fast := newFastPath(w, bias, out, in); fast != nil {
		return &Linear{In: in, Out: out, fast: fast}, nil
	}
	return &Linear{In: in, Out: out, w: w, bias: bias}, nil
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
	gemmNT(dst, x, l.w, l.bias, m, l.Out, l.In, threads, false)
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
	gemmNT(dst, x, l.w, l.bias, m, l.Out, l.In, threads, true)
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
