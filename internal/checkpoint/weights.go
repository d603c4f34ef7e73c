package checkpoint

import "fmt"

// Weights says how a model holds the weights of its Linears (and, in the text decoder, the
// embedding table) in memory. Norm parameters, biases and position tables are float32 in every
// mode.
type Weights int

const (
	// WeightsAuto is WeightsBF16 when every tensor the model reads is stored as bfloat16 (as in
	// the released checkpoints: nothing is lost then), and WeightsF32 otherwise.
	WeightsAuto Weights = iota
	// WeightsF32 converts the weights to float32 once, at load.
	WeightsF32
	// WeightsBF16 keeps the weights as bfloat16, widened to float32 a micro-panel at a time
	// while multiplying: half the resident weights, at about the same speed. Weights are
	// rounded to bfloat16 (to nearest, ties to even), which leaves a bf16 checkpoint's values
	// unchanged, so its outputs are then the same, bit for bit, as with WeightsF32.
	WeightsBF16
)

// String returns "auto", "f32" or "bf16".
func (w Weights) String() string {
	switch w {
	case WeightsAuto:
		return "auto"
	case WeightsF32:
		return "f32"
	case WeightsBF16:
		return "bf16"
	}
	return fmt.Sprintf("Weights(%d)", int(w))
}

// ParseWeights parses "auto", "f32" or "bf16" (the names String returns).
func ParseWeights(s string) (Weights, error) {
	for _, w := range []Weights{WeightsAuto, WeightsF32, WeightsBF16} {
		if s == w.String() {
			return w, nil
		}
	}
	return 0, fmt.Errorf("weights %q: want auto, f32 or bf16", s)
}
