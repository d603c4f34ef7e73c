package vision

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/synth"
)

// Random returns a tower of the given shape filled with deterministic synthetic weights drawn
// from seed. Its features mean nothing; it exists for dry runs, benchmarks and the full-size
// goldens, whose weights tools/reference/synth.py generates identically.
//
// Rules, by canonical tensor name: "*.bias" → 0.02·u; a 1-D "*.weight" (LayerNorm) → 1 + 0.1·u;
// "pos_embed.weight" → u; any other weight → u/√fan_in, fan_in = product of shape[1:]; with u
// the package synth stream of (seed, name).
func Random(cfg Config, seed uint64, opts Options) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	m, err := build(cfg, newSyntheticSource(cfg, seed), opts)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	return m, nil
}

type syntheticSource struct {
	seed   uint64
	shapes map[string][]int
}

func newSyntheticSource(cfg Config, seed uint64) *syntheticSource {
	s := &syntheticSource{seed: seed, shapes: map[string][]int{}}
	for _, t := range cfg.Tensors() {
		s.shapes[t.Name] = t.Shape
	}
	return s
}

func (s *syntheticSource) shape(name string) ([]int, bool) {
	sh, ok := s.shapes[name]
	return sh, ok
}

func (s *syntheticSource) fullName(name string) string { return name }

// bf16 is false: synthetic weights are float32 (WeightsAuto keeps them so).
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

// SyntheticScale returns the scale and offset the synthetic-weight rules give a tensor.
func SyntheticScale(name string, shape []int) (scale, offset float32) {
	switch {
	case strings.HasSuffix(name, ".bias"):
		return 0.02, 0
	case name == "pos_embed.weight":
		return 1, 0
	case len(shape) == 1:
		return 0.1, 1
	}
	fanIn := numel(shape[1:])
	return float32(1 / math.Sqrt(float64(fanIn))), 0
}

// DefaultRandomSeed seeds "random:PRESET" specs that give no "@SEED".
const DefaultRandomSeed = 1

// ParseRandom parses a model spec of the form "random:PRESET[@SEED]" (synthetic weights of a
// preset's shape, see Random). ok is false, with no error, when spec has another form.
func ParseRandom(spec string) (cfg Config, seed uint64, ok bool, err error) {
	rest, ok := strings.CutPrefix(spec, "random:")
	if !ok {
		return Config{}, 0, false, nil
	}
	name, seedText, hasSeed := strings.Cut(rest, "@")
	seed = DefaultRandomSeed
	if hasSeed {
		if seed, err = strconv.ParseUint(seedText, 10, 64); err != nil {
			return Config{}, 0, true, fmt.Errorf("vision: %s: seed %q is not a non-negative integer", spec, seedText)
		}
	}
	cfg, err = Preset(name)
	return cfg, seed, true, err
}
