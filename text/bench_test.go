package text

import (
	"context"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
)

// benchModel is the tiny preset's decoder (testdata/text/tiny's shape) with synthetic weights.
func benchModel(b *testing.B) *Model {
	cfg, _ := Preset("tiny")
	m, err := Random(cfg, 1, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkPrefill: a 128-token prompt, last-row logits.
func BenchmarkPrefill(b *testing.B) {
	m := benchModel(b)
	ids := make([]int32, 128)
	for i := range ids {
		ids[i] = int32(i * 7)
	}
	c, _ := m.NewCache(len(ids))
	ctx := context.Background()
	for b.Loop() {
		c.Reset()
		if _, err := m.Prefill(ctx, c, Input{IDs: ids}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ids))/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkDecode: one token after 128 cached.
func BenchmarkDecode(b *testing.B) {
	benchDecode(b, benchModel(b), make([]int32, 128))
}

// benchDecode times one decode step after the prompt ids are cached, reporting tokens/s.
func benchDecode(b *testing.B, m *Model, ids []int32) {
	c, _ := m.NewCache(len(ids) + 1)
	ctx := context.Background()
	if _, err := m.Prefill(ctx, c, Input{IDs: ids}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := c.Truncate(len(ids)); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Decode(ctx, c, 5, len(ids)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkDecode2B: one token after 32 cached, on the 2B decoder's shape with synthetic bf16
// weights (3.4 GB: every step streams them all from memory, as a real decode step does), in
// float32 and (where the CPU has AVX512_BF16) bf16 arithmetic. Building the model takes a while
// and needs about 4 GB; skipped with -short.
func BenchmarkDecode2B(b *testing.B) {
	for _, compute := range []Compute{ComputeF32, ComputeBF16} {
		b.Run("compute="+compute.String(), func(b *testing.B) {
			m := bench2B(b, compute)
			ids := make([]int32, 32)
			for i := range ids {
				ids[i] = int32(i * 7)
			}
			benchDecode(b, m, ids)
		})
	}
}

// bench2B builds the 2B decoder with synthetic bf16 weights in this arithmetic, or skips (with
// -short, or bf16 where the CPU or build lacks it).
func bench2B(b *testing.B, compute Compute) *Model {
	if testing.Short() {
		b.Skip("builds the 2B decoder")
	}
	if compute == ComputeBF16 && !kernels.BF16Dot() {
		b.Skipf("no AVX512_BF16 assembly here (bf16: %s)", kernels.BF16())
	}
	cfg, err := Preset("qwen3-vl-2b")
	if err != nil {
		b.Fatal(err)
	}
	m, err := Random(cfg, 1, Options{Weights: WeightsBF16, Compute: compute})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkPrefill2B: a 122-token prompt, last-row logits, on the 2B decoder's shape with
// synthetic bf16 weights, in float32 and bf16 arithmetic; reports GFLOP/s by FLOPs(cfg, 122,
// 0, 1), text's own accounting. Skipped with -short (see bench2B).
func BenchmarkPrefill2B(b *testing.B) {
	for _, compute := range []Compute{ComputeF32, ComputeBF16} {
		b.Run("compute="+compute.String(), func(b *testing.B) {
			m := bench2B(b, compute)
			ids := make([]int32, 122)
			for i := range ids {
				ids[i] = int32(i * 7)
			}
			c, _ := m.NewCache(len(ids))
			ctx := context.Background()
			for b.Loop() {
				c.Reset()
				if _, err := m.Prefill(ctx, c, Input{IDs: ids}); err != nil {
					b.Fatal(err)
				}
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N*len(ids))/sec, "tokens/s")
			b.ReportMetric(float64(b.N)*float64(FLOPs(m.Config(), len(ids), 0, 1))/sec/1e9, "GFLOP/s")
		})
	}
}
