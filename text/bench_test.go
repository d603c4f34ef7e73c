package text

import (
	"context"
	"testing"
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
	m := benchModel(b)
	ids := make([]int32, 128)
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
