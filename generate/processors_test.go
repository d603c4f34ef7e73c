package generate

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var ninf = float32(math.Inf(-1))

// TestPresenceFrequency checks the OpenAI / vLLM penalties by hand: only generated ids
// count, logit -= frequency·count + presence.
func TestPresenceFrequency(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PresencePenalty, cfg.FrequencyPenalty = 0.5, 0.25
	p, err := NewProcessors(cfg, 6)
	if err != nil {
		t.Fatal(err)
	}
	row := []float32{1, 1, 1, 1, 1, 1}
	// prompt 0 1, generated 1 3 3 3 9(out of vocab) -1
	if err := p.Apply(row, []int32{0, 1, 1, 3, 3, 3, 9, -1}, 2); err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 1 - 0.25 - 0.5, 1, 1 - 0.75 - 0.5, 1, 1}
	if !slices.Equal(row, want) {
		t.Errorf("%v, want %v", row, want)
	}
	// counts are reset between calls
	row = []float32{1, 1, 1, 1, 1, 1}
	if err := p.Apply(row, []int32{5}, 0); err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 1, 1, 1, 1, 0.25}; !slices.Equal(row, want) {
		t.Errorf("second call %v, want %v", row, want)
	}
}

// TestRepetitionTable: each distinct id once, prompt included, ids past the vocabulary
// ignored; the sign rule; and the processors a greedy config skips.
func TestRepetitionTable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RepetitionPenalty = 2
	cfg.TopK, cfg.TopP, cfg.Temperature = 1, 0.1, 0.5 // ignored: greedy
	p, err := NewProcessors(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	row := []float32{4, -4, 3, ninf, 0}
	if err := p.Apply(row, []int32{0, 0, 0, 1, 3, 7, 4}, 3); err != nil {
		t.Fatal(err)
	}
	if want := []float32{2, -8, 3, ninf, 0}; !slices.Equal(row, want) {
		t.Errorf("%v, want %v", row, want)
	}
	for i := 0; i < 3; i++ { // the stamps are per call
		row = []float32{4, -4, 3, ninf, 0}
		if err := p.Apply(row, []int32{0}, 1); err != nil {
			t.Fatal(err)
		}
		if row[0] != 2 {
			t.Errorf("call %d: %v", i, row)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	p, err := NewProcessors(DefaultConfig(), 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(make([]float32, 3), nil, 0); err == nil {
		t.Error("short row accepted")
	}
	if err := p.Apply(make([]float32, 4), []int32{1}, 2); err == nil {
		t.Error("prompt longer than ids accepted")
	}
	if _, err := NewProcessors(DefaultConfig(), 0); err == nil {
		t.Error("vocabulary 0 accepted")
	}
	bad := DefaultConfig()
	bad.Temperature = -1
	if _, err := NewProcessors(bad, 4); err == nil {
		t.Error("temperature -1 accepted")
	}
}

// TestTopKTopPTies: the boundary cases by hand (the goldens hold HF's own).
func TestTopKTopPTies(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DoSample, cfg.TopK = true, 2
	p, _ := NewProcessors(cfg, 6)
	row := []float32{1, 3, 2, 2, ninf, 2}
	_ = p.Apply(row, nil, 0)
	if want := []float32{ninf, 3, 2, 2, ninf, 2}; !slices.Equal(row, want) {
		t.Errorf("top-k 2: %v, want %v (ties with the 2nd kept)", row, want)
	}
	cfg.TopK, cfg.TopP = 0, 0
	p, _ = NewProcessors(cfg, 4)
	row = []float32{5, 5, 1, 5}
	_ = p.Apply(row, nil, 0)
	// top_p 0 keeps the last of the ascending sort: for n < 16 an insertion sort, which is
	// stable, so the highest id among the tied maxima.
	if want := []float32{ninf, ninf, ninf, 5}; !slices.Equal(row, want) {
		t.Errorf("top-p 0: %v, want %v", row, want)
	}
}

// TestTopPFastExact: the fast top-p (finite logits only, exact sort at a straddling tie)
// removes the same ids as topPExact (torch's order over the whole row) on tie-heavy rows.
func TestTopPFastExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	exact := 0
	for trial := range 3000 {
		n := 2 + r.IntN(300)
		row := make([]float32, n)
		levels := 1 + r.IntN(12)
		for i := range row {
			row[i] = float32(r.IntN(levels)) * 0.5
			if r.IntN(10) == 0 {
				row[i] = ninf
			}
		}
		cfg := DefaultConfig()
		cfg.DoSample, cfg.TopK, cfg.TopP = true, 0, []float64{0, 0.1, 0.3, 0.5, 0.8, 0.95}[trial%6]
		p, _ := NewProcessors(cfg, n)
		fast, slow := slices.Clone(row), slices.Clone(row)
		p.topP(fast, cfg.TopP)
		p.topPExact(slow, cfg.TopP)
		if !slices.Equal(fast, slow) {
			t.Fatalf("trial %d (top_p %v): fast %v, exact %v, row %v", trial, cfg.TopP, fast, slow, row)
		}
		// count the rows where the order within a tie decided
		stable := slices.Clone(row)
		idx := make([]int32, 0, n)
		for i, x := range row {
			if x != ninf {
				idx = append(idx, int32(i))
			}
		}
		if len(idx) >= 2 {
			slices.SortStableFunc(idx, func(a, b int32) int { return cmp.Compare(row[a], row[b]) })
			e := make([]float32, len(idx))
			for j, i := range idx {
				e[j] = row[i]
			}
			softmax(e, e)
			for _, i := range idx[:cutTopP(e, float32(1-cfg.TopP))] {
				stable[i] = ninf
			}
			if !slices.Equal(stable, slow) {
				exact++
			}
		}
	}
	if exact == 0 {
		t.Error("no row where the tie order mattered: the test does not reach the exact path")
	}
	t.Logf("%d rows where a stable sort would differ", exact)
}
