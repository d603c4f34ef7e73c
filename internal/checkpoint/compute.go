package checkpoint

import (
	"errors"
	"fmt"
)

// Compute says in which arithmetic a model multiplies (its Linears and attention's two
// products); norms, activations, softmax, rotary and residuals are float32 in every mode.
type Compute int

const (
	// ComputeF32, the zero value and the default, multiplies in float32: the outputs that are
	// held to the reference at float32's precision.
	ComputeF32 Compute = iota
	// ComputeBF16 multiplies bfloat16 weights by activations rounded to bfloat16 (to nearest,
	// ties to even), accumulating in float32, with the CPU's bf16 dot-product instructions
	// (AVX512_BF16): about twice float32's speed, at about PyTorch bfloat16's error. The
	// weights are held as bfloat16.
	ComputeBF16
	// ComputeAuto is ComputeBF16 where the CPU and build have the instructions (where it is
	// measured faster), else ComputeF32.
	ComputeAuto
)

// String returns "f32", "bf16" or "auto".
func (c Compute) String() string {
	switch c {
	case ComputeF32:
		return "f32"
	case ComputeBF16:
		return "bf16"
	case ComputeAuto:
		return "auto"
	}
	return fmt.Sprintf("Compute(%d)", int(c))
}

// ParseCompute parses "f32", "bf16" or "auto" (the names String returns).
func ParseCompute(s string) (Compute, error) {
	for _, c := range []Compute{ComputeF32, ComputeBF16, ComputeAuto} {
		if s == c.String() {
			return c, nil
		}
	}
	return 0, fmt.Errorf("compute %q: want f32, bf16 or auto", s)
}

// ErrNoBF16 is ResolveCompute's error for bf16 arithmetic where the instructions are missing.
var ErrNoBF16 = errors.New("compute bf16 needs the CPU's AVX512_BF16 instructions and a build with assembly (not purego); use compute f32 (the default) or auto")

// ResolveCompute turns c into ComputeF32 or ComputeBF16, given whether this CPU and build
// have fast bf16 dot products (kernels.BF16Dot), and w into the weights that arithmetic
// multiplies: bf16 arithmetic holds the weights as bfloat16, so WeightsAuto becomes
// WeightsBF16 then and WeightsF32 is a contradiction. ComputeBF16 without the instructions
// is ErrNoBF16, never a silent fallback.
func ResolveCompute(c Compute, w Weights, haveBF16 bool) (Compute, Weights, error) {
	switch c {
	case ComputeF32:
		return c, w, nil
	case ComputeAuto:
		if !haveBF16 || w == WeightsF32 {
			return ComputeF32, w, nil
		}
		c = ComputeBF16
	case ComputeBF16:
		if !haveBF16 {
			return 0, 0, ErrNoBF16
		}
	default:
		return 0, 0, fmt.Errorf("unknown %v", c)
	}
	switch w {
	case WeightsAuto, WeightsBF16:
		return ComputeBF16, WeightsBF16, nil
	case WeightsF32:
		return 0, 0, errors.New("compute bf16 multiplies weights held as bfloat16: weights f32 contradicts it (use weights auto or bf16)")
	}
	return 0, 0, fmt.Errorf("unknown %v", w)
}
