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
// "model.language_model.embed_tokens.weight" → u; every other (2-D) weight → u·float32(1/√fan_in),
// fan_in = shape[1]; a tied lm_head is embed_tokens, not drawn separately; u the package synth
// stream of (seed, name).
func Random(cfg Config, seed uint64, opts Options) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	src := &syntheticSource{seed: seed, shapes: map[string][]int{}}
	for _, t := range cfg.Tensors() {
		src.shapes[t.Name] = t.Shape
	}
	m, err := build(cfg, src, opts)
	if err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	return m, nil
}

// SyntheticScale returns the scale and offset the synthetic-weight rules give a tensor.
func SyntheticScale(name string, shape []int) (scale, offset float32) {
	switch {
	case len(shape) == 1 && strings.HasSuffix(name, "norm.weight"):
		return 0.1, 1
	case name == Prefix+"embed_tokens.weight":
		return 1, 0
	}
	return float32(1 / math.Sqrt(float64(shape[len(shape)-1]))), 0
}

type syntheticSource struct {
	seed   uint64
	shapes map[string][]int
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
	scale, offset := SyntheticScale(name, shape)
	v := make([]float32, numel(shape))
	synth.Fill(v, s.seed, name, scale, offset)
	return v, nil
}
