package generate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Sampler picks the next id from a processed logits row: the argmax when greedy, else a
// draw from the softmax of the row. It owns its scratch and generator; not safe for
// concurrent use.
type Sampler struct {
	greedy bool
	rng    *rand.Rand
	probs  []float32
}

// NewSampler returns the sampler of cfg (greedy per Config.Greedy) for rows of vocab
// logits. The generator is a PCG seeded from cfg.Seed: a seed gives the same draws from
// run to run, not the draws torch.multinomial would make.
func NewSampler(cfg Config, vocab int) *Sampler {
	return &Sampler{greedy: cfg.Greedy(), rng: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		probs: make([]float32, vocab)}
}

// Next returns the chosen id. Greedy is torch.argmax: the first (lowest) id among equal
// maxima, a NaN counting as the maximum. Sampling fails on a row with no finite logit
// (torch.multinomial refuses it too).
func (s *Sampler) Next(logits []float32) (int32, error) {
	if len(logits) == 0 {
		return 0, errors.New("generate: sampler: empty logits row")
	}
	if s.greedy {
		return Argmax(logits), nil
	}
	if len(logits) != len(s.probs) {
		return 0, fmt.Errorf("generate: sampler: %d logits for a vocabulary of %d", len(logits), len(s.probs))
	}
	p := s.probs
	softmax(p, logits)
	var total float64
	for _, q := range p {
		if !(q >= 0) || math.IsInf(float64(q), 1) {
			return 0, errors.New("generate: sampler: the logits give no probability distribution (no finite logit, or NaN)")
		}
		total += float64(q)
	}
	if total <= 0 {
		return 0, errors.New("generate: sampler: every probability is 0")
	}
	u := s.rng.Float64() * total
	var cum float64
	last := -1
	for i, q := range p {
		if q == 0 {
			continue
		}
		cum += float64(q)
		last = i
		if u < cum {
			return int32(i), nil
		}
	}
	return int32(last), nil // u rounded past the last positive probability
}

// Argmax returns the index of the largest value, the first among equals (torch.argmax);
// a NaN counts as larger than any number. It returns 0 for an empty row.
func Argmax(x []float32) int32 {
	best := 0
	for i := 1; i < len(x); i++ {
		b := x[best]
		if b != b {
			break
		}
		if v := x[i]; v > b || v != v {
			best = i
		}
	}
	return int32(best)
}
