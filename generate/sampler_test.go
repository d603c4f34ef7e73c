package generate

import (
	"math"
	"testing"
)

// chiSquare returns Pearson's statistic of counts against probs (n draws), over the
// ids with a positive probability; it also reports draws of zero-probability ids.
func chiSquare(counts []int, probs []float32, n int) (stat float64, bins int, impossible int) {
	for i, q := range probs {
		if q == 0 {
			impossible += counts[i]
			continue
		}
		e := float64(q) * float64(n)
		d := float64(counts[i]) - e
		stat += d * d / e
		bins++
	}
	return stat, bins, impossible
}

// knownRow is a processed row: ten tokens with given probabilities, the rest removed.
func knownRow(vocab int) []float32 {
	row := make([]float32, vocab)
	for i := range row {
		row[i] = float32(math.Inf(-1))
	}
	for i, p := range []float64{0.3, 0.2, 0.15, 0.1, 0.08, 0.07, 0.05, 0.03, 0.015, 0.005} {
		row[7+37*i] = float32(math.Log(p))
	}
	return row
}

// TestSamplerChiSquare draws 200,000 samples with a fixed seed and checks the frequencies
// with a chi-square test at the 0.001 level (critical value 27.877 for 9 degrees of
// freedom); deterministic given the seed. It also checks that the same test rejects a
// sampler drawing from another distribution, so the test can fail.
func TestSamplerChiSquare(t *testing.T) {
	const vocab, n, critical = 1000, 200000, 27.877
	row := knownRow(vocab)
	probs := Softmax(row)
	cfg := DefaultConfig()
	cfg.DoSample, cfg.Seed = true, 42
	s := NewSampler(cfg, vocab)
	counts := make([]int, vocab)
	for range n {
		id, err := s.Next(row)
		if err != nil {
			t.Fatal(err)
		}
		counts[id]++
	}
	stat, bins, impossible := chiSquare(counts, probs, n)
	t.Logf("chi-square %.2f over %d bins (critical %.3f)", stat, bins, critical)
	if bins != 10 || impossible != 0 || stat > critical {
		t.Errorf("chi-square %.2f over %d bins, %d impossible draws", stat, bins, impossible)
	}
	// The same counts against a distorted distribution (temperature 0.9) are rejected.
	distorted := make([]float32, vocab)
	for i, x := range row {
		distorted[i] = x / 0.9
	}
	if stat2, _, _ := chiSquare(counts, Softmax(distorted), n); stat2 <= critical {
		t.Errorf("a distorted distribution passes: %.2f", stat2)
	}
}

func TestSamplerSeed(t *testing.T) {
	row := knownRow(1000)
	draw := func(seed uint64) []int32 {
		cfg := DefaultConfig()
		cfg.DoSample, cfg.Seed = true, seed
		s := NewSampler(cfg, len(row))
		var out []int32
		for range 50 {
			id, err := s.Next(row)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	a, b, c := draw(1), draw(1), draw(2)
	same := func(x, y []int32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) || same(a, c) {
		t.Errorf("seed 1 twice: %v / %v; seed 2: %v", a, b, c)
	}
}

func TestArgmax(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, c := range []struct {
		x    []float32
		want int32
	}{
		{[]float32{1, 3, 3, 2}, 1},
		{[]float32{-inf, -inf}, 0},
		{[]float32{5}, 0},
		{[]float32{1, inf, inf}, 1},
		{[]float32{1, nan, 9, nan}, 1},
		{[]float32{nan, 9}, 0},
		{nil, 0},
	} {
		if got := Argmax(c.x); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.x, got, c.want)
		}
	}
}

func TestSamplerErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DoSample = true
	s := NewSampler(cfg, 3)
	inf := float32(math.Inf(-1))
	for _, row := range [][]float32{{inf, inf, inf}, {1, float32(math.NaN()), 2}, {1, 2}, nil} {
		if _, err := s.Next(row); err == nil {
			t.Errorf("Next(%v): no error", row)
		}
	}
}

func TestProcessorsNoAlloc(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DoSample, cfg.TopK, cfg.TopP, cfg.MinP, cfg.Temperature = true, 20, 0.8, 0.05, 0.7
	cfg.RepetitionPenalty, cfg.PresencePenalty, cfg.FrequencyPenalty = 1.05, 0.5, 0.1
	const vocab = 5000
	p, err := NewProcessors(cfg, vocab)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSampler(cfg, vocab)
	row := make([]float32, vocab)
	ids := []int32{1, 2, 3, 2, 9, 4000}
	allocs := testing.AllocsPerRun(20, func() {
		for i := range row {
			row[i] = float32(i%97) / 10
		}
		if err := p.Apply(row, ids, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Next(row); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per step", allocs)
	}
}
