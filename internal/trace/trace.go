// Package trace holds the one type of a named intermediate tensor that the vision tower's and
// the text decoder's forward passes hand to a trace function (vision.Trace and text.Trace are
// this type), and the emitting of it. Each model keeps its own WithTrace and context key, so
// that a trace of one never receives the other's tensors.
package trace

import "github.com/qwen3vl/qwen3vl/internal/matrix"

// Tensor is one named intermediate tensor of a forward pass.
type Tensor struct {
	// Layer is the index of the block or decoder layer the tensor belongs to, or -1 outside
	// them.
	Layer int
	// Name is the tensor's stable name within its layer ("attn", "mlp", …).
	Name string
	// Matrix is a read-only view of the tensor, valid only during the call: copy what must
	// outlive it.
	Matrix matrix.Matrix
}

// Func is a forward pass's trace function, nil when there is none.
type Func func(Tensor)

// Emit traces data as a [rows, cols] matrix of layer, if f is not nil (so that tracing costs
// one nil check per tensor when off).
func (f Func) Emit(layer int, name string, data []float32, rows, cols int) {
	if f == nil {
		return
	}
	n := rows * cols
	f(Tensor{Layer: layer, Name: name, Matrix: matrix.Matrix{Rows: rows, Cols: cols, Data: data[:n:n]}})
}
