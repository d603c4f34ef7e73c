package text

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/synth"
)

// Random returns a decoder of the given shape filled with deterministic synthetic weights drawn
// from seed, as float32 (unless opts asks for bf16). Its outputs mean nothing; it exists for
// dry runs, benchmarks and goldens, whose weights tools/reference generates identically.
//
// Rules, by full state_dict name (the synth stream's name): a 1-D "*norm.weight" (input and
// post-attention layernorms, q_norm, k_norm, the final norm) → 1 + 0.1·u;
// "model.language_model.embed_tokens.weight" → u; every other 2-D weight (an untied
// "lm_head.weight" and a sparse layer's router "mlp.gate.weight" among them) → u·float32(1/√fan_in),
// fan_in = shape[1]; a sparse layer's fused experts are drawn in the released checkpoints' layout
// [E, in, out] (TensorSpec.AltShape) → u·float32(1/√in) and transposed to [E, out, in]; a tied
// lm_head is embed_tokens, not drawn separately; u the package synth stream of (seed, name).
func Random(cfg Config, seed uint64, opts Options) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	m, err := build(cfg, newSyntheticSource(cfg, seed), opts)
	if err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	return m, nil
}

// SyntheticScale returns the scale and offset the synthetic-weight rules give a tensor of the
// given shape (a fused expert tensor's in the released layout [E, in, out]).
func SyntheticScale(name string, shape []int) (scale, offset float32) {
	switch {
	case len(shape) == 1 && strings.HasSuffix(name, "norm.weight"):
		return 0.1, 1
	case name == Prefix+"embed_tokens.weight":
		return 1, 0
	case len(shape) == 3: // experts [E, in, out]
		return float32(1 / math.Sqrt(float64(shape[1]))), 0
	}
	return float32(1 / math.Sqrt(float64(shape[len(shape)-1]))), 0
}

// newSyntheticSource serves the synthetic weights of every tensor cfg needs.
func newSyntheticSource(cfg Config, seed uint64) *syntheticSource {
	src := &syntheticSource{seed: seed, shapes: map[string][]int{}, drawn: map[string][]int{}}
	for _, t := range cfg.Tensors() {
		src.shapes[t.Name] = t.Shape
		if t.AltShape != nil {
			src.drawn[t.Name] = t.AltShape
		}
	}
	return src
}

type syntheticSource struct {
	seed   uint64
	shapes map[string][]int // the table's shapes (Shape)
	drawn  map[string][]int // the layout a tensor is drawn in, when not Shape (AltShape)
}

func (s *syntheticSource) shape(name string) ([]int, bool) {
	sh, ok := s.shapes[name]
	return sh, ok
}

// bf16 is false: synthetic weights are float32.
func (s *syntheticSource) bf16(string) bool { return false }

func (s *syntheticSource) bf16Bits(string) ([]uint16, error) {
	return nil, errors.New("synthetic weights are float32")
}

func (s *syntheticSource) float32s(name string) ([]float32, error) {
	shape := s.shapes[name]
	drawn, alt := s.drawn[name]
	if !alt {
		drawn = shape
	}
	scale, offset := SyntheticScale(name, drawn)
	v := make([]float32, numel(shape))
	synth.Fill(v, s.seed, name, scale, offset)
	if alt { // [E, in, out] drawn, [E, out, in] served
		e, in, out := drawn[0], drawn[1], drawn[2]
		t := make([]float32, len(v))
		for x := 0; x < e; x++ {
			for i := 0; i < in; i++ {
				for o := 0; o < out; o++ {
					t[(x*out+o)*in+i] = v[(x*in+i)*out+o]
				}
			}
		}
		v = t
	}
	return v, nil
}
