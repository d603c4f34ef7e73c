package generate

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkApplyQwen: one step's processors over Qwen3-VL's 151,936 logits with the
// Instruct settings (top_k 20, top_p 0.8, temperature 0.7, repetition_penalty 1.05), and the
// draw.
func BenchmarkApplyQwen(b *testing.B) {
	const vocab = 151936
	r := rand.New(rand.NewPCG(1, 1))
	base := make([]float32, vocab)
	for i := range base {
		base[i] = float32(r.NormFloat64() * 3)
	}
	ids := make([]int32, 1000)
	for i := range ids {
		ids[i] = int32(r.IntN(vocab))
	}
	cfg := DefaultConfig()
	cfg.DoSample, cfg.TopK, cfg.TopP, cfg.Temperature, cfg.RepetitionPenalty = true, 20, 0.8, 0.7, 1.05
	p, _ := NewProcessors(cfg, vocab)
	s := NewSampler(cfg, vocab)
	row := make([]float32, vocab)
	b.ReportAllocs()
	for b.Loop() {
		copy(row, base)
		if err := p.Apply(row, ids, 900); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Next(row); err != nil {
			b.Fatal(err)
		}
	}
}
